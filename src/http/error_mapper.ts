// The one place errors become HTTP responses: every error response has the same JSON envelope.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError, ApiErrorCode, StorageError } from "../domain/errors.ts";
import type { Logger } from "../domain/ports.ts";

/** The body of every error response. */
export interface ErrorEnvelope {
  error: { code: ApiErrorCode; message: string; requestId: string };
}

declare module "hono" {
  interface ContextVariableMap {
    /** The code of the error envelope the response carries (counted by the metrics middleware). */
    errorCode: ApiErrorCode;
  }
}

/** Builds the envelope for the current request, and notes its code on the context. */
export function errorBody(c: Context, code: ApiErrorCode, message: string): ErrorEnvelope {
  c.set("errorCode", code);
  return { error: { code, message, requestId: c.get("requestId") ?? "" } };
}

/** Hono's onError handler: ApiError as it says, anything else a 500 with no internals. */
export function createErrorHandler(logger: Logger) {
  return (error: Error, c: Context) => {
    if (error instanceof ApiError) {
      if (error.options.retryAfterSeconds !== undefined) {
        c.header("Retry-After", String(error.options.retryAfterSeconds));
      }
      // The rest of a body that came too slowly is not worth reading: the connection ends here.
      if (error.status === 408) c.header("Connection", "close");
      return c.json(errorBody(c, error.code, error.message), error.status);
    }
    if (error instanceof StorageError) {
      c.header("Retry-After", "5");
      return c.json(
        errorBody(
          c,
          ApiErrorCode.STORAGE_UNAVAILABLE,
          `Cannot read from the database now: ${error.message}`,
        ),
        503,
      );
    }
    if (error instanceof HTTPException && error.status < 500) {
      // Raised by Hono's own middleware; its status is right, its message generic.
      return c.json(
        errorBody(c, ApiErrorCode.INVALID_BODY, error.message || "Bad request"),
        error.status,
      );
    }
    logger.error(
      { requestId: c.get("requestId"), route: c.req.routePath, errorClass: error.name },
      "Unexpected error while handling a request",
    );
    return c.json(
      errorBody(
        c,
        ApiErrorCode.INTERNAL_ERROR,
        "Something went wrong on our side; the request id helps us find it",
      ),
      500,
    );
  };
}

/** Hono's notFound handler. */
export function notFound(c: Context) {
  return c.json(
    errorBody(c, ApiErrorCode.NOT_FOUND, `Cannot ${c.req.method} ${c.req.path}: no such route`),
    404,
  );
}
