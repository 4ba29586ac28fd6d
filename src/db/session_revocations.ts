// Console sessions revoked at sign-out, kept in PostgreSQL (or the embedded one) until they expire,
// so that every instance refuses a signed-out cookie.
import type { SessionRevocations } from "../domain/ports.ts";
import type { Db } from "./client.ts";

/** Rows past their expiry deleted per sign-out: the table stays small without a timer of its own. */
const EXPIRED_DELETED_PER_REVOKE = 100;

/** Creates the store of revoked console sessions. */
export function createSessionRevocations(db: Db): SessionRevocations {
  return {
    revoke(sessionId, expiresAt) {
      return db.run(async (sql) => {
        await sql`
          insert into console_revoked_sessions (session_id, expires_at)
          values (${sessionId}, ${expiresAt.toISOString()}::timestamptz)
          on conflict (session_id) do nothing`;
        await sql`
          delete from console_revoked_sessions where session_id in (
            select session_id from console_revoked_sessions where expires_at < now()
            limit ${EXPIRED_DELETED_PER_REVOKE})`;
      });
    },
    isRevoked(sessionId) {
      return db.run(async (sql) => {
        const rows = await sql`
          select 1 from console_revoked_sessions
          where session_id = ${sessionId} and expires_at > now()`;
        return rows.length > 0;
      });
    },
  };
}
