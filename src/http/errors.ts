// The HTTP side of errors: the request-level codes of the JSON envelope, and the error that carries
// one to the mapper (error_mapper.ts), which alone turns it into a response.

/** Request-level codes (inside the error envelope `{ error: { code } }`); part of the API. */
export const ApiErrorCode = {
  INVALID_BODY: "INVALID_BODY",
  TOO_MANY_ITEMS: "TOO_MANY_ITEMS",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  TOO_MANY_VALUES: "TOO_MANY_VALUES",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  INVALID_PARAMETER: "INVALID_PARAMETER",
  VALIDATION_FAILED: "VALIDATION_FAILED",
  ITEMS_REJECTED: "ITEMS_REJECTED",
  STORAGE_UNAVAILABLE: "STORAGE_UNAVAILABLE",
  SERVICE_SATURATED: "SERVICE_SATURATED",
  BODY_READ_TIMEOUT: "BODY_READ_TIMEOUT",
  UPLOAD_INTERRUPTED: "UPLOAD_INTERRUPTED",
  CLI_NOT_BUILT: "CLI_NOT_BUILT",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  INTERNAL_ERROR: "INTERNAL_ERROR",
} as const;
export type ApiErrorCode = typeof ApiErrorCode[keyof typeof ApiErrorCode];

/** The statuses an error response may have. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 408 | 413 | 415 | 422 | 500 | 503;

/** What an ApiError may carry besides its status, code and message. */
interface ApiErrorOptions {
  cause?: unknown;
  /** Headers of the response (a 401's WWW-Authenticate); Retry-After is the mapper's to set. */
  headers?: Record<string, string>;
  /** Fields the response body carries beside the envelope (a rejected batch's answer). */
  body?: object;
}

/** An error that maps to one HTTP response with the JSON error envelope. */
export class ApiError extends Error {
  constructor(
    readonly status: ErrorStatus,
    readonly code: ApiErrorCode,
    message: string,
    readonly options: ApiErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ApiError";
  }
}

/** The body of every error response. */
export interface ErrorEnvelope {
  error: { code: ApiErrorCode; message: string; requestId: string };
}
