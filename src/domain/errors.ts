// Stable error codes and the errors that carry them across layers; the codes are part of the API.

/** Item-level verdict codes (inside `items[].error.code`). */
export const ItemErrorCode = {
  VALIDATION_FAILED: "VALIDATION_FAILED",
  DUPLICATE_IN_BATCH: "DUPLICATE_IN_BATCH",
  ID_CONFLICT: "ID_CONFLICT",
  STORAGE_FAILED: "STORAGE_FAILED",
  STORAGE_UNAVAILABLE: "STORAGE_UNAVAILABLE",
} as const;
export type ItemErrorCode = typeof ItemErrorCode[keyof typeof ItemErrorCode];

/** Request-level codes (inside the error envelope `{ error: { code } }`). */
export const ApiErrorCode = {
  INVALID_BODY: "INVALID_BODY",
  TOO_MANY_ITEMS: "TOO_MANY_ITEMS",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  INVALID_PARAMETER: "INVALID_PARAMETER",
  VALIDATION_FAILED: "VALIDATION_FAILED",
  ITEMS_REJECTED: "ITEMS_REJECTED",
  STORAGE_UNAVAILABLE: "STORAGE_UNAVAILABLE",
  SERVICE_SATURATED: "SERVICE_SATURATED",
  BODY_READ_TIMEOUT: "BODY_READ_TIMEOUT",
  UPLOAD_INTERRUPTED: "UPLOAD_INTERRUPTED",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  INTERNAL_ERROR: "INTERNAL_ERROR",
} as const;
export type ApiErrorCode = typeof ApiErrorCode[keyof typeof ApiErrorCode];

/** An error that maps to one HTTP response with the JSON error envelope. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 408 | 413 | 415 | 422 | 500 | 503,
    readonly code: ApiErrorCode,
    message: string,
    readonly options: { retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ApiError";
  }
}

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
