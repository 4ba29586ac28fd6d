// The domain's error codes and errors: item verdict codes (part of the API), storage and publish
// failures in the ports' own words. Request-level codes and HTTP statuses are in http/errors.ts.

/** Item-level verdict codes (inside `items[].error.code`). */
export const ItemErrorCode = {
  VALIDATION_FAILED: "VALIDATION_FAILED",
  DUPLICATE_IN_BATCH: "DUPLICATE_IN_BATCH",
  ID_CONFLICT: "ID_CONFLICT",
  STORAGE_FAILED: "STORAGE_FAILED",
  STORAGE_UNAVAILABLE: "STORAGE_UNAVAILABLE",
} as const;
export type ItemErrorCode = typeof ItemErrorCode[keyof typeof ItemErrorCode];

/** Why a storage call failed, as the domain needs to know it. */
export type StorageFailureKind =
  /** The database refused these rows (a constraint, a value out of range): splitting can isolate the culprit. */
  | "rejected"
  /** The database could not be reached or timed out: retryable, nothing to isolate. */
  | "unavailable"
  /** No connection could be had before the deadline: retryable. */
  | "saturated";

/** A storage failure with a message safe to show a client (no SQL, no parameters). */
export class StorageError extends Error {
  constructor(readonly kind: StorageFailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StorageError";
  }
}

/** Why a publish failed, as the publisher needs to know it. */
export type PublishFailureKind =
  /** The broker cannot be reached or is not ready (connection, timeout, no leader): wait, retry. */
  | "unavailable"
  /** The broker refused these messages (too large, invalid): retrying the same bytes may not help. */
  | "rejected"
  /** The producer was closed (shutdown): the events go back to the outbox, never to dead letters. */
  | "closed";

/** A publish failure in the port's own words; adapters turn their client's errors into it. */
export class PublishError extends Error {
  constructor(readonly kind: PublishFailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PublishError";
  }
}
