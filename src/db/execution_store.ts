// The bulk execution store: unnest-array inserts of whole chunks, with their outbox chunk, in one statement.
import type { ExecutionRepository, OwnedExecution } from "../domain/ports.ts";
import type { Db } from "./client.ts";
import {
  encodeColumns,
  estimateBytes,
  EXECUTION_SELECT,
  INSERT_COLUMNS,
  OWNER_COLUMN,
  rowToExecution,
  unnestArguments,
} from "./execution_columns.ts";
import { storableOrNull, storableText } from "./pg_text.ts";

const COLUMNS = INSERT_COLUMNS.join(", ");
// The ids' array among the column arrays: the skipped ids are read from it.
const IDS = `$${6 + INSERT_COLUMNS.indexOf("id")}::uuid[]`;

// One statement per chunk, its text built once from the field registry: $1 the batch id, $2 the
// lease in milliseconds, $3 the row count, $4 the sender's key fingerprint, $5 the rows' estimated
// bytes, $6 on the column arrays of encodeColumns. The chunk's bytes are those of the rows it stored
// (skipped ones aside).
const INSERT_CHUNK = `
  with ins as (
    insert into executions (batch_id, ${OWNER_COLUMN.column}, ${COLUMNS})
    select $1::uuid, $4::text, ${COLUMNS} from unnest(${unnestArguments(6)}) as u(${COLUMNS})
    on conflict (id) do nothing
    returning id
  ), queued as (
    insert into outbox_chunks (batch_id, execution_ids, available_at, bytes)
    select $1::uuid, array_agg(id), now() + $2 * interval '1 millisecond', $5::int8 * count(*) / $3
    from ins having count(*) > 0
    returning id, created_at, bytes
  )
  select (select id from queued) as outbox_id, (select created_at from queued) as created_at,
    (select bytes from queued) as bytes,
    -- Only when some ids were already stored: which ones (usually none, so nothing to read).
    case when (select count(*) from ins) < $3
      then array(select id from unnest(${IDS}) as id except select id from ins)
    end as skipped`;

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
    insertChunk(batchId, unordered, options = {}) {
      // Rows go in id order, so two transactions inserting overlapping ids (a batch resubmitted
      // while its first copy is still being stored) take their row locks in the same order and
      // cannot deadlock each other.
      const records = [...unordered].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const n = records.length;
      const columns = encodeColumns(records);
      const bytes = estimateBytes(columns, n);
      return db.run(async (sql) => {
        const began = performance.now();
        const [row] = await sql.unsafe(
          INSERT_CHUNK,
          [batchId, leaseMs, n, options.uploadedBy ?? null, bytes, ...columns],
          { prepare: true },
        );
        onInsert?.(n, (performance.now() - began) / 1000);
        return {
          outboxId: row.outbox_id === null ? null : String(row.outbox_id),
          // now(): the statement's transaction time, the same for the chunk and all its rows.
          createdAt: row.created_at as string | null,
          bytes: row.bytes === null ? 0 : Number(row.bytes),
          skipped: (row.skipped as string[] | null) ?? [],
        };
      });
    },

    findStored(ids) {
      return db.run(async (sql) => {
        const rows = await sql`
          select ${sql.unsafe(EXECUTION_SELECT)} from executions
          where id = any(${ids as string[]}::uuid[])`;
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
          insert into batches (id, total, created, duplicates, failed, failures_not_kept,
            received_at, completed_at, uploaded_by)
          values (${summary.batchId}, ${summary.total}, ${summary.created}, ${summary.duplicates},
            ${summary.failed}, ${summary.failuresNotKept},
            now() - ${summary.durationMs} * interval '1 millisecond', now(), ${summary.uploadedBy})`;
        if (failures.length === 0) return void await batch;
        // What the client sent is echoed as it was, but stored as PostgreSQL accepts it.
        const details = failures.map((f) =>
          f.details
            ? JSON.stringify(
              f.details.map((d) => ({
                path: storableText(d.path),
                message: storableText(d.message),
              })),
            )
            : null
        );
        await sql`
          with batch as (${batch})
          insert into batch_failures (batch_id, item_index, execution_id, code, message, details)
          select ${summary.batchId}::uuid, u.item_index, u.execution_id, u.code, u.message, u.details
          from unnest(
            ${failures.map((f) => f.index)}::int4[],
            ${failures.map((f) => storableOrNull(f.id))}::text[],
            ${failures.map((f) => f.code)}::text[],
            ${failures.map((f) => storableText(f.message))}::text[],
            ${details}::text[]::jsonb[]
          ) as u(item_index, execution_id, code, message, details)`;
      });
    },
  };

  /** One stored execution with the fingerprint of the key that stored it, or undefined. */
  function getExecution(id: string): Promise<OwnedExecution | undefined> {
    return db.run(async (sql) => {
      const [row] = await sql`
        select ${sql.unsafe(EXECUTION_SELECT)}, ${sql(OWNER_COLUMN.column)} as owner
        from executions where id = ${id}::uuid`;
      if (!row) return undefined;
      const { owner, ...execution } = row;
      return { ...rowToExecution(execution), uploadedBy: (owner as string | null) ?? null };
    });
  }

  return { repository, getExecution };
}
