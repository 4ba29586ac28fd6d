// An uploaded report file as batch items, through the submit CLI's own readers, stamps and ids, and
// the failure file of its rows that were not stored, as the CLI writes it.
import { prepareRows } from "../../cli/prepare_rows.ts";
import {
  formatOf,
  InputError,
  type InputFormat,
  type InputItem,
  parseExecutions,
  type ReadInput,
} from "../../cli/read_executions.ts";
import { failureCsv, failureLines } from "../../cli/report.ts";
import { type Failure, failureOf } from "../../cli/submit_batches.ts";
import { type BatchResult, UnparseableItem } from "../../domain/ingest.ts";
import { ReportError } from "../../domain/junit_xml.ts";
import { ApiError, ApiErrorCode } from "../errors.ts";
import { countRows } from "./row_counter.ts";

/** What the upload form sends besides the file. */
export interface UploadFields {
  format?: InputFormat;
  cycleKey?: string;
  environment?: string;
  /** Start of a JUnit report that carries no timestamp. */
  startedAt?: string;
}

/** A file read into rows ready to ingest. */
export interface ReadUpload {
  format: InputFormat;
  rows: InputItem[];
  /** A CSV file's columns, for its failure file. */
  header?: string[];
  /** The items to ingest, one per row; a row that cannot be read is an UnparseableItem. */
  items: unknown[];
}

/** The format named by the form, else by the file name, else by the first character. */
export function detectFormat(name: string, text: string, chosen?: InputFormat): InputFormat {
  if (chosen) return chosen;
  const byName = formatOf(name);
  if (byName) return byName;
  const first = text.trimStart()[0];
  if (first === "<") return "junit";
  if (first === "[") return "json";
  if (first === "{") return /^\s*\{[^\n]*\}\s*\n\s*\{/.test(text) ? "ndjson" : "json";
  return "csv";
}

/**
 * Reads an uploaded file into items: a file that is not UTF-8 or cannot be read is 400, one of more
 * than `maxItems` rows 413, counted from its bytes before any row is built. Rows without an id get
 * the id derived in `idScope`, the session's key's (see execution_id.ts), as the API and CLI do.
 */
export function readUpload(
  name: string,
  bytes: Uint8Array,
  fields: UploadFields,
  options: { maxItems: number; idScope?: string | null },
): ReadUpload {
  const { maxItems } = options;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(
      400,
      ApiErrorCode.INVALID_BODY,
      `Cannot read "${name}": it is not UTF-8; save it as UTF-8`,
    );
  }
  const format = detectFormat(name, text, fields.format);
  const counted = countRows(format, bytes);
  if (counted !== undefined && counted > maxItems) throw tooManyRows(maxItems, counted);
  let read: ReadInput;
  try {
    read = parseExecutions(text, format, { startedAt: fields.startedAt });
  } catch (error) {
    if (!(error instanceof InputError || error instanceof ReportError)) throw error;
    throw new ApiError(400, ApiErrorCode.INVALID_BODY, `Cannot read "${name}": ${error.message}`);
  }
  if (read.items.length === 0) {
    throw new ApiError(
      400,
      ApiErrorCode.INVALID_BODY,
      `Cannot read "${name}": it holds no execution`,
    );
  }
  // The count from the bytes is the reader's for valid files; this is the reader's own word.
  if (read.items.length > maxItems) throw tooManyRows(maxItems, read.items.length);
  const rows = prepareRows(read.items, {
    cycleKey: fields.cycleKey,
    environment: fields.environment,
    attributes: {},
    idScope: options.idScope,
  }, 0);
  const items = rows.map((row) =>
    row.problem === undefined ? row.value : new UnparseableItem(row.problem)
  );
  return { format, rows, header: read.header, items };
}

function tooManyRows(maxItems: number, count: number): ApiError {
  return new ApiError(
    413,
    ApiErrorCode.TOO_MANY_ITEMS,
    `Cannot accept ${count} rows in one upload: the limit is ${maxItems}; ` +
      "split the file, or send it with the submit CLI, which batches it",
  );
}

/** The rows that were not stored, each with its verdict's error, in file order. */
export function failuresOf(upload: ReadUpload, result: BatchResult): Failure[] {
  // The upload is one batch of every row in file order: a verdict's index is its row's.
  return result.items.flatMap((verdict) =>
    verdict.error ? [writable(failureOf(upload.rows[verdict.index], verdict.error))] : []
  );
}

/** Deepest nesting a failure row keeps; deeper fields are replaced by a note. */
export const FAILURE_ROW_MAX_DEPTH = 64;

/**
 * A failure whose row can be written: a field nested deeper than FAILURE_ROW_MAX_DEPTH (refused by
 * validation, which allows far less) becomes a note, since serialising it could overflow the stack.
 */
function writable(failure: Failure): Failure {
  const { value } = failure;
  if (value === null || typeof value !== "object") return failure;
  if (depthOf(value) <= FAILURE_ROW_MAX_DEPTH) return failure;
  const note = `(not kept: nested deeper than ${FAILURE_ROW_MAX_DEPTH} levels)`;
  const kept = Array.isArray(value)
    ? value.map((cell) => depthOf(cell) < FAILURE_ROW_MAX_DEPTH ? cell : note)
    : Object.fromEntries(
      Object.entries(value).map(([key, field]) => [
        key,
        depthOf(field) < FAILURE_ROW_MAX_DEPTH ? field : note,
      ]),
    );
  return { ...failure, value: kept };
}

/** How many containers deep a value nests, counted without recursion up to one past the limit. */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== "object") continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest > FAILURE_ROW_MAX_DEPTH) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** The failure file: CSV for a CSV upload (its own columns), NDJSON otherwise. */
export function failureFile(
  name: string,
  upload: ReadUpload,
  failures: readonly Failure[],
): { fileName: string; type: string; text: string } {
  const stem = name.replace(/\.[^./\\]*$/, "") || "upload";
  if (upload.format === "csv" && upload.header) {
    return {
      fileName: `${stem}.failed.csv`,
      type: "text/csv",
      text: failureCsv(failures, upload.header),
    };
  }
  return {
    fileName: `${stem}.failed.ndjson`,
    type: "application/x-ndjson",
    text: failureLines(failures),
  };
}
