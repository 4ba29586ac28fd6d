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

/** Reads an uploaded file (already decoded) into items; a file that cannot be read is 400. */
export function readUpload(
  name: string,
  text: string,
  fields: UploadFields,
  maxItems: number,
): ReadUpload {
  const format = detectFormat(name, text, fields.format);
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
  if (read.items.length > maxItems) {
    throw new ApiError(
      413,
      ApiErrorCode.TOO_MANY_ITEMS,
      `Cannot accept ${read.items.length} rows in one upload: the limit is ${maxItems}; ` +
        "split the file, or send it with the submit CLI, which batches it",
    );
  }
  const rows = prepareRows(read.items, {
    cycleKey: fields.cycleKey,
    environment: fields.environment,
    attributes: {},
  }, 0);
  const items = rows.map((row) =>
    row.problem === undefined ? row.value : new UnparseableItem(row.problem)
  );
  return { format, rows, header: read.header, items };
}

/** The rows that were not stored, each with its verdict's error, in file order. */
export function failuresOf(upload: ReadUpload, result: BatchResult): Failure[] {
  // The upload is one batch of every row in file order: a verdict's index is its row's.
  return result.items.flatMap((verdict) =>
    verdict.error ? [failureOf(upload.rows[verdict.index], verdict.error)] : []
  );
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
