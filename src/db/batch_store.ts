// The read side of batches: one batch, the recent ones, a batch's failed items, all paged by keys.
import type { Sql } from "postgres";
import type { BatchFailure, BatchReader, OwnedBatch } from "../domain/ports.ts";
import type { Db } from "./client.ts";

/** Creates the batch reads. */
export function createBatchStore(db: Db): BatchReader {
  const getBatch: BatchReader["getBatch"] = (batchId) => {
    return db.run(async (sql) => {
      const [row] = await sql`
        select b.*, ${eventCounts(sql)} from batches b where b.id = ${batchId}::uuid`;
      return row ? toBatch(row) : undefined;
    });
  };

  /**
   * Recent batches, newest first. Batch ids are time-ordered UUIDv7, so the id orders them and
   * is the cursor: a page never repeats or skips a batch, however many arrive meanwhile.
   */
  const listBatches: BatchReader["listBatches"] = (query) => {
    return db.run(async (sql) => {
      const rows = await sql`
        select b.*, ${eventCounts(sql)} from batches b
        where true
          ${query.before ? sql`and b.id < ${query.before}::uuid` : sql``}
          ${
        query.uploadedBy !== undefined
          ? sql`and (b.uploaded_by = ${query.uploadedBy} or b.uploaded_by is null)`
          : sql``
      }
        order by b.id desc
        limit ${query.limit + 1}`;
      const batches = rows.slice(0, query.limit).map(toBatch);
      return {
        batches,
        nextBefore: rows.length > query.limit ? batches[batches.length - 1].batchId : null,
      };
    });
  };

  const listFailures: BatchReader["listFailures"] = (batchId, page) => {
    return db.run(async (sql) => {
      const rows = await sql`
        select item_index, execution_id, code, message, details from batch_failures
        where batch_id = ${batchId}::uuid and item_index > ${page.after ?? -1}
        order by item_index
        limit ${page.limit + 1}`;
      const items = rows.slice(0, page.limit).map((row): BatchFailure => ({
        index: row.item_index,
        id: row.execution_id,
        code: row.code,
        message: row.message,
        ...(row.details ? { details: row.details } : {}),
      }));
      return {
        items,
        nextAfter: rows.length > page.limit ? items[items.length - 1].index : null,
      };
    });
  };

  return { getBatch, listBatches, listFailures };
}

// Pending events are counted in the batch's outbox chunks, failed ones in its dead letters (both
// indexed by batch); what is neither was acknowledged, since published rows are deleted.
function eventCounts(sql: Sql) {
  return sql`
    (select coalesce(sum(cardinality(o.execution_ids)), 0) from outbox_chunks o
      where o.batch_id = b.id)::int as pending,
    (select count(*) from dead_letters d where d.batch_id = b.id)::int as failed_events`;
}

function toBatch(row: Record<string, unknown>): OwnedBatch {
  const created = row.created as number, pending = row.pending as number;
  const failedEvents = row.failed_events as number;
  return {
    batchId: row.id as string,
    total: row.total as number,
    created,
    duplicates: row.duplicates as number,
    failed: row.failed as number,
    failuresNotKept: row.failures_not_kept as number,
    receivedAt: row.received_at as string,
    completedAt: row.completed_at as string,
    events: { published: created - pending - failedEvents, pending, failed: failedEvents },
    uploadedBy: (row.uploaded_by as string | null) ?? null,
  };
}
