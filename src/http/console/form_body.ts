// Reads the console's form bodies through the API's own body reader (a deadline, a share of the
// bytes-in-flight budget, a size enforced before and while the bytes arrive), then their fields; a
// form that cannot be read is a 400 or 415 with a stable code, never a 500.
import type { Context } from "hono";
import { type BodyReaderDeps, mediaType, readBytes } from "../batch_body.ts";
import { ApiError, ApiErrorCode } from "../errors.ts";

/** A form's fields by name (the last value of a repeated name), as Hono's parseBody gives them. */
export type FormFields = Record<string, string | File>;

/** Limits of one form body. */
export interface FormLimits {
  /** Most bytes of the whole body, encoding and boundaries included. */
  maxBytes: number;
  /** Most milliseconds to receive the whole body (BATCH_READ_TIMEOUT_MS). */
  readTimeoutMs: number;
  /** What a 413 says, after "Cannot accept". @default `a form over ${maxBytes} bytes` */
  tooLarge?: string;
}

const URLENCODED = "application/x-www-form-urlencoded";
const MULTIPART = "multipart/form-data";

/**
 * Reads a short form (sign-in, sign-out, re-queue): its bytes go back to the budget as soon as its
 * fields are read.
 */
export async function readForm(
  c: Context,
  limits: FormLimits,
  deps: BodyReaderDeps,
): Promise<FormFields> {
  const { fields, taken } = await readFormHolding(c, limits, deps);
  deps.budget.give(taken);
  return fields;
}

/**
 * Reads a form and keeps its bytes taken from the budget: `taken` is the caller's to give back once
 * what was read from the form (an uploaded file, its rows) is no longer held.
 */
export async function readFormHolding(
  c: Context,
  limits: FormLimits,
  deps: BodyReaderDeps,
): Promise<{ fields: FormFields; taken: number }> {
  const type = mediaType(c);
  if (type !== URLENCODED && type !== MULTIPART) {
    throw new ApiError(
      415,
      ApiErrorCode.UNSUPPORTED_MEDIA_TYPE,
      `Cannot read a form sent as "${
        type || "(no content type)"
      }": send ${URLENCODED} or ${MULTIPART}`,
    );
  }
  let read;
  try {
    read = await readBytes(c, limits, deps);
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== ApiErrorCode.PAYLOAD_TOO_LARGE) throw error;
    throw new ApiError(
      413,
      ApiErrorCode.PAYLOAD_TOO_LARGE,
      `Cannot accept ${limits.tooLarge ?? `a form over ${limits.maxBytes} bytes`}`,
      { cause: error },
    );
  }
  try {
    const fields = type === URLENCODED
      ? urlencodedFields(read.bytes)
      : await multipartFields(read.bytes, c.req.header("content-type")!);
    return { fields, taken: read.taken };
  } catch (error) {
    deps.budget.give(read.taken);
    throw error;
  }
}

function urlencodedFields(bytes: Uint8Array): FormFields {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw unreadable("it is not valid UTF-8");
  }
  // URLSearchParams reads any text: a stray "%" stays as it is, it never throws.
  return Object.fromEntries(new URLSearchParams(text));
}

async function multipartFields(bytes: Uint8Array, contentType: string): Promise<FormFields> {
  let form: FormData;
  try {
    // The bytes are already bounded; the platform's parser reads the parts (and the boundary).
    form = await new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { "content-type": contentType },
    }).formData();
  } catch (error) {
    throw unreadable(`it is not valid ${MULTIPART} (${(error as Error).message})`);
  }
  const fields: FormFields = {};
  for (const [name, value] of form) fields[name] = value;
  return fields;
}

function unreadable(why: string): ApiError {
  return new ApiError(400, ApiErrorCode.INVALID_BODY, `Cannot read the form: ${why}`);
}
