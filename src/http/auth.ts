// Bearer-key access control: user keys for /v1, admin keys for /admin, compared in constant time.
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { ApiError, ApiErrorCode } from "../domain/errors.ts";

const digest = (key: string) => createHash("sha256").update(key).digest();

/** The configured keys, hashed once so each comparison is over equal-length digests. */
export interface KeyRing {
  enabled: boolean;
  /** "admin", "user", or undefined for a key that is not configured. */
  roleOf(key: string): "admin" | "user" | undefined;
}

/** Creates the key ring; with no key at all, access control is off (development only). */
export function createKeyRing(userKeys: string[], adminKeys: string[]): KeyRing {
  const users = userKeys.map(digest);
  const admins = adminKeys.map(digest);
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
  };
}

/** Requires a key of the given role (an admin key also opens user routes). */
export function requireKey(ring: KeyRing, role: "user" | "admin"): MiddlewareHandler {
  return async (c, next) => {
    if (!ring.enabled) return await next();
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      c.header("WWW-Authenticate", 'Bearer realm="execution-ingest"');
      throw new ApiError(
        401,
        ApiErrorCode.UNAUTHORIZED,
        "Send an API key as 'Authorization: Bearer <key>'",
      );
    }
    const found = ring.roleOf(match[1]);
    if (!found) {
      c.header("WWW-Authenticate", 'Bearer realm="execution-ingest", error="invalid_token"');
      throw new ApiError(401, ApiErrorCode.UNAUTHORIZED, "The API key is not valid");
    }
    if (role === "admin" && found !== "admin") {
      throw new ApiError(403, ApiErrorCode.FORBIDDEN, "This endpoint needs an admin API key");
    }
    await next();
  };
}
