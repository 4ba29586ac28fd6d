// The batch use case: validate every item, store the valid ones chunk by chunk, give a verdict per item.
import { ItemErrorCode, StorageError } from "./errors.ts";
import type { ExecutionRecord, StoredExecution } from "./execution.ts";
import type {
  BatchFailure,
  BatchSummary,
  EventSink,
  ExecutionRepository,
  InsertedChunk,
} from "./ports.ts";
import { sameContent, toRecord, validateExecution, type ValidationDetail } from "./validate.ts";

/** An item that cannot be read (an NDJSON line that is not JSON, a testcase without a start): it
 * fails as its own item, with `reason` as the detail of the field at `path`, not the whole request. */
export class UnparseableItem {
  constructor(readonly reason: string, readonly path = "") {}
}

/** The error of a failed item. */
export interface ItemError {
  code: ItemErrorCode;
  message: string;
  details?: ValidationDetail[];
}

/** The verdict on one request item, in request order. */
export interface ItemVerdict {
  index: number;
  id: string | null;
  status: "created" | "duplicate" | "failed";
  error?: ItemError;
}

/** The answer to one batch. */
export interface BatchResult {
  batchId: string;
  total: number;
  created: number;
  duplicates: number;
  failed: number;
  items: ItemVerdict[];
}

/** What the ingestor needs from outside. */
export interface IngestDeps {
  repository: ExecutionRepository;
  sink: EventSink;
  /** Time-ordered ids (UUIDv7) for batches and for items sent without one. */
  newId: () => string;
  /** The settings in force, read at the start of each batch (a reload may change them). */
  settings: () => IngestSettings;
  /** A monotonic clock in milliseconds, for the batch's duration. @default performance.now */
  monotonicMs?: () => number;
  /**
   * Told when a batch's record (its counts, or its failed items) could not be saved, so it is
   * logged and counted: the executions are stored, only what GET /v1/batches/{id} shows is lost.
   */
  onRecordFailure?: (batchId: string, error: StorageError, failuresDropped: boolean) => void;
}

/** Settings read at the start of each batch (they may change at run time). */
export interface IngestSettings {
  /** Items per insert statement. */
  chunkSize: number;
  /** Chunks of one batch stored at once. @default 1 */
  chunkConcurrency?: number;
  /**
   * Most extra insert statements one batch may spend isolating the items the database refuses
   * (a refused chunk is halved until only the culprits fail). Once they are spent, a refused
   * group fails whole with STORAGE_FAILED, so a batch of refused items costs its chunks plus
   * this, not twice its items. @default 32
   */
  maxSplitStatements?: number;
  /**
   * Failed items kept with a batch's record, in index order; the rest are counted only (the
   * answer to the request still lists every one). @default 1000
   */
  failuresKept?: number;
}

/** What one batch carries besides its items. */
export interface IngestOptions {
  /** The fingerprint of the API key sending the batch, kept with it. @default null */
  uploadedBy?: string | null;
}

/** The default of IngestSettings.maxSplitStatements. */
export const MAX_SPLIT_STATEMENTS = 32;
/** The default of IngestSettings.failuresKept. */
export const FAILURES_KEPT = 1000;

type Pending = { index: number; record: ExecutionRecord };

/** One batch in progress: where verdicts go and how many split statements are left. */
interface BatchRun {
  batchId: string;
  /** The sender's key fingerprint, kept with every row. */
  uploadedBy: string | null;
  verdicts: ItemVerdict[];
  splitsLeft: number;
}

/** Creates the batch ingestor. */
export function createIngestor(deps: IngestDeps) {
  const monotonicMs = deps.monotonicMs ?? (() => performance.now());

  /** Validates, stores and judges every item of one batch. Storage problems become item verdicts. */
  async function ingest(
    items: readonly unknown[],
    options: IngestOptions = {},
  ): Promise<BatchResult> {
    const began = monotonicMs();
    const settings = deps.settings();
    const batchId = deps.newId();
    const verdicts: ItemVerdict[] = new Array(items.length);
    const run: BatchRun = {
      batchId,
      uploadedBy: options.uploadedBy ?? null,
      verdicts,
      splitsLeft: settings.maxSplitStatements ?? MAX_SPLIT_STATEMENTS,
    };
    const pending: Pending[] = [];
    const firstIndexOfId = new Map<string, number>();

    items.forEach((raw, index) => {
      const checked = raw instanceof UnparseableItem
        ? { ok: false as const, details: [{ path: raw.path, message: raw.reason }] }
        : validateExecution(raw);
      if (!checked.ok) {
        verdicts[index] = fail(index, echoId(raw), {
          code: ItemErrorCode.VALIDATION_FAILED,
          message: `Cannot accept execution at index ${index}: ${
            checked.details.length === 1 ? "1 problem" : `${checked.details.length} problems`
          } (see details)`,
          details: checked.details,
        });
        return;
      }
      const record = toRecord(checked.value, deps.newId);
      const first = firstIndexOfId.get(record.id);
      if (first !== undefined) {
        verdicts[index] = fail(index, record.id, {
          code: ItemErrorCode.DUPLICATE_IN_BATCH,
          message:
            `Cannot accept execution "${record.id}": the same id is already at index ${first}`,
        });
        return;
      }
      firstIndexOfId.set(record.id, index);
      pending.push({ index, record });
    });

    const chunkSize = Math.max(1, Math.floor(settings.chunkSize));
    const chunks: Pending[][] = [];
    for (let start = 0; start < pending.length; start += chunkSize) {
      chunks.push(pending.slice(start, start + chunkSize));
    }
    // A few chunks of one batch are stored side by side (each on its own connection, committed on
    // its own); once the database is found unavailable, the chunks not yet started are not tried.
    let unavailable: StorageError | undefined;
    let nextChunk = 0;
    const worker = async () => {
      while (nextChunk < chunks.length) {
        const chunk = chunks[nextChunk++];
        if (unavailable) {
          for (const item of chunk) verdicts[item.index] = unavailableVerdict(item, unavailable);
          continue;
        }
        unavailable = (await storeChunk(run, chunk)) ?? unavailable;
      }
    };
    const lanes = Math.max(1, Math.min(settings.chunkConcurrency ?? 1, chunks.length));
    await Promise.all(Array.from({ length: lanes }, worker));

    let created = 0, duplicates = 0, failed = 0;
    for (const verdict of verdicts) {
      if (verdict.status === "created") created++;
      else if (verdict.status === "duplicate") duplicates++;
      else failed++;
    }
    const result = { batchId, total: items.length, created, duplicates, failed, items: verdicts };
    if (created + duplicates > 0) {
      const kept = Math.max(0, settings.failuresKept ?? FAILURES_KEPT);
      const failures: BatchFailure[] = [];
      for (const { index, id, error } of failed === 0 ? [] : verdicts) {
        if (failures.length >= kept) break;
        if (error) {
          failures.push({
            index,
            id,
            code: error.code,
            message: error.message,
            details: error.details,
          });
        }
      }
      await saveSummary({
        batchId,
        total: result.total,
        created,
        duplicates,
        failed,
        durationMs: monotonicMs() - began,
        uploadedBy: options.uploadedBy ?? null,
        // Kept with the batch for GET /v1/batches/{batchId}: what failed and why, never the
        // payload, and only the first `kept` of them, so a batch's record has a bound.
        failures,
        failuresNotKept: failed - failures.length,
      });
    }
    return result;
  }

  /** Stores one chunk; splits it when the database rejects it; returns the error that stops the batch. */
  async function storeChunk(run: BatchRun, chunk: Pending[]): Promise<StorageError | undefined> {
    const { batchId, verdicts } = run;
    let inserted: InsertedChunk;
    try {
      inserted = await deps.repository.insertChunk(batchId, chunk.map((item) => item.record), {
        uploadedBy: run.uploadedBy,
      });
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      if (error.kind !== "rejected") {
        for (const item of chunk) verdicts[item.index] = unavailableVerdict(item, error);
        return error;
      }
      if (chunk.length === 1) {
        const [item] = chunk;
        verdicts[item.index] = fail(item.index, item.record.id, {
          code: ItemErrorCode.STORAGE_FAILED,
          message: `Cannot store execution "${item.record.id}": ${error.message}`,
        });
        return undefined;
      }
      if (run.splitsLeft < 2) {
        for (const item of chunk) {
          verdicts[item.index] = fail(item.index, item.record.id, {
            code: ItemErrorCode.STORAGE_FAILED,
            message: `Cannot store execution "${item.record.id}": the database refused the ` +
              `group of ${chunk.length} executions holding it (${error.message}); too many ` +
              `executions of this batch were refused to tell which, so none of the group was stored`,
          });
        }
        return undefined;
      }
      // Bisect: the halves are retried on their own, so only the culprits end up failed.
      run.splitsLeft -= 2;
      const middle = Math.ceil(chunk.length / 2);
      const stop = await storeChunk(run, chunk.slice(0, middle));
      if (stop) {
        for (const item of chunk.slice(middle)) {
          verdicts[item.index] = unavailableVerdict(item, stop);
        }
        return stop;
      }
      return await storeChunk(run, chunk.slice(middle));
    }

    const skippedIds = new Set(inserted.skipped);
    const skipped: Pending[] = [];
    const stored: StoredExecution[] = [];
    const createdAt = inserted.createdAt ?? "";
    for (const item of chunk) {
      if (skippedIds.has(item.record.id)) {
        skipped.push(item);
        continue;
      }
      verdicts[item.index] = { index: item.index, id: item.record.id, status: "created" };
      stored.push({ ...item.record, batchId, createdAt });
    }
    if (inserted.outboxId !== null) {
      deps.sink.offer({
        id: inserted.outboxId,
        executions: stored,
        storedAtMs: Date.now(),
        bytes: inserted.bytes,
      });
    }
    if (skipped.length > 0) return await judgeSkipped(skipped, verdicts);
    return undefined;
  }

  /** Items the insert skipped are already stored: the same content is a duplicate, other content a conflict. */
  async function judgeSkipped(
    skipped: Pending[],
    verdicts: ItemVerdict[],
  ): Promise<StorageError | undefined> {
    let found: Map<string, ExecutionRecord>;
    try {
      found = await deps.repository.findStored(skipped.map((item) => item.record.id));
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      for (const item of skipped) verdicts[item.index] = unavailableVerdict(item, error);
      return error.kind === "rejected" ? undefined : error;
    }
    for (const { index, record } of skipped) {
      const existing = found.get(record.id);
      verdicts[index] = existing && sameContent(existing, record)
        ? { index, id: record.id, status: "duplicate" }
        : fail(index, record.id, {
          code: ItemErrorCode.ID_CONFLICT,
          message:
            `Cannot store execution "${record.id}": that id is already stored with other content`,
        });
    }
    return undefined;
  }

  async function saveSummary(summary: BatchSummary) {
    try {
      return await deps.repository.saveBatch(summary);
    } catch (error) {
      // The executions are stored and their events queued; only the batch's record is at stake.
      if (!(error instanceof StorageError)) throw error;
      const withFailures = summary.failures.length > 0;
      deps.onRecordFailure?.(summary.batchId, error, withFailures);
      // A failed item the database refused must not cost the batch its record: it is kept with
      // its counts, every failure counted as not kept.
      if (!withFailures || error.kind !== "rejected") return;
    }
    try {
      await deps.repository.saveBatch({
        ...summary,
        failures: [],
        failuresNotKept: summary.failed,
      });
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      deps.onRecordFailure?.(summary.batchId, error, false);
    }
  }

  return { ingest };
}

function fail(index: number, id: string | null, error: ItemError): ItemVerdict {
  return { index, id, status: "failed", error };
}

function unavailableVerdict(item: Pending, error: StorageError): ItemVerdict {
  return fail(item.index, item.record.id, {
    code: ItemErrorCode.STORAGE_UNAVAILABLE,
    message: `Cannot store execution "${item.record.id}" now: ${error.message}; retry later`,
  });
}

/** The id a client sent with an invalid item, when it is a plausible one, so it can match its rows. */
function echoId(raw: unknown): string | null {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return null;
  const id = (raw as Record<string, unknown>).id;
  return typeof id === "string" && id.length <= 64 ? id : null;
}
