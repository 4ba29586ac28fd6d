// The executions store in memory, behind the ports the ingest use case and the read routes use
// (repository, reads, batches), and the sink that stored chunks are offered to; both keep every call.
import { StorageError, type StorageFailureKind } from "../../src/domain/errors.ts";
import type { ExecutionRecord, StoredExecution } from "../../src/domain/execution.ts";
import type {
  BatchReader,
  BatchSummary,
  EventSink,
  ExecutionRepository,
  OwnedBatch,
  OwnedExecution,
} from "../../src/domain/ports.ts";

/** Options of fakeStore. */
export interface FakeStoreOptions {
  /** A chunk holding any of these ids is refused as the database refuses a bad row. */
  rejectIds?: Iterable<string>;
  /** insertChunk calls (1-based) that fail as an unreachable or saturated database does. */
  failCalls?: Map<number, StorageFailureKind>;
  /** Rows stored before the test: id → record. */
  stored?: Map<string, ExecutionRecord>;
  /** The stored rows' createdAt. @default the time of the insert */
  createdAt?: string;
}

/**
 * The executions table, the batches and their failed items in memory, behind the store's ports,
 * keeping every call. `fail` makes every call fail from then on; `hold` parks inserts until released.
 */
export function fakeStore(options: FakeStoreOptions = {}) {
  const rejectIds = new Set(options.rejectIds ?? []);
  const stored = new Map<string, OwnedExecution>(
    [...options.stored ?? []].map((
      [id, record],
    ) => [id, { ...record, batchId: "", createdAt: "", uploadedBy: null }]),
  );
  const batches = new Map<string, OwnedBatch & { failures: BatchSummary["failures"] }>();
  const inserts: Array<{ batchId: string; ids: string[] }> = [];
  const lookups: string[][] = [];
  const summaries: BatchSummary[] = [];
  /** Outbox chunk id → the ids its insert stored. */
  const chunks = new Map<string, string[]>();
  let failure: StorageFailureKind | Error | undefined;
  let held: Promise<void> | undefined;
  const failNow = () => {
    if (failure instanceof Error) throw failure;
    if (failure) throw new StorageError(failure, `the database is ${failure}`);
  };

  const repository: ExecutionRepository = {
    async insertChunk(batchId, records: readonly ExecutionRecord[], { uploadedBy = null } = {}) {
      inserts.push({ batchId, ids: records.map((record) => record.id) });
      const call = inserts.length;
      await held;
      failNow();
      const failed = options.failCalls?.get(call);
      if (failed) throw new StorageError(failed, "the database is away");
      if (records.some((record) => rejectIds.has(record.id))) {
        throw new StorageError("rejected", "a database rule refused it");
      }
      const createdAt = options.createdAt ?? new Date().toISOString();
      const inserted: string[] = [], skipped: string[] = [];
      for (const record of records) {
        if (stored.has(record.id)) {
          skipped.push(record.id);
          continue;
        }
        stored.set(record.id, { ...record, batchId, createdAt, uploadedBy });
        inserted.push(record.id);
      }
      // Like the store, one outbox chunk per insert that stored anything.
      const outboxId = inserted.length > 0 ? `chunk-${call}` : null;
      if (outboxId) chunks.set(outboxId, inserted);
      // About what the store estimates for a small execution's event.
      const bytes = inserted.length * 600;
      return { outboxId, createdAt: outboxId ? createdAt : null, bytes, skipped };
    },
    findStored(ids) {
      lookups.push([...ids]);
      failNow();
      return Promise.resolve(
        new Map(ids.filter((id) => stored.has(id)).map((id) => [id, stored.get(id)!])),
      );
    },
    saveBatch(summary) {
      summaries.push(summary);
      const { durationMs: _, failures, ...counts } = summary;
      const now = new Date().toISOString();
      const events = { published: 0, pending: summary.created, failed: 0 };
      batches.set(summary.batchId, {
        ...counts,
        receivedAt: now,
        completedAt: now,
        events,
        failures,
      });
      return Promise.resolve();
    },
  };
  const reader: BatchReader = {
    getBatch(batchId) {
      failNow();
      const batch = batches.get(batchId);
      if (!batch) return Promise.resolve(undefined);
      const { failures: _, ...owned } = batch;
      return Promise.resolve(owned);
    },
    listBatches({ limit, before, uploadedBy }) {
      failNow();
      const all = [...batches.values()]
        .filter((b) => before === undefined || b.batchId < before)
        .filter((b) => uploadedBy === undefined || [uploadedBy, null].includes(b.uploadedBy))
        .sort((a, b) => (a.batchId < b.batchId ? 1 : -1))
        .map(({ failures: _, ...owned }) => owned);
      const page = all.slice(0, limit);
      return Promise.resolve({
        batches: page,
        nextBefore: all.length > limit ? page[page.length - 1].batchId : null,
      });
    },
    listFailures(batchId, { after = -1, limit }) {
      failNow();
      const all = (batches.get(batchId)?.failures ?? []).filter((f) => f.index > after);
      const items = all.slice(0, limit);
      return Promise.resolve({
        items,
        nextAfter: all.length > limit ? items[items.length - 1].index : null,
      });
    },
  };
  return {
    repository,
    batches: reader,
    getExecution(id: string): Promise<OwnedExecution | undefined> {
      failNow();
      return Promise.resolve(stored.get(id));
    },
    stored,
    inserts,
    lookups,
    summaries,
    chunks,
    /** From now on every call fails: StorageError of this kind, or this error as it is. */
    fail(next: StorageFailureKind | Error | undefined) {
      failure = next;
    },
    /** Parks every insert until the returned function is called. */
    hold(): () => void {
      let release!: () => void;
      held = new Promise((resolve) => release = resolve);
      return () => {
        held = undefined;
        release();
      };
    },
  };
}

/** An EventSink that keeps every chunk offered: its outbox id and its executions. */
export function fakeSink() {
  const chunkIds: string[] = [];
  const offers: StoredExecution[][] = [];
  const sink: EventSink = {
    offer: (chunk) => {
      chunkIds.push(chunk.id);
      offers.push([...chunk.executions]);
    },
  };
  return { sink, chunkIds, offers };
}
