// Reads a batch body within its limits: size enforced while reading, items counted before validation.
import type { Context } from "hono";
import { ApiError, ApiErrorCode } from "../domain/errors.ts";
import { UnparseableItem } from "../domain/ingest.ts";

/** Limits of one batch request. */
export interface BatchLimits {
  /** Most items per request. @default 10000 */
  maxItems: number;
  /** Most bytes per request body. @default 16777216 */
  maxBytes: number;
}

const NDJSON_TYPES = new Set(["application/x-ndjson", "application/ndjson", "application/jsonl"]);

/** Reads and parses the body into raw items (NDJSON lines that are not JSON become UnparseableItem). */
export async function readBatch(c: Context, limits: BatchLimits): Promise<unknown[]> {
  const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
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
  const text = await readText(c, limits.maxBytes);
  return ndjson ? parseNdjson(text, limits.maxItems) : parseJson(text, limits.maxItems);
}

/** Reads the whole body as UTF-8, refusing it (413) as soon as it passes `maxBytes`. */
export async function readText(c: Context, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    new ApiError(
      413,
      ApiErrorCode.PAYLOAD_TOO_LARGE,
      `Cannot accept a body over ${maxBytes} bytes; split the batch`,
    );
  const declared = Number(c.req.header("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const body = c.req.raw.body;
  if (!body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(
      400,
      ApiErrorCode.INVALID_BODY,
      "Cannot read the body: it is not valid UTF-8",
    );
  }
}

function invalid(message: string): ApiError {
  return new ApiError(400, ApiErrorCode.INVALID_BODY, message);
}

function tooMany(count: number, maxItems: number): ApiError {
  return new ApiError(
    413,
    ApiErrorCode.TOO_MANY_ITEMS,
    `Cannot accept ${count} executions in one batch: the limit is ${maxItems}; split the batch`,
  );
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
  if (executions.length > maxItems) throw tooMany(executions.length, maxItems);
  return executions;
}

function parseNdjson(text: string, maxItems: number): unknown[] {
  // Blank lines are skipped, but messages name the line as an editor numbers it.
  const lines: Array<{ text: string; number: number }> = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim().length > 0) lines.push({ text: line, number: i + 1 });
  });
  if (lines.length === 0) {
    throw invalid("The NDJSON body has no lines: send one execution per line");
  }
  if (lines.length > maxItems) throw tooMany(lines.length, maxItems);
  return lines.map((line) => {
    try {
      return JSON.parse(line.text);
    } catch (error) {
      return new UnparseableItem(
        `line ${line.number} is not valid JSON: ${(error as Error).message}`,
      );
    }
  });
}
