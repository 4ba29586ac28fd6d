// The bulk execution store: unnest-array inserts of whole chunks, with their outbox chunk, in one statement.
import type { ExecutionRecord, StoredExecution } from "../domain/execution.ts";
import type { ExecutionRepository } from "../domain/ports.ts";
import type { Db } from "./client.ts";
import { plainArray, textArray } from "./pg_array.ts";

/** Options of createExecutionStore. */
export interface ExecutionStoreOptions {
  /**
   * How long a stored chunk is left to this instance's publisher (which gets it in memory) before
   * any relay may claim it, in milliseconds. @default 10000
   */
  leaseMs?: number;
  /** Called after each insert statement with its row count and duration in seconds. */
  onInsert?: (rows: number, seconds: number) => void;
}

/** Creates the store; it implements the domain's ExecutionRepository plus the read side. */
export function createExecutionStore(db: Db, options: ExecutionStoreOptions = {}) {
  const onInsert = options.onInsert;
  const leaseMs = options.leaseMs ?? 10_000;

  const repository: ExecutionRepository = {
    insertChunk(batchId, unordered) {
      // Rows go in id order, so two transactions inserting overlapping ids (a batch resubmitted
      // while its first copy is still being stored) take their row locks in the same order and
      // cannot deadlock each other.
      const records = [...unordered].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const n = records.length;
      const c = encodeColumns(records);
      const idList = c.ids;
      return db.run(async (sql) => {
        const began = performance.now();
        const [row] = await sql`
          with ins as (
            insert into executions (
              id, batch_id, test_case_key, status, started_at, finished_at, duration_ms,
              cycle_key, environment, executed_by, comment, attributes
            )
            select u.id, ${batchId}::uuid, u.test_case_key, u.status, u.started_at, u.finished_at,
              u.duration_ms, u.cycle_key, u.environment, u.executed_by, u.comment, u.attributes
            from unnest(
              ${idList}::uuid[], ${c.keys}::text[], ${c.statuses}::text[],
              ${c.started}::timestamptz[], ${c.finished}::timestamptz[],
              ${c.durations}::int4[], ${c.cycles}::text[],
              ${c.environments}::text[], ${c.executedBy}::text[],
              ${c.comments}::text[], ${c.attributes}::text[]::jsonb[]
            ) as u(id, test_case_key, status, started_at, finished_at, duration_ms, cycle_key,
              environment, executed_by, comment, attributes)
            on conflict (id) do nothing
            returning id
          ), queued as (
            insert into outbox_chunks (batch_id, execution_ids, available_at)
            select ${batchId}::uuid, array_agg(id), now() + ${leaseMs} * interval '1 millisecond'
            from ins having count(*) > 0
            returning id, created_at
          )
          select (select id from queued) as outbox_id, (select created_at from queued) as created_at,
            -- Only when some ids were already stored: which ones (usually none, so nothing to read).
            case when (select count(*) from ins) < ${n}
              then array(select id from unnest(${idList}::uuid[]) as id except select id from ins)
            end as skipped`;
        onInsert?.(n, (performance.now() - began) / 1000);
        return {
          outboxId: row.outbox_id === null ? null : String(row.outbox_id),
          // now(): the statement's transaction time, the same for the chunk and all its rows.
          createdAt: row.created_at as string | null,
          skipped: (row.skipped as string[] | null) ?? [],
        };
      });
    },

    findStored(ids) {
      return db.run(async (sql) => {
        const rows = await sql`select * from executions where id = any(${ids as string[]}::uuid[])`;
        return new Map(rows.map((row) => [row.id as string, rowToExecution(row)]));
      });
    },

    saveBatch(summary) {
      // Both instants on the database's clock (the one created_at uses), the span between them
      // measured on the process's monotonic clock: a process clock set apart from the
      // database's can no longer make a batch end before it began. The failed items go in the
      // same statement, so a batch is never seen without them.
      const { failures } = summary;
      return db.run(async (sql) => {
        const batch = sql`
          insert into batches (id, total, created, duplicates, failed, received_at, completed_at,
            uploaded_by)
          values (${summary.batchId}, ${summary.total}, ${summary.created}, ${summary.duplicates},
            ${summary.failed}, now() - ${summary.durationMs} * interval '1 millisecond', now(),
            ${summary.uploadedBy})`;
        if (failures.length === 0) return void await batch;
        await sql`
          with batch as (${batch})
          insert into batch_failures (batch_id, item_index, execution_id, code, message, details)
          select ${summary.batchId}::uuid, u.item_index, u.execution_id, u.code, u.message, u.details
          from unnest(
            ${failures.map((f) => f.index)}::int4[], ${failures.map((f) => f.id)}::text[],
            ${failures.map((f) => f.code)}::text[], ${failures.map((f) => f.message)}::text[],
            ${failures.map((f) => (f.details ? JSON.stringify(f.details) : null))}::text[]::jsonb[]
          ) as u(item_index, execution_id, code, message, details)`;
      });
    },
  };

  /** One stored execution, or undefined. */
  function getExecution(id: string): Promise<StoredExecution | undefined> {
    return db.run(async (sql) => {
      const [row] = await sql`select * from executions where id = ${id}::uuid`;
      return row ? rowToExecution(row) : undefined;
    });
  }

  return { repository, getExecution };
}

/**
 * An executions row as the domain's StoredExecution. Timestamps arrive as exact ISO strings
 * (the pool's parser, db/timestamp.ts), so they are taken as they are.
 */
export function rowToExecution(row: Record<string, unknown>): StoredExecution {
  return {
    id: row.id as string,
    batchId: row.batch_id as string,
    testCaseKey: row.test_case_key as string,
    status: row.status as StoredExecution["status"],
    startedAt: row.started_at as string,
    finishedAt: row.finished_at as string | null,
    durationMs: row.duration_ms as number | null,
    cycleKey: row.cycle_key as string | null,
    environment: row.environment as string | null,
    executedBy: row.executed_by as string | null,
    comment: row.comment as string | null,
    attributes: row.attributes as Record<string, unknown> | null,
    createdAt: row.created_at as string,
  };
}

/** The insert's column arrays as PostgreSQL array literals, one pass over the records. */
export function encodeColumns(records: readonly ExecutionRecord[]) {
  const n = records.length;
  const ids = new Array<string>(n), keys = new Array<string>(n);
  const statuses = new Array<string>(n), started = new Array<string>(n);
  const finished = new Array<string | null>(n), durations = new Array<number | null>(n);
  const cycles = new Array<string | null>(n), environments = new Array<string | null>(n);
  const executedBy = new Array<string | null>(n), comments = new Array<string | null>(n);
  const attributes = new Array<string | null>(n);
  for (let i = 0; i < n; i++) {
    const r = records[i];
    ids[i] = r.id;
    keys[i] = r.testCaseKey;
    statuses[i] = r.status;
    started[i] = r.startedAt;
    finished[i] = r.finishedAt;
    durations[i] = r.durationMs;
    cycles[i] = r.cycleKey;
    environments[i] = r.environment;
    executedBy[i] = r.executedBy;
    comments[i] = r.comment;
    // jsonb goes in as JSON text, cast text[] -> jsonb[] in SQL.
    attributes[i] = r.attributes === null ? null : JSON.stringify(r.attributes);
  }
  // Each column travels as one array literal (built here in one pass) cast by the server.
  return {
    ids: plainArray(ids),
    keys: textArray(keys),
    statuses: plainArray(statuses),
    started: plainArray(started),
    finished: plainArray(finished),
    durations: plainArray(durations),
    cycles: textArray(cycles),
    environments: textArray(environments),
    executedBy: textArray(executedBy),
    comments: textArray(comments),
    attributes: textArray(attributes),
  };
}
