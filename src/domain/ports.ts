// The ports the core talks through; adapters in db/ and publish/ implement them.
import type { ItemErrorCode } from "./errors.ts";
import type { ExecutionRecord, StoredExecution } from "./execution.ts";
import type { ValidationDetail } from "./validate.ts";

/** Counts of one batch. */
export interface BatchCounts {
  batchId: string;
  total: number;
  created: number;
  duplicates: number;
  failed: number;
}

/** One failed item of a batch as it is kept with the batch: never the item's payload. */
export interface BatchFailure {
  index: number;
  /** The id the item carried or was given, or null. */
  id: string | null;
  code: ItemErrorCode;
  message: string;
  details?: ValidationDetail[];
}

/** A finished batch as the ingestor records it for `GET /v1/batches/{batchId}`. */
export interface BatchSummary extends BatchCounts {
  /**
   * How long the batch took, in milliseconds of the monotonic clock; the store puts both of its
   * instants on one clock (received = completed minus this).
   */
  durationMs: number;
  /** The fingerprint of the API key that sent it; null when access control is off. */
  uploadedBy: string | null;
  /** Its first failed items (at most BATCH_FAILURES_KEPT), in index order. */
  failures: BatchFailure[];
  /** How many more items failed than `failures` holds: counted, not kept. */
  failuresNotKept: number;
}

/** A stored batch's counts and where its events stand, as `GET /v1/batches/{batchId}` shows them. */
export interface BatchStatus extends BatchCounts {
  /** Failed items counted but not kept with the batch (past BATCH_FAILURES_KEPT). */
  failuresNotKept: number;
  receivedAt: string;
  completedAt: string;
  events: { published: number; pending: number; failed: number };
}

/** What one insert statement did: the outbox chunk of the rows it stored, and the ids it skipped. */
export interface InsertedChunk {
  /** The outbox chunk holding the inserted rows' events, or null when every row was already stored. */
  outboxId: string | null;
  /** When the inserted rows were stored (null when none was). */
  createdAt: string | null;
  /** The estimated size of the inserted rows' events, in bytes (0 when none was inserted). */
  bytes: number;
  /** Ids already stored, so not inserted (a resubmission or a conflict; usually none). */
  skipped: string[];
}

/** What an insert keeps with every row besides the record. */
export interface InsertOptions {
  /**
   * The fingerprint of the API key that sent the rows: only that key (and admin keys) may read
   * them. @default null (access control off)
   */
  uploadedBy?: string | null;
}

/** A stored execution with the fingerprint of the key that stored it (null: access control was off). */
export type OwnedExecution = StoredExecution & { uploadedBy: string | null };

/** Where executions are stored. Every method throws StorageError on failure. */
export interface ExecutionRepository {
  /**
   * Stores the records not stored yet, and one outbox chunk listing their pending events, in one
   * statement committed on its own. Returns the ones it inserted; ids already present are skipped.
   */
  insertChunk(
    batchId: string,
    records: readonly ExecutionRecord[],
    options?: InsertOptions,
  ): Promise<InsertedChunk>;
  /** Those of `ids` that are stored, as records (to tell a resubmission from a conflict). */
  findStored(ids: readonly string[]): Promise<Map<string, ExecutionRecord>>;
  /** Records a finished batch's counts. */
  saveBatch(summary: BatchSummary): Promise<void>;
}

/**
 * The pending events of one outbox chunk: what one insert statement stored, or what is left of it.
 * The chunk, not the event, is the unit the outbox stores, leases and settles.
 */
export interface OutboxChunk {
  id: string;
  executions: StoredExecution[];
  /**
   * When the chunk was stored, on this process's clock (milliseconds since the epoch): the publish
   * lag is measured on one clock, whatever the database's says.
   */
  storedAtMs: number;
  /**
   * The estimated size of its events, in bytes (measured by the store when it inserted them): what
   * bounds the chunks held in memory and claimed at once.
   */
  bytes: number;
}

/**
 * Takes each stored chunk for publishing without ever blocking; a chunk it cannot take waits in
 * the outbox until its lease ends, then any relay claims it.
 */
export interface EventSink {
  offer(chunk: OutboxChunk): void;
}

/** One event that could not be published, kept for an operator. */
export interface DeadLetterInput {
  executionId: string;
  batchId: string;
  attempts: number;
  reason: string;
}

/** How a chunk held by the publisher ends: every event is either acknowledged or a dead letter. */
export interface ChunkSettlement {
  id: string;
  deadLetters: DeadLetterInput[];
}

/** What is handed back to the outbox when Kafka cannot be reached: the events still unsent. */
export interface ChunkRelease {
  id: string;
  /** Execution ids still pending; the chunk's row keeps only these. */
  pendingIds: string[];
  /** Execution ids that became dead letters meanwhile. */
  deadLetters: DeadLetterInput[];
  /** True when pendingIds is every id of the chunk (nothing to rewrite). */
  whole: boolean;
}

/** A chunk the relay claimed, with the rows it could read and the ids it could not. */
export interface ClaimedChunk extends OutboxChunk {
  /** Ids whose execution row is missing or cannot be read, with why: they become dead letters. */
  unreadable: Array<{ id: string; batchId: string; reason: string }>;
}

/** The outbox as the publisher and the relay use it. Every method throws StorageError on failure. */
export interface OutboxPort {
  /**
   * Leases due chunks holding up to about `maxEvents` events and `maxBytes` estimated bytes (at
   * least one chunk, whatever its size) for `leaseMs`, skipping the chunks in `held`, and returns
   * them with their executions.
   */
  claimDue(
    maxEvents: number,
    leaseMs: number,
    held: readonly string[],
    maxBytes?: number,
  ): Promise<ClaimedChunk[]>;
  /** Extends the lease of chunks this instance holds in memory, so no one else claims them. */
  renewLeases(ids: readonly string[], leaseMs: number): Promise<void>;
  /** Forgets settled chunks; their dead letters are kept, in the same transaction. */
  settle(chunks: readonly ChunkSettlement[]): Promise<void>;
  /** Hands chunks back, due after `delayMs` (0: at once), keeping only their pending ids. */
  release(chunks: readonly ChunkRelease[], delayMs: number): Promise<void>;
}

/** A message ready for the broker: key, value and headers, all text. */
export interface EventMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/**
 * Sends messages to the message broker; resolves once the broker acknowledged all of them.
 * Rejects with PublishError only: its kind says whether the broker or the message is at fault.
 */
export interface EventProducer {
  send(messages: readonly EventMessage[]): Promise<void>;
  /** Closes connections; sends still running reject with PublishError of kind "closed". */
  close(): Promise<void>;
}

/** The structured logger every layer receives (pino's Logger fits it). */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A stored batch with the fingerprint of the key that sent it (null: access control was off). */
export interface OwnedBatch extends BatchStatus {
  uploadedBy: string | null;
}

/** Which recent batches to list. */
export interface BatchListQuery {
  /** Most batches to return. */
  limit: number;
  /** Only batches older than this one (its id): the next page. */
  before?: string;
  /** Only batches sent with this key fingerprint (plus those sent with access control off). */
  uploadedBy?: string;
}

/** A page of recent batches, newest first. */
export interface BatchPage {
  batches: OwnedBatch[];
  /** The batch id to pass as `before` for the next page, or null on the last page. */
  nextBefore: string | null;
}

/** A page of a batch's failed items, in index order. */
export interface FailurePage {
  items: BatchFailure[];
  /** The index to pass as `after` for the next page, or null on the last page. */
  nextAfter: number | null;
}

/** Where stored batches are read. Every method throws StorageError on failure. */
export interface BatchReader {
  /** A batch's counts, the state of its events and who sent it, or undefined. */
  getBatch(batchId: string): Promise<OwnedBatch | undefined>;
  /** Recent batches, newest first. */
  listBatches(query: BatchListQuery): Promise<BatchPage>;
  /** A batch's failed items with an index above `after` (all when absent). */
  listFailures(batchId: string, page: { after?: number; limit: number }): Promise<FailurePage>;
}

/** What publishing reports as it goes; the metrics module implements it. */
export interface PublishObserver {
  /** One send was acknowledged, `seconds` after its first try (retries included). */
  sent(seconds: number): void;
  /** Events acknowledged, each with its time since it was stored. */
  published(lagSeconds: readonly number[]): void;
  retried(count: number): void;
  deadLettered(count: number): void;
  unavailable(count: number): void;
}

/** Console sessions ended before their expiry (signed out). Every method throws StorageError on failure. */
export interface SessionRevocations {
  /** Records that the session `sessionId` ends now; kept until `expiresAt`, its natural end. */
  revoke(sessionId: string, expiresAt: Date): Promise<void>;
  /** True when the session was revoked (and its natural end is still ahead). */
  isRevoked(sessionId: string): Promise<boolean>;
}
