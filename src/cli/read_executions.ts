// Reads the executions to submit from a JUnit XML, JSON, NDJSON or CSV file, one item per row.
import { readFile, stat } from "node:fs/promises";
import { parse as parseCsv } from "csv-parse/sync";
import { type FieldKind, RECORD_FIELDS } from "../domain/execution.ts";
import { ReportError } from "../domain/junit_xml.ts";
import { type JunitReading, readJunitItems } from "./read_junit.ts";
import { isNotFound } from "./runtime.ts";

/** Input formats the CLI reads. */
export const INPUT_FORMATS = ["junit", "json", "ndjson", "csv"] as const;
/** One of INPUT_FORMATS. */
export type InputFormat = typeof INPUT_FORMATS[number];

/** One row of the input, in file order. */
export interface InputItem {
  /** Position among all rows of its file, from 0. */
  index: number;
  /** Which input file the row is from (a position in the list of files), when there are several. */
  source?: number;
  /** Line of the file the row starts on, from 1 (unknown for a JSON document). */
  line?: number;
  /** The execution as read (an object), or, when `problem` is set, what could be read of the row. */
  value: unknown;
  /** Why the row cannot be sent; such a row becomes an UNPARSEABLE failure. */
  problem?: string;
}

/** A whole-file problem: the input cannot be read at all (exit code 2). */
export class InputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InputError";
  }
}

/** A file read: its rows, a CSV file's header, and what the reader had to assume. */
export interface ReadInput {
  items: InputItem[];
  /** The column names of a CSV file, in order. */
  header?: string[];
  /** Said once on stderr (such as how an undated JUnit report was dated). */
  note?: string;
}

/** The field a failure file adds to each row; removed on reading so that file can be resubmitted. */
export const ERROR_FIELD = "_error";

// A CSV column per field a client sends; its kind says how a cell is read (see parseCsvRecords).
const KIND_OF: ReadonlyMap<string, FieldKind> = new Map(
  RECORD_FIELDS.map((field) => [field.name, field.kind]),
);

/** The format a file name implies, or undefined when its extension says nothing. */
export function formatOf(path: string): InputFormat | undefined {
  const extension = /\.([^./\\]+)$/.exec(path)?.[1].toLowerCase();
  if (extension === "xml") return "junit";
  if (extension === "json") return "json";
  if (extension === "ndjson" || extension === "jsonl") return "ndjson";
  if (extension === "csv") return "csv";
  return undefined;
}

/**
 * Reads a file as UTF-8 and parses it; a missing, unreadable or malformed file is an InputError.
 * `shown` names the file in messages; `startedAt` dates JUnit reports that carry no timestamp.
 */
export async function readExecutionsFile(
  path: string,
  format: InputFormat,
  options: { shown?: string; startedAt?: string } = {},
): Promise<ReadInput> {
  const shown = options.shown ?? path;
  let bytes: Uint8Array;
  let modifiedAt: Date | null = null;
  try {
    bytes = await readFile(path);
    modifiedAt = (await stat(path)).mtime;
  } catch (error) {
    const reason = isNotFound(error) ? "no such file" : (error as Error).message;
    throw new InputError(`Cannot read "${shown}": ${reason}`, { cause: error });
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new InputError(`Cannot read "${shown}": it is not valid UTF-8; save it as UTF-8`, {
      cause: error,
    });
  }
  try {
    return parseExecutions(text, format, {
      startedAt: options.startedAt,
      modifiedAt: modifiedAt ?? undefined,
      // The CLI's own files, read in its own process: only the service bounds the element count.
      maxElements: Number.POSITIVE_INFINITY,
    });
  } catch (error) {
    // A report with no testcase is an empty input, as an empty CSV is: --allow-empty decides.
    if (error instanceof ReportError && error.kind === "empty") return { items: [] };
    if (error instanceof InputError || error instanceof ReportError) {
      throw new InputError(`Cannot read "${shown}": ${error.message}`, { cause: error });
    }
    throw error;
  }
}

// A byte order mark is how some editors and spreadsheets start UTF-8 files.
function withoutBom(text: string): string {
  return text.startsWith("\uFEFF") ? text.slice(1) : text;
}

/**
 * Parses the text of an input file in any format (the CLI's files and the console's uploads alike);
 * `dating` dates JUnit reports that carry no timestamp (and may widen their element bound).
 * Throws InputError, or ReportError for JUnit.
 */
export function parseExecutions(
  text: string,
  format: InputFormat,
  dating: JunitReading = {},
): ReadInput {
  // The JUnit reader drops a byte order mark itself.
  if (format === "junit") return readJunitItems(text, dating);
  const body = withoutBom(text);
  if (format === "json") return { items: parseJsonDocument(body) };
  if (format === "ndjson") return { items: parseNdjsonLines(body) };
  const out: { header?: string[] } = {};
  const items = parseCsvRecords(body, out);
  return { items, header: out.header };
}

/** A JSON array of executions, or an object with an "executions" array. */
export function parseJsonDocument(text: string): InputItem[] {
  if (text.trim() === "") return [];
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new InputError(
      `it is not a JSON document (${(error as Error).message}); ` +
        "if it holds one execution per line, pass --format ndjson",
    );
  }
  const list = Array.isArray(document)
    ? document
    : (document as { executions?: unknown } | null)?.executions;
  if (!Array.isArray(list)) {
    throw new InputError(
      'it must hold a JSON array or an object of the form {"executions": [...]}',
    );
  }
  return list.map((value, index) => fromJsonValue(value, index));
}

/** One JSON value per line; blank lines are skipped; a line that is not a JSON object is UNPARSEABLE. */
export function parseNdjsonLines(text: string): InputItem[] {
  const items: InputItem[] = [];
  text.split("\n").forEach((rawLine, lineIndex) => {
    const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === "") return;
    const index = items.length;
    try {
      items.push(fromJsonValue(JSON.parse(line), index, lineIndex + 1));
    } catch (error) {
      items.push({
        index,
        line: lineIndex + 1,
        value: line,
        problem: `line ${lineIndex + 1} is not valid JSON: ${(error as Error).message}`,
      });
    }
  });
  return items;
}

function fromJsonValue(value: unknown, index: number, line?: number): InputItem {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const where = line === undefined ? `item ${index}` : `line ${line}`;
    return { index, line, value, problem: `${where} is not a JSON object` };
  }
  const { [ERROR_FIELD]: _error, ...row } = value as Record<string, unknown>;
  return { index, line, value: row };
}

/**
 * CSV with a header row of field names. Empty cells are absent fields; a cell of an integer field
 * (durationMs) is an integer, of a JSON field (attributes) JSON text, of any other field text. A record that breaks the quoting rules is
 * an InputError, since everything after it would be read wrongly.
 */
export function parseCsvRecords(text: string, out: { header?: string[] } = {}): InputItem[] {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    // With `info`, csv-parse returns { record, info } per record, which its typings do not say.
    records = parseCsv(text, {
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as typeof records;
  } catch (error) {
    throw new InputError(
      `it is not valid CSV: ${(error as Error).message}. ` +
        'A cell holding commas, quotes or line breaks must be quoted, with quotes doubled inside: "{""a"":1}"',
    );
  }
  const rows = records.filter(({ record }) => record.some((cell) => cell.trim() !== ""));
  if (rows.length === 0) return [];
  const header = rows[0].record.map((name) => name.trim());
  checkHeader(header);
  out.header = header;
  return rows.slice(1).map(({ record, info }, index) => {
    // csv-parse counts lines up to a record's end; a quoted cell may span several lines.
    const newlines = record.reduce((sum, cell) => sum + cell.split("\n").length - 1, 0);
    return fromCsvRecord(header, record, index, info.lines - newlines);
  });
}

function checkHeader(header: string[]) {
  const seen = new Set<string>();
  for (const name of header) {
    if (name !== ERROR_FIELD && !KIND_OF.has(name)) {
      throw new InputError(
        `the header names a column "${name}" that is not an execution field; ` +
          `the fields are ${[...KIND_OF.keys()].join(", ")}`,
      );
    }
    if (seen.has(name)) throw new InputError(`the header names the column "${name}" twice`);
    seen.add(name);
  }
}

function fromCsvRecord(header: string[], cells: string[], index: number, line: number): InputItem {
  if (cells.length !== header.length) {
    return {
      index,
      line,
      value: cells,
      problem: `line ${line} has ${cells.length} cells but the header has ${header.length} columns`,
    };
  }
  const row: Record<string, unknown> = {};
  const problems: string[] = [];
  header.forEach((name, column) => {
    const cell = cells[column];
    if (cell === "" || name === ERROR_FIELD) return;
    row[name] = cell;
    const kind = KIND_OF.get(name);
    if (kind === "integer") {
      if (/^-?\d+$/.test(cell.trim())) row[name] = Number(cell);
      else problems.push(`${name} "${cell}" is not an integer`);
    } else if (kind === "json") {
      try {
        row[name] = JSON.parse(cell);
      } catch (error) {
        problems.push(`${name} is not valid JSON (${(error as Error).message})`);
      }
    }
  });
  if (problems.length > 0) {
    return { index, line, value: row, problem: `line ${line}: ${problems.join("; ")}` };
  }
  return { index, line, value: row };
}
