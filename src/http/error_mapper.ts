// The one place errors become responses: status, code, message and headers (Retry-After among them)
// are decided here, for the API's JSON envelope and the console's error pages alike.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { StorageError } from "../domain/errors.ts";
import type { Logger } from "../domain/ports.ts";
import { ApiError, ApiErrorCode, type ErrorEnvelope, type ErrorStatus } from "./errors.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** The code of the error envelope the response carries (counted by the metrics middleware). */
    errorCode: ApiErrorCode;
  }
}

/** Seconds a client is asked to wait before it retries, for the codes worth a retry. */
const RETRY_AFTER_SECONDS: Readonly<Partial<Record<ApiErrorCode, number>>> = {
  SERVICE_SATURATED: 2,
  UPLOAD_INTERRUPTED: 2,
  STORAGE_UNAVAILABLE: 5,
};

/** What an error is answered with. */
interface ErrorResponse {
  status: ErrorStatus;
  code: ApiErrorCode;
  message: string;
  headers: Record<string, string>;
  /** Fields the body carries beside the envelope (a rejected batch's answer). */
  body?: object;
  /** The class of an error no rule expected: it is logged, and nothing else of it leaves. */
  unexpected?: string;
}

/** Decides how an error is answered: ApiError as it says, a storage failure 503, Hono's 4xx, else 500. */
export function describeError(error: Error): ErrorResponse {
  let response: Omit<ErrorResponse, "headers">;
  const headers: Record<string, string> = {};
  if (error instanceof ApiError) {
    const { status, code, message, options } = error;
    Object.assign(headers, options.headers);
    response = { status, code, message, body: options.body };
  } else if (error instanceof StorageError) {
    response = {
      status: 503,
      code: ApiErrorCode.STORAGE_UNAVAILABLE,
      message: `Cannot read from the database now: ${error.message}`,
    };
  } else if (error instanceof HTTPException && error.status < 500) {
    // Raised by Hono's own middleware: its status is right, its message generic. A 403 is the
    // console's cross-site check.
    response = error.status === 403
      ? {
        status: 403,
        code: ApiErrorCode.FORBIDDEN,
        message: "Forms posted from another site are refused; use the console's own pages",
      }
      : {
        status: error.status as ErrorStatus,
        code: ApiErrorCode.INVALID_BODY,
        message: error.message || "Bad request",
      };
  } else {
    response = {
      status: 500,
      code: ApiErrorCode.INTERNAL_ERROR,
      message: "Something went wrong on our side; the request id helps us find it",
      unexpected: error.name,
    };
  }
  const retryAfter = RETRY_AFTER_SECONDS[response.code];
  if (retryAfter !== undefined && response.status === 503) headers["Retry-After"] = `${retryAfter}`;
  // The rest of a body that came too slowly is not worth reading: the connection ends here.
  if (response.status === 408) headers["Connection"] = "close";
  return { ...response, headers };
}

/** Builds the envelope for the current request, and notes its code on the context. */
function errorBody(c: Context, code: ApiErrorCode, message: string): ErrorEnvelope {
  c.set("errorCode", code);
  return { error: { code, message, requestId: c.get("requestId") ?? "" } };
}

/** Sets the response's headers and logs what was unexpected; returns the envelope to send. */
export function answerError(c: Context, response: ErrorResponse, logger: Logger): ErrorEnvelope {
  for (const [name, value] of Object.entries(response.headers)) c.header(name, value);
  if (response.unexpected !== undefined) {
    logger.error(
      { requestId: c.get("requestId"), route: c.req.routePath, errorClass: response.unexpected },
      "Unexpected error while handling a request",
    );
  }
  return errorBody(c, response.code, response.message);
}

/** Hono's onError handler for the API: the JSON envelope, plus a rejected batch's answer. */
export function createErrorHandler(logger: Logger) {
  return (error: Error, c: Context) => {
    const response = describeError(error);
    const envelope = answerError(c, response, logger);
    return c.json({ ...response.body, ...envelope }, response.status);
  };
}

/** Hono's notFound handler. */
export function notFound(c: Context) {
  return c.json(
    errorBody(c, ApiErrorCode.NOT_FOUND, `Cannot ${c.req.method} ${c.req.path}: no such route`),
    404,
  );
}
