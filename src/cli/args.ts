// The submit CLI's command line: options, their defaults (some from the environment), and --help.
import { parseArgs } from "node:util";
import { formatOf, INPUT_FORMATS, type InputFormat } from "./read_executions.ts";

/** Most executions the server takes in one request. */
export const MAX_BATCH_SIZE = 10_000;

/** Everything a run needs, defaults applied. */
export interface SubmitArgs {
  file: string;
  format: InputFormat;
  url: string;
  apiKey?: string;
  batchSize: number;
  failuresPath: string;
  maxRetries: number;
  quiet: boolean;
}

/** A command line that cannot run (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The text of --help. */
export const HELP = `Usage: deno task submit FILE [options]

Submits the test executions in FILE to execution-ingest (POST /v1/executions/batch), one batch
at a time, prints a summary, and writes the rows that were not stored to a failure file.

FILE (format from the extension, or --format):
  .json            a JSON array of executions, or {"executions": [...]}
  .ndjson, .jsonl  one execution per line
  .csv             a header row of field names (testCaseKey,status,startedAt,...); an empty cell
                   is an absent field, durationMs an integer, attributes JSON text (quoted, with
                   its quotes doubled: "{""build"":42}")

Options:
  --url URL          service base URL (default: $EXECUTION_INGEST_URL or http://127.0.0.1:8080)
  --api-key KEY      API key, sent as a Bearer token (default: $EXECUTION_INGEST_API_KEY)
  --batch-size N     executions per request, 1 to ${MAX_BATCH_SIZE} (default: 1000)
  --failures FILE    where failed rows go (default: FILE.failed.ndjson)
  --max-retries N    retries of one batch after its first try (default: 5)
  --format FORMAT    json, ndjson or csv (default: from the extension)
  --quiet            no progress, retry notes or warnings on stderr
  -h, --help         show this text

Resubmitting is safe for rows with an id: the server stores an id once, and the same id with
the same content again counts as a duplicate, not a second row. Rows without an id get a UUID
from the CLI before the first try, so a retry after a lost answer cannot store them twice; but
a new run gives them new ids, so give rows ids in a file you may submit twice (the failure file
carries the ids the CLI gave).

Retries: 429 and 5xx answers wait for the server's Retry-After (else an exponential backoff
from 0.5 s), and so do network errors and timeouts; other 4xx answers are not retried. A batch
answered 413 (too large for the server) is split in halves.

Failure file: NDJSON in input order, each line the row as sent (with the id the CLI gave it)
plus "_error": {"index", "line", "code", "message", "details"}; index counts input rows from 0.
Codes are the server's (VALIDATION_FAILED, DUPLICATE_IN_BATCH, ID_CONFLICT, ...), UNPARSEABLE
(the row could not be read and was not sent; a line that is not a JSON object is kept as text
in "_raw": replace it with the fixed execution) and NOT_SENT (submitting stopped first). Fix the
rows and submit the failure file itself: the CLI ignores "_error" fields when reading.

Exit codes: 0 every row stored (created or duplicate), 1 some rows failed, 2 usage or file
error (or the server refused the API key), 3 the server could not be reached or retries ran out.
`;

function integer(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, not "${text}"`);
  }
  return Number(text);
}

/** Parses the arguments; "help" when --help was asked for. Throws UsageError. */
export function parseSubmitArgs(
  argv: string[],
  env: Record<string, string | undefined> = {},
): SubmitArgs | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: "string" },
        "api-key": { type: "string" },
        "batch-size": { type: "string", default: "1000" },
        failures: { type: "string" },
        "max-retries": { type: "string", default: "5" },
        format: { type: "string" },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? "Name the file to submit: deno task submit FILE"
        : `Submit one file at a time, not ${positionals.length}: ${positionals.join(" ")}`,
    );
  }
  const [file] = positionals;
  const format = values.format ?? formatOf(file);
  if (format === undefined) {
    throw new UsageError(
      `Cannot tell the format of "${file}" from its extension: pass --format json, ndjson or csv`,
    );
  }
  if (!(INPUT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be json, ndjson or csv, not "${format}"`);
  }
  const url = values.url || env.EXECUTION_INGEST_URL || "http://127.0.0.1:8080";
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = "";
  }
  if (protocol !== "http:" && protocol !== "https:") {
    throw new UsageError(`--url must be an http:// or https:// URL, not "${url}"`);
  }
  const apiKey = values["api-key"] || env.EXECUTION_INGEST_API_KEY || undefined;
  if (apiKey !== undefined && !/^[\x21-\x7e]+$/.test(apiKey)) {
    throw new UsageError("The API key must be printable ASCII without spaces");
  }
  return {
    file,
    format: format as InputFormat,
    url,
    apiKey,
    batchSize: integer("batch-size", values["batch-size"], 1, MAX_BATCH_SIZE),
    failuresPath: values.failures || `${file}.failed.ndjson`,
    maxRetries: integer("max-retries", values["max-retries"], 0, 100),
    quiet: values.quiet,
  };
}
