// Console sessions: a signed, HttpOnly, SameSite=Strict cookie naming the key's fingerprint (never
// the key), its role and expiry, plus a per-session token that every state-changing form carries;
// sign-out revokes the session on the server, so its cookie opens nothing afterwards.
import { Buffer } from "node:buffer";
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import type { SessionRevocations } from "../../domain/ports.ts";
import { type Caller, type KeyRing, OPEN_CALLER } from "../auth.ts";
import { ApiError, ApiErrorCode } from "../errors.ts";
import { createRevocationCheck } from "./revocation_check.ts";

/** The cookie's name; scoped to /console, so the API never sees it. */
export const SESSION_COOKIE = "ei_console";
/** The form field carrying the session's token. */
export const CSRF_FIELD = "_csrf";

/** How sessions are signed and how long they last. */
export interface SessionOptions {
  /** HMAC key of the cookie's signature and of the form tokens. */
  secret: string;
  /** Seconds a session lasts after sign-in. */
  ttlSeconds: number;
  /** Where signed-out sessions are kept until they expire (shared by every instance). */
  revocations: SessionRevocations;
}

/** A signed-in console user: who they are, and the token their forms must carry. */
export interface ConsoleSession extends Caller {
  csrfToken: string;
  /** Names the session in the revocation store: a SHA-256 of its nonce, never the nonce. */
  sessionId: string;
  /** When the session ends by itself, in milliseconds since the epoch. */
  expiresAt: number;
}

declare module "hono" {
  interface ContextVariableMap {
    /** Set by the console's session middleware; undefined when nobody is signed in. */
    session: ConsoleSession | undefined;
  }
}

/** Creates the session handling of the console. */
export function createSessions(keys: KeyRing, options: SessionOptions) {
  const tokenOf = (nonce: string) =>
    createHmac("sha256", options.secret).update(`csrf\0${nonce}`).digest("base64url");
  const secure = (c: Context) => new URL(c.req.url).protocol === "https:";
  const idOf = (nonce: string) => createHash("sha256").update(nonce).digest("base64url");
  const revocations = createRevocationCheck(options.revocations);

  /** Reads the cookie: a valid signature, not expired, and a key still configured with that role. */
  async function read(c: Context): Promise<ConsoleSession | undefined> {
    const value = await getSignedCookie(c, options.secret, SESSION_COOKIE);
    if (!value) return undefined;
    const [keyId, role, expires, nonce] = value.split(".");
    if (!nonce || Number(expires) * 1000 < Date.now()) return undefined;
    if (role !== "admin" && role !== "user") return undefined;
    // A key removed from the configuration ends its sessions; with no keys, anyone is admin.
    const current = keys.enabled ? keys.roleOfFingerprint(keyId) : OPEN_CALLER.role;
    if (current !== role) return undefined;
    const sessionId = idOf(nonce), expiresAt = Number(expires) * 1000;
    if (await revocations.isRevoked(sessionId, expiresAt)) return undefined;
    return {
      role,
      keyId: keys.enabled ? keyId : null,
      idScope: keys.enabled ? keys.idScopeOfFingerprint(keyId) ?? null : null,
      csrfToken: tokenOf(nonce),
      sessionId,
      expiresAt,
    };
  }

  /** Starts a session for a caller and sets its cookie. */
  async function start(c: Context, caller: Caller): Promise<ConsoleSession> {
    const nonce = randomBytes(18).toString("base64url");
    const expires = Math.floor(Date.now() / 1000) + options.ttlSeconds;
    await setSignedCookie(
      c,
      SESSION_COOKIE,
      [caller.keyId ?? "-", caller.role, expires, nonce].join("."),
      options.secret,
      {
        path: "/console",
        httpOnly: true,
        sameSite: "Strict",
        secure: secure(c),
        maxAge: options.ttlSeconds,
      },
    );
    return {
      ...caller,
      csrfToken: tokenOf(nonce),
      sessionId: idOf(nonce),
      expiresAt: expires * 1000,
    };
  }

  /** Ends the session: revoked on the server (a copy of the cookie opens nothing), cookie removed. */
  async function end(c: Context, session: ConsoleSession) {
    await revocations.revoke(session.sessionId, session.expiresAt);
    deleteCookie(c, SESSION_COOKIE, { path: "/console", secure: secure(c) });
  }

  /**
   * Puts the session on the context. With no keys configured (development) everyone gets an
   * admin session at once, so that forms still carry a token.
   */
  const middleware: MiddlewareHandler = async (c, next) => {
    let session = await read(c);
    if (!session && !keys.enabled) session = await start(c, OPEN_CALLER);
    c.set("session", session);
    await next();
  };

  return { read, start, end, middleware };
}

/** Throws 403 FORBIDDEN unless the form's token is the session's (compared in constant time). */
export function checkCsrf(session: ConsoleSession, sent: unknown) {
  const expected = Buffer.from(session.csrfToken);
  const given = Buffer.from(typeof sent === "string" ? sent : "");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ApiError(
      403,
      ApiErrorCode.FORBIDDEN,
      "The form's security token is missing or out of date; reload the page and try again",
    );
  }
}
