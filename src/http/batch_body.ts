// Reads a batch body within its limits: a deadline, a share of the bytes-in-flight budget, its size
// and its item count enforced while the bytes arrive, then parsing.
import type { Context } from "hono";
import { UnparseableItem } from "../domain/ingest.ts";
import type { Logger } from "../domain/ports.ts";
import type { ByteBudget } from "./byte_budget.ts";
import { ApiError, ApiErrorCode } from "./errors.ts";
import {
  createJsonCounter,
  createNdjsonCounter,
  type ItemCounter,
  type ShapeLimits,
  type ShapeProblem,
} from "./item_counter.ts";
import { ATTRIBUTES_MAX_BYTES, ATTRIBUTES_MAX_DEPTH } from "../domain/execution_rules.ts";

/** Limits of one batch request. */
export interface BatchLimits {
  /** Most items per request. @default 10000 */
  maxItems: number;
  /** Most bytes per request body. @default 16777216 */
  maxBytes: number;
  /** Most milliseconds to receive the whole body. @default 30000 */
  readTimeoutMs: number;
  /** Most values (objects, arrays, elements: see ShapeLimits) in one body. @default 500000 */
  maxValues: number;
}

/**
 * Most nesting in one item: its own object, then `attributes` at most ATTRIBUTES_MAX_DEPTH deep.
 * Deeper can never be valid, so it is refused before parsing.
 */
export const ITEM_MAX_DEPTH = ATTRIBUTES_MAX_DEPTH + 1;
/**
 * Most values in one item: `attributes` of ATTRIBUTES_MAX_BYTES cannot hold more than one value per
 * two bytes, plus room for the other fields.
 */
export const ITEM_MAX_VALUES = ATTRIBUTES_MAX_BYTES / 2 + 64;
/** Most bytes of one item as sent: every text field and `attributes` written as \u escapes fit. */
export const ITEM_MAX_BYTES = 256 * 1024;

/** What reading needs besides the limits. */
export interface BodyReaderDeps {
  /** Bytes of bodies held across all requests; a body that does not fit is refused with 503. */
  budget: ByteBudget;
  /** True once shutdown began: an upload cut then is told so. */
  shuttingDown: () => boolean;
  logger: Logger;
}

/** A body read and parsed; `bytes` stay taken from the budget until the caller gives them back. */
interface ReadBatch {
  items: unknown[];
  bytes: number;
}

const NDJSON_TYPES = new Set(["application/x-ndjson", "application/ndjson", "application/jsonl"]);

/** The request's media type: its Content-Type without parameters, lower-case ("" when absent). */
export function mediaType(c: Context): string {
  return (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
}

/** Reads and parses the body into raw items (NDJSON lines that are not JSON become UnparseableItem). */
export async function readBatch(
  c: Context,
  limits: BatchLimits,
  deps: BodyReaderDeps,
): Promise<ReadBatch> {
  const type = mediaType(c);
  const ndjson = NDJSON_TYPES.has(type);
  if (!ndjson && type !== "application/json") {
    throw new ApiError(
      415,
      ApiErrorCode.UNSUPPORTED_MEDIA_TYPE,
      `Cannot read a batch sent as "${
        type || "(no content type)"
      }": send application/json or application/x-ndjson`,
    );
  }
  const shape: ShapeLimits = {
    maxValues: limits.maxValues,
    maxItemValues: ITEM_MAX_VALUES,
    maxItemDepth: ITEM_MAX_DEPTH,
    maxItemBytes: ITEM_MAX_BYTES,
  };
  const counter = ndjson ? createNdjsonCounter(shape) : createJsonCounter(shape);
  const { bytes, taken } = await readBytes(c, limits, deps, (chunk) => {
    if (counter.push(chunk) > limits.maxItems) throw tooMany(limits.maxItems);
    if (counter.problem) throw tooComplex(counter.problem, shape);
  });
  try {
    const text = decode(leaveOut(bytes, counter));
    const items = ndjson ? parseNdjson(text) : parseJson(text, limits.maxItems);
    failOversized(items, counter, shape);
    return { items, bytes: taken };
  } catch (error) {
    deps.budget.give(taken);
    throw error;
  }
}

/**
 * Reads the whole body within a deadline and a size, its bytes taken from the budget as they
 * arrive (a declared length up front), each chunk shown to `inspect`; `taken` stays taken until
 * the caller gives it back. The console's forms and uploads are read through it too.
 */
export async function readBytes(
  c: Context,
  limits: Pick<BatchLimits, "maxBytes" | "readTimeoutMs">,
  deps: BodyReaderDeps,
  inspect: (chunk: Uint8Array) => void = () => {},
): Promise<{ bytes: Uint8Array; taken: number }> {
  const { maxBytes } = limits;
  const tooLarge = () =>
    new ApiError(
      413,
      ApiErrorCode.PAYLOAD_TOO_LARGE,
      `Cannot accept a body over ${maxBytes} bytes; split the batch`,
    );
  const declared = Number(c.req.header("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  // A declared length is taken up front, so a body that cannot fit is refused before it is read.
  let taken = Number.isFinite(declared) && declared > 0 ? declared : 0;
  if (taken > 0 && !deps.budget.take(taken)) throw saturated(deps.budget);
  const body = c.req.raw.body;
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reader = body?.getReader();
  try {
    if (!reader) return { bytes: new Uint8Array(0), taken };
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), limits.readTimeoutMs);
    });
    while (true) {
      let next: ReadableStreamReadResult<Uint8Array> | "timeout";
      try {
        next = await Promise.race([reader.read(), deadline]);
      } catch (error) {
        throw interruptedUpload(c, deps, size, error);
      }
      if (next === "timeout") throw timedOut(limits.readTimeoutMs, size);
      if (next.done) break;
      const chunk = next.value;
      size += chunk.byteLength;
      if (size > maxBytes) throw tooLarge();
      if (size > taken) {
        if (!deps.budget.take(size - taken)) throw saturated(deps.budget);
        taken = size;
      }
      inspect(chunk);
      chunks.push(chunk);
    }
  } catch (error) {
    await reader?.cancel().catch(() => {});
    deps.budget.give(taken);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes, taken };
}

function saturated(budget: ByteBudget): ApiError {
  return new ApiError(
    503,
    ApiErrorCode.SERVICE_SATURATED,
    `The service already holds ${budget.inUse} bytes of request bodies (its budget is ${budget.capacity}); retry later`,
  );
}

function timedOut(ms: number, size: number): ApiError {
  return new ApiError(
    408,
    ApiErrorCode.BODY_READ_TIMEOUT,
    `Cannot wait longer for the body: ${size} bytes arrived within ${ms} ms; send it faster or in smaller batches`,
  );
}

function interruptedUpload(
  c: Context,
  deps: BodyReaderDeps,
  size: number,
  cause: unknown,
): ApiError {
  const shuttingDown = deps.shuttingDown();
  // A client that goes away (or a shutdown that cuts it off) is expected, not a fault of ours.
  deps.logger.info({
    requestId: c.get("requestId"),
    bytesRead: size,
    reason: shuttingDown ? "shutdown" : "client",
    errorClass: (cause as Error)?.name ?? "Error",
  }, "Upload interrupted before the body was complete; nothing was stored");
  return new ApiError(
    503,
    ApiErrorCode.UPLOAD_INTERRUPTED,
    shuttingDown
      ? "The service is shutting down and stopped reading the body; nothing was stored. Retry the whole batch"
      : "The body stopped arriving before it was complete; nothing was stored. Retry the whole batch",
    { cause },
  );
}

function decode(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw invalid("Cannot read the body: it is not valid UTF-8");
  }
}

function invalid(message: string): ApiError {
  return new ApiError(400, ApiErrorCode.INVALID_BODY, message);
}

function tooMany(maxItems: number, count?: number): ApiError {
  return new ApiError(
    413,
    ApiErrorCode.TOO_MANY_ITEMS,
    count === undefined
      ? `Cannot accept more than ${maxItems} executions in one batch; split the batch`
      : `Cannot accept ${count} executions in one batch: the limit is ${maxItems}; split the batch`,
  );
}

/** The 413 for a body of more values than BATCH_MAX_VALUES. */
function tooComplex(_: ShapeProblem, shape: ShapeLimits): ApiError {
  return new ApiError(
    413,
    ApiErrorCode.TOO_MANY_VALUES,
    `Cannot accept more than ${shape.maxValues} values (objects, arrays and their elements) ` +
      "in one body; split the batch",
  );
}

/**
 * The body with each oversized item's bytes replaced by `null`, so parsing never builds it (the
 * body as it is when there is none).
 */
function leaveOut(bytes: Uint8Array, counter: ItemCounter): Uint8Array {
  const { oversized } = counter;
  if (oversized.length === 0) return bytes;
  const NULL = new TextEncoder().encode("null");
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const item of oversized) {
    parts.push(bytes.subarray(at, item.start), NULL);
    at = item.end === -1 ? bytes.length : item.end;
  }
  parts.push(bytes.subarray(at));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Each oversized item of the parsed array fails alone, saying which limit it broke. */
function failOversized(items: unknown[], counter: ItemCounter, shape: ShapeLimits) {
  for (const { index, limit, list } of counter.oversized) {
    if (list !== counter.list || index >= items.length) continue;
    const what = limit === "maxItemDepth"
      ? `nests deeper than ${shape.maxItemDepth} levels`
      : limit === "maxItemValues"
      ? `holds more than ${shape.maxItemValues} values`
      : `is larger than ${shape.maxItemBytes} bytes`;
    items[index] = new UnparseableItem(
      `${what}, which no valid execution does (attributes hold at most ` +
        `${ATTRIBUTES_MAX_BYTES} bytes, ${ATTRIBUTES_MAX_DEPTH} levels deep); it was not read`,
    );
  }
}

function parseJson(text: string, maxItems: number): unknown[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw invalid(`Cannot parse the body as JSON: ${(error as Error).message}`);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw invalid('The body must be a JSON object of the form {"executions": [...]}');
  }
  const extra = Object.keys(body).filter((key) => key !== "executions");
  if (extra.length > 0) {
    throw invalid(
      `The body has unknown field "${extra[0].slice(0, 100)}"; only "executions" is allowed`,
    );
  }
  const executions = (body as { executions?: unknown }).executions;
  if (!Array.isArray(executions)) throw invalid('The body must have an "executions" array');
  if (executions.length === 0) {
    throw invalid('The "executions" array is empty: send at least one execution');
  }
  // The counter reads the raw bytes; this is the word of the parser itself.
  if (executions.length > maxItems) throw tooMany(maxItems, executions.length);
  return executions;
}

// Blank means JSON whitespace only, as the counter that ran while reading judged it.
const BLANK_LINE = /^[ \t\r]*$/;

function parseNdjson(text: string): unknown[] {
  // The counter already bounded the lines that hold something; blank ones are skipped without
  // splitting the text into an array first (a body of newlines would make millions of strings).
  const items: unknown[] = [];
  for (let start = 0, number = 1; start < text.length; number++) {
    const newline = text.indexOf("\n", start);
    const end = newline === -1 ? text.length : newline;
    const line = text.slice(start, end);
    start = end + 1;
    if (BLANK_LINE.test(line)) continue;
    try {
      items.push(JSON.parse(line));
    } catch (error) {
      // Lines are numbered as an editor numbers them, blank ones included.
      items.push(
        new UnparseableItem(`line ${number} is not valid JSON: ${(error as Error).message}`),
      );
    }
  }
  if (items.length === 0) {
    throw invalid("The NDJSON body has no lines: send one execution per line");
  }
  return items;
}

/**
 * Reads the whole body as UTF-8 text within the same deadline, size and byte budget as a batch
 * (for bodies parsed elsewhere, such as JUnit XML); `bytes` stay taken until the caller gives them back.
 */
export async function readText(
  c: Context,
  limits: BatchLimits,
  deps: BodyReaderDeps,
): Promise<{ text: string; bytes: number }> {
  const { bytes, taken } = await readBytes(c, limits, deps);
  try {
    return { text: decode(bytes), bytes: taken };
  } catch (error) {
    deps.budget.give(taken);
    throw error;
  }
}
