// The ports the core talks through; adapters in db/ and publish/ implement them.
import type { ExecutionRecord, StoredExecution } from "./execution.ts";

/** Counts of one batch. */
export interface BatchCounts {
  batchId: string;
  total: number;
  created: number;
  duplicates: number;
  failed: number;
}

/** A finished batch as the ingestor records it for `GET /v1/batches/{batchId}`. */
export interface BatchSummary extends BatchCounts {
  /**
   * How long the batch took, in milliseconds of the monotonic clock; the store puts both of its
   * instants on one clock (received = completed minus this).
   */
  durationMs: number;
}

/** A stored batch's counts and where its events stand, as `GET /v1/batches/{batchId}` shows them. */
export interface BatchStatus extends BatchCounts {
  receivedAt: string;
  completedAt: string;
  events: { published: number; pending: number; failed: number };
}

/** Where executions are stored. Every method throws StorageError on failure. */
export interface ExecutionRepository {
  /**
   * Stores the records not stored yet, each with its pending outbox event, in one statement
   * committed on its own. Returns the ones it inserted; ids already present are skipped.
   */
  insertChunk(
    batchId: string,
    records: readonly ExecutionRecord[],
  ): Promise<Array<{ id: string; createdAt: string }>>;
  /** Those of `ids` that are stored, as records (to tell a resubmission from a conflict). */
  findStored(ids: readonly string[]): Promise<Map<string, ExecutionRecord>>;
  /** Records a finished batch's counts. */
  saveBatch(summary: BatchSummary): Promise<void>;
}

/** Takes stored executions for publishing without ever blocking; what it cannot take waits in the outbox. */
export interface EventSink {
  offer(executions: readonly StoredExecution[]): void;
}

/** The outbox as the publisher and the relay use it. Every method throws StorageError on failure. */
export interface OutboxPort {
  /** Leases up to `limit` due pending events for `leaseMs` and returns their executions. */
  claimDue(limit: number, leaseMs: number): Promise<StoredExecution[]>;
  /** Removes acknowledged events. */
  markPublished(ids: readonly string[]): Promise<number>;
  /** Keeps events as dead letters. */
  markFailed(ids: readonly string[], attempts: number, reason: string): Promise<number>;
  /** Makes events due again after `delayMs`. */
  release(ids: readonly string[], delayMs: number): Promise<number>;
}

/** Sends stored executions to the message broker; resolves once the broker acknowledged all of them. */
export interface EventProducer {
  send(executions: readonly StoredExecution[]): Promise<void>;
  close(): Promise<void>;
}

/** The structured logger every layer receives (pino's Logger fits it). */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
