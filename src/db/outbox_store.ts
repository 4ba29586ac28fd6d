// The outbox side of the store: one row per stored chunk, leased, renewed and settled in bulk.
import type { ClaimedChunk, DeadLetterInput, OutboxPort } from "../domain/ports.ts";
import type { StoredExecution } from "../domain/execution.ts";
import type { Db } from "./client.ts";
import { EVENT_OVERHEAD_BYTES, EXECUTION_SELECT, rowToExecution } from "./execution_columns.ts";
import type { ISql, TransactionSql } from "postgres";

/** One dead letter, as an operator sees it (no payload: that is in GET /v1/executions/{id}). */
export interface DeadLetter {
  executionId: string;
  batchId: string;
  attempts: number;
  lastError: string;
  createdAt: string;
  failedAt: string;
}

/** Outbox counts for metrics and readiness. */
export interface OutboxStats {
  pending: number;
  failed: number;
  /** Age of the oldest pending event in seconds, 0 when none. */
  oldestPendingSeconds: number;
}

/** Most chunks one claim looks at; a chunk holds at least one event. */
const CLAIM_SCAN_MAX = 1000;
/** Dead letters re-queued into one chunk at most (the publisher's batch size by default). */
const REQUEUE_CHUNK = 500;

/** Creates the outbox store. */
export function createOutboxStore(db: Db) {
  async function insertDeadLetters(sql: TransactionSql, letters: readonly DeadLetterInput[]) {
    if (letters.length === 0) return;
    const ids = letters.map((l) => l.executionId);
    const batches = letters.map((l) => l.batchId);
    const attempts = letters.map((l) => l.attempts);
    const reasons = letters.map((l) => l.reason);
    await sql`
      insert into dead_letters (execution_id, batch_id, attempts, last_error, created_at)
      select u.id, u.batch_id, u.attempts, u.reason, coalesce(e.created_at, now())
      from unnest(${ids}::uuid[], ${batches}::uuid[], ${attempts}::int4[], ${reasons}::text[])
        as u(id, batch_id, attempts, reason)
      left join executions e on e.id = u.id
      on conflict (execution_id) do update set attempts = excluded.attempts,
        last_error = excluded.last_error, failed_at = now()`;
  }

  /** Forgets chunks; on the pool or a transaction, as settle runs it. */
  async function deleteChunks(sql: ISql, ids: readonly string[]) {
    await sql`delete from outbox_chunks where id = any(${ids}::int8[])`;
  }

  /** Makes whole chunks due after `delayMs`; on the pool or a transaction, as release runs it. */
  async function releaseWhole(sql: ISql, ids: readonly string[], delayMs: number) {
    await sql`
      update outbox_chunks set available_at = now() + ${delayMs} * interval '1 millisecond', releases = releases + 1
      where id = any(${ids}::int8[])`;
  }

  const port: OutboxPort = {
    claimDue(maxEvents, leaseMs, held, maxBytes = Number.MAX_SAFE_INTEGER) {
      if (maxEvents <= 0 || maxBytes <= 0) return Promise.resolve([]);
      return db.run(async (sql) => {
        // Chunks are taken in the order they came due while the events before each one number
        // fewer than maxEvents, so a claim overshoots by at most one chunk in events; in bytes it
        // never does (the first chunk aside, taken whatever its size, so a claim always moves on).
        // SKIP LOCKED and the lease keep two instances from taking the same chunk; `held` keeps
        // this instance from taking back what it already holds in memory.
        const chunks = await sql`
          with due as (
            select id, cardinality(execution_ids) as n, bytes, available_at from outbox_chunks
            where available_at <= now() and id <> all(${held as string[]}::int8[])
            order by available_at, id
            limit ${Math.min(CLAIM_SCAN_MAX, maxEvents)}
            for update skip locked
          ), picked as (
            select id from (
              select id, n, bytes, sum(n) over w as upto, sum(bytes) over w as upto_bytes
              from due window w as (order by available_at, id)
            ) running
            where upto - n < ${maxEvents} and (upto_bytes <= ${maxBytes} or upto_bytes = bytes)
          )
          update outbox_chunks c set available_at = now() + ${leaseMs} * interval '1 millisecond'
          from picked where c.id = picked.id
          returning c.id, c.batch_id, c.execution_ids, c.created_at, c.bytes, now() as db_now`;
        if (chunks.length === 0) return [];
        // The database's clock, seen from this process: stored times are told on this one.
        const offsetMs = Date.now() - Date.parse(chunks[0].db_now as string);
        const ids = chunks.flatMap((chunk) => chunk.execution_ids as string[]);
        const rows = await sql`
          select ${sql.unsafe(EXECUTION_SELECT)} from executions where id = any(${ids}::uuid[])`;
        const byId = new Map(rows.map((row) => [row.id as string, row]));
        return chunks
          .sort((a, b) => Number(a.id) - Number(b.id))
          .map((chunk) => readChunk(chunk, byId, offsetMs));
      });
    },

    renewLeases(ids, leaseMs) {
      if (ids.length === 0) return Promise.resolve();
      return db.run(async (sql) => {
        await sql`
          update outbox_chunks set available_at = now() + ${leaseMs} * interval '1 millisecond'
          where id = any(${ids as string[]}::int8[])`;
      });
    },

    settle(chunks) {
      if (chunks.length === 0) return Promise.resolve();
      const ids = chunks.map((chunk) => chunk.id);
      const letters = chunks.flatMap((chunk) => chunk.deadLetters);
      return db.run(async (sql) => {
        if (letters.length === 0) {
          await deleteChunks(sql, ids);
          return;
        }
        await sql.begin(async (tx) => {
          await insertDeadLetters(tx, letters);
          await deleteChunks(tx, ids);
        });
      });
    },

    release(chunks, delayMs) {
      if (chunks.length === 0) return Promise.resolve();
      const whole = chunks.filter((chunk) => chunk.whole).map((chunk) => chunk.id);
      const partial = chunks.filter((chunk) => !chunk.whole);
      return db.run(async (sql) => {
        if (partial.length === 0) {
          await releaseWhole(sql, whole, delayMs);
          return;
        }
        // Part of these chunks was acknowledged or set aside: the rows keep only what is pending.
        await sql.begin(async (tx) => {
          await insertDeadLetters(tx, partial.flatMap((chunk) => chunk.deadLetters));
          for (const chunk of partial) {
            if (chunk.pendingIds.length === 0) {
              await tx`delete from outbox_chunks where id = ${chunk.id}::int8`;
            } else {
              await tx`
                update outbox_chunks set execution_ids = ${chunk.pendingIds}::uuid[],
                  bytes = bytes * ${chunk.pendingIds.length} / greatest(cardinality(execution_ids), 1),
                  available_at = now() + ${delayMs} * interval '1 millisecond', releases = releases + 1
                where id = ${chunk.id}::int8`;
            }
          }
          if (whole.length > 0) await releaseWhole(tx, whole, delayMs);
        });
      });
    },
  };

  /** Dead letters, oldest first. */
  function listDeadLetters(limit: number): Promise<DeadLetter[]> {
    return db.run(async (sql) => {
      const rows = await sql`
        select execution_id, batch_id, attempts, last_error, created_at, failed_at
        from dead_letters order by created_at, execution_id limit ${limit}`;
      return rows.map((row) => ({
        executionId: row.execution_id,
        batchId: row.batch_id,
        attempts: row.attempts,
        lastError: row.last_error,
        createdAt: row.created_at as string,
        failedAt: row.failed_at as string,
      }));
    });
  }

  /** Puts dead letters back into the outbox as chunks due now; all of them when `ids` is absent. */
  function requeue(ids?: readonly string[]): Promise<number> {
    return db.run(async (sql) => {
      const [row] = await sql`
        with moved as (
          delete from dead_letters
          where ${ids ? sql`execution_id = any(${ids as string[]}::uuid[])` : sql`true`}
          returning execution_id, batch_id
        ), parts as (
          select m.execution_id, m.batch_id,
            coalesce(octet_length(e::text), 0) + ${EVENT_OVERHEAD_BYTES} as bytes,
            (row_number() over (partition by m.batch_id order by m.execution_id) - 1) / ${REQUEUE_CHUNK}
              as part
          from moved m left join executions e on e.id = m.execution_id
        ), chunks as (
          insert into outbox_chunks (batch_id, execution_ids, available_at, bytes)
          select batch_id, array_agg(execution_id order by execution_id), now(), sum(bytes)
          from parts group by batch_id, part
          returning cardinality(execution_ids) as n
        )
        select coalesce(sum(n), 0)::int as count from chunks`;
      return row.count as number;
    });
  }

  /**
   * Events stored and not yet published, across every instance: leased to a publisher or due.
   * One row per chunk scanned, no dead letters: cheap enough to read several times a second.
   */
  function pendingEvents(): Promise<number> {
    return db.run(async (sql) => {
      const [row] = await sql`
        select coalesce(sum(cardinality(execution_ids)), 0)::float8 as pending from outbox_chunks`;
      return row.pending as number;
    });
  }

  /** Pending and failed counts and the age of the oldest pending event: one row per chunk scanned. */
  function stats(): Promise<OutboxStats> {
    return db.run(async (sql) => {
      const [row] = await sql`
        select
          coalesce(sum(cardinality(execution_ids)), 0)::float8 as pending,
          (select count(*) from dead_letters)::float8 as failed,
          coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as oldest
        from outbox_chunks`;
      return { pending: row.pending, failed: row.failed, oldestPendingSeconds: row.oldest };
    });
  }

  return { port, listDeadLetters, requeue, stats, pendingEvents };
}

/** The outbox store's interface, for the publisher and the admin routes. */
export type OutboxStore = ReturnType<typeof createOutboxStore>;

/** A claimed chunk's rows as executions; a row that is missing or cannot be read is set aside. */
function readChunk(
  chunk: Record<string, unknown>,
  byId: Map<string, Record<string, unknown>>,
  offsetMs: number,
): ClaimedChunk {
  const batchId = chunk.batch_id as string;
  const executions: StoredExecution[] = [];
  const unreadable: ClaimedChunk["unreadable"] = [];
  for (const id of chunk.execution_ids as string[]) {
    const row = byId.get(id);
    if (!row) {
      unreadable.push({ id, batchId, reason: "its execution row no longer exists" });
      continue;
    }
    try {
      executions.push(rowToExecution(row));
    } catch (error) {
      unreadable.push({
        id,
        batchId,
        reason: `its execution row cannot be read (${(error as Error).name}: ${
          (error as Error).message.slice(0, 200)
        })`,
      });
    }
  }
  return {
    id: String(chunk.id),
    executions,
    unreadable,
    storedAtMs: Date.parse(chunk.created_at as string) + offsetMs,
    bytes: Number(chunk.bytes),
  };
}
