// Whether a console session was signed out, asked of the database at most once per session every
// few seconds: a sign-out is known at once on the instance that took it, on the others within
// REVOCATION_CACHE_MS.
import type { SessionRevocations } from "../../domain/ports.ts";

/** How long an instance trusts "not revoked" before it asks the database again. */
export const REVOCATION_CACHE_MS = 5000;
/** Sessions remembered at once; the oldest entry goes first when full. */
const MAX_REMEMBERED = 10_000;

/** Options of createRevocationCheck. */
export interface RevocationCheckOptions {
  /** @default REVOCATION_CACHE_MS */
  cacheMs?: number;
  /** The clock, in milliseconds. @default Date.now */
  now?: () => number;
}

/** Revokes sessions and tells revoked ones, over the store, with a short memory of answers. */
export function createRevocationCheck(
  revocations: SessionRevocations,
  options: RevocationCheckOptions = {},
) {
  const cacheMs = options.cacheMs ?? REVOCATION_CACHE_MS;
  const now = options.now ?? Date.now;
  const known = new Map<string, { revoked: boolean; until: number }>();
  const remember = (sessionId: string, revoked: boolean, until: number) => {
    known.delete(sessionId);
    if (known.size >= MAX_REMEMBERED) known.delete(known.keys().next().value!);
    known.set(sessionId, { revoked, until });
  };
  return {
    /** True when the session was revoked; `expiresAt` (ms) is its natural end. */
    async isRevoked(sessionId: string, expiresAt: number): Promise<boolean> {
      const entry = known.get(sessionId);
      if (entry && entry.until > now()) return entry.revoked;
      const revoked = await revocations.isRevoked(sessionId);
      // A revocation never ends before the session does; "not revoked" may change any time.
      remember(sessionId, revoked, revoked ? expiresAt : now() + cacheMs);
      return revoked;
    },
    /** Revokes the session in the store, then remembers it here. */
    async revoke(sessionId: string, expiresAt: number): Promise<void> {
      await revocations.revoke(sessionId, new Date(expiresAt));
      remember(sessionId, true, expiresAt);
    },
  };
}
