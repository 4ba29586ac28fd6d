// Bearer-key access control: user keys for /v1, admin keys for /admin, compared in constant time.
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { idScope } from "../domain/execution_id.ts";
import { ApiError, ApiErrorCode } from "./errors.ts";

const digest = (key: string) => createHash("sha256").update(key).digest();

/**
 * What identifies a key wherever it is kept (a batch's sender, a console session): 64 bits of a
 * SHA-256 of the key under a label of its own, so it is never the digest that keys are compared by.
 */
export function keyFingerprint(key: string): string {
  return createHash("sha256").update("execution-ingest key fingerprint\0").update(key).digest(
    "hex",
  ).slice(0, 16);
}

/** Who sent a request: the role of its key and the key's fingerprint (null with access control off). */
export interface Caller {
  role: "admin" | "user";
  keyId: string | null;
  /** The idScope of the key sent, for the ids the service derives; absent or null without a key. */
  idScope?: string | null;
}

/** The caller when access control is off (development): anyone may do anything. */
export const OPEN_CALLER: Caller = { role: "admin", keyId: null };

declare module "hono" {
  interface ContextVariableMap {
    /** Set by requireKey: who sent the request. */
    caller: Caller;
  }
}

/** Whether a caller may read a batch: an admin any, a user key those it sent (or sent with no keys). */
export function mayRead(caller: Caller, batch: { uploadedBy: string | null }): boolean {
  return caller.role === "admin" || batch.uploadedBy === null || batch.uploadedBy === caller.keyId;
}

/** Whose batches a caller's listings show, as mayRead decides: undefined for all (an admin). */
export function listedUploader(caller: Caller): string | undefined {
  return caller.role === "admin" ? undefined : caller.keyId ?? undefined;
}

/** The configured keys, hashed once so each comparison is over equal-length digests. */
export interface KeyRing {
  enabled: boolean;
  /** "admin", "user", or undefined for a key that is not configured. */
  roleOf(key: string): "admin" | "user" | undefined;
  /** The role of the configured key with this fingerprint, or undefined. */
  roleOfFingerprint(keyId: string): "admin" | "user" | undefined;
  /**
   * The idScope of the configured key with this fingerprint, or undefined: a console session keeps
   * only the fingerprint, yet derives the ids its key's API calls and submit CLI derive.
   */
  idScopeOfFingerprint(keyId: string): string | undefined;
}

/** Creates the key ring; with no key at all, access control is off (development only). */
export function createKeyRing(userKeys: string[], adminKeys: string[]): KeyRing {
  const users = userKeys.map(digest);
  const admins = adminKeys.map(digest);
  const fingerprints = new Map<string, "admin" | "user">([
    ...userKeys.map((key) => [keyFingerprint(key), "user"] as const),
    ...adminKeys.map((key) => [keyFingerprint(key), "admin"] as const),
  ]);
  const scopes = new Map(
    [...userKeys, ...adminKeys].map((key) => [keyFingerprint(key), idScope(key)] as const),
  );
  // Compares against every key without stopping early, so timing says nothing about which matched.
  const matches = (candidate: Buffer, keys: Buffer[]) =>
    keys.reduce((found, key) => timingSafeEqual(candidate, key) || found, false);
  return {
    enabled: users.length + admins.length > 0,
    roleOf(key) {
      const candidate = digest(key);
      const admin = matches(candidate, admins);
      const user = matches(candidate, users);
      return admin ? "admin" : user ? "user" : undefined;
    },
    roleOfFingerprint: (keyId) => fingerprints.get(keyId),
    idScopeOfFingerprint: (keyId) => scopes.get(keyId),
  };
}

/** Requires a key of the given role (an admin key also opens user routes). */
export function requireKey(ring: KeyRing, role: "user" | "admin"): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!ring.enabled) {
      // Derived ids follow the key sent even so, as the submit CLI derives them from its key.
      c.set("caller", { ...OPEN_CALLER, idScope: match ? idScope(match[1]) : null });
      return await next();
    }
    if (!match) {
      throw new ApiError(
        401,
        ApiErrorCode.UNAUTHORIZED,
        "Send an API key as 'Authorization: Bearer <key>'",
        { headers: { "WWW-Authenticate": 'Bearer realm="execution-ingest"' } },
      );
    }
    const found = ring.roleOf(match[1]);
    if (!found) {
      throw new ApiError(401, ApiErrorCode.UNAUTHORIZED, "The API key is not valid", {
        headers: { "WWW-Authenticate": 'Bearer realm="execution-ingest", error="invalid_token"' },
      });
    }
    if (role === "admin" && found !== "admin") {
      throw new ApiError(403, ApiErrorCode.FORBIDDEN, "This endpoint needs an admin API key");
    }
    c.set("caller", { role: found, keyId: keyFingerprint(match[1]), idScope: idScope(match[1]) });
    await next();
  };
}
