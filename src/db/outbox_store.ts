// The outbox side of the store: claim due events with a lease, mark them published or failed in bulk.
import type { StoredExecution } from "../domain/execution.ts";
import type { Db } from "./client.ts";
import { rowToExecution } from "./execution_store.ts";

/** One dead letter, as an operator sees it (no payload: that is in GET /v1/executions/{id}). */
export interface DeadLetter {
  executionId: string;
  batchId: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

/** Outbox counts for metrics and readiness. */
export interface OutboxStats {
  pending: number;
  failed: number;
  /** Age of the oldest pending event in seconds, 0 when none. */
  oldestPendingSeconds: number;
}

/** Creates the outbox store. */
export function createOutboxStore(db: Db) {
  return {
    /**
     * Leases up to `limit` pending events whose time has come and returns their executions.
     * SKIP LOCKED plus the lease keep two instances from taking the same event at once.
     */
    claimDue(limit: number, leaseMs: number): Promise<StoredExecution[]> {
      if (limit <= 0) return Promise.resolve([]);
      return db.run(async (sql) => {
        const rows = await sql`
          with picked as (
            select execution_id from outbox
            where state = 'pending' and available_at <= now()
            order by available_at
            limit ${limit}
            for update skip locked
          ), claimed as (
            update outbox o set available_at = now() + ${leaseMs} * interval '1 millisecond'
            from picked where o.execution_id = picked.execution_id
            returning o.execution_id
          )
          select e.* from executions e join claimed c on e.id = c.execution_id
          order by e.created_at`;
        return rows.map(rowToExecution);
      });
    },

    /** Forgets the events Kafka acknowledged: one statement for the whole batch. */
    markPublished(ids: readonly string[]): Promise<number> {
      return db.run(async (sql) => {
        const result =
          await sql`delete from outbox where execution_id = any(${ids as string[]}::uuid[])`;
        return result.count;
      });
    },

    /** Keeps events as dead letters after their last attempt. */
    markFailed(ids: readonly string[], attempts: number, reason: string): Promise<number> {
      return db.run(async (sql) => {
        const result = await sql`
          update outbox set state = 'failed', attempts = attempts + ${attempts}, last_error = ${reason}
          where execution_id = any(${ids as string[]}::uuid[])`;
        return result.count;
      });
    },

    /** Hands events back to the relay after `delayMs`, for when Kafka itself is unreachable. */
    release(ids: readonly string[], delayMs: number): Promise<number> {
      return db.run(async (sql) => {
        const result = await sql`
          update outbox set available_at = now() + ${delayMs} * interval '1 millisecond',
            attempts = attempts + 1
          where execution_id = any(${ids as string[]}::uuid[]) and state = 'pending'`;
        return result.count;
      });
    },

    /** Dead letters, oldest first. */
    listDeadLetters(limit: number): Promise<DeadLetter[]> {
      return db.run(async (sql) => {
        const rows = await sql`
          select execution_id, batch_id, attempts, last_error, created_at from outbox
          where state = 'failed' order by created_at, execution_id limit ${limit}`;
        return rows.map((row) => ({
          executionId: row.execution_id,
          batchId: row.batch_id,
          attempts: row.attempts,
          lastError: row.last_error,
          createdAt: row.created_at,
        }));
      });
    },

    /** Puts dead letters back to pending, due now; all of them when `ids` is absent. */
    requeue(ids?: readonly string[]): Promise<number> {
      return db.run(async (sql) => {
        const result = ids
          ? await sql`
            update outbox set state = 'pending', available_at = now(), attempts = 0
            where state = 'failed' and execution_id = any(${ids as string[]}::uuid[])`
          : await sql`
            update outbox set state = 'pending', available_at = now(), attempts = 0
            where state = 'failed'`;
        return result.count;
      });
    },

    /** Pending and failed counts and the age of the oldest pending event. */
    stats(): Promise<OutboxStats> {
      return db.run(async (sql) => {
        const [row] = await sql`
          select
            count(*) filter (where state = 'pending')::int as pending,
            count(*) filter (where state = 'failed')::int as failed,
            coalesce(extract(epoch from now() - min(created_at) filter (where state = 'pending')), 0)::float8 as oldest
          from outbox`;
        return { pending: row.pending, failed: row.failed, oldestPendingSeconds: row.oldest };
      });
    },
  };
}

/** The outbox store's interface, for the publisher and the admin routes. */
export type OutboxStore = ReturnType<typeof createOutboxStore>;
