// The submit CLI's command line: options, their defaults (some from the environment), and --help.
import { parseArgs } from "node:util";
import { ExecutionInputSchema } from "../domain/execution.ts";
import { INPUT_FORMATS, type InputFormat } from "./read_executions.ts";

/** Most executions the server takes in one request. */
export const MAX_BATCH_SIZE = 10_000;

/** Values that every row gets (and JUnit reports' start), from the command line. */
export interface Stamps {
  /** Start of JUnit reports that carry no timestamp. */
  startedAt?: string;
  cycleKey?: string;
  environment?: string;
  /** Merged into every row's attributes (replacing keys the row has). */
  attributes: Record<string, string>;
}

/** Everything a run needs, defaults applied. */
export interface SubmitArgs {
  /** Files, folders and globs, as given (relative to the caller's folder). */
  paths: string[];
  /** Forced for every file; else detected per file. */
  format?: InputFormat;
  url: string;
  /** Where the URL came from, for the hint when it cannot be reached. */
  urlFrom: "--url" | "EXECUTION_INGEST_URL" | "default";
  apiKey?: string;
  batchSize: number;
  /** Failure file for a single input; else each input's failures go beside it. */
  failuresPath?: string;
  maxRetries: number;
  quiet: boolean;
  allowEmpty: boolean;
  /** Exit 0 whatever happens, after saying what would have failed the run. */
  softFail: boolean;
  /** Read and validate locally; send nothing. */
  dryRun: boolean;
  /** Where the Markdown summary is appended: --summary, else $GITHUB_STEP_SUMMARY when set. */
  summaryPath?: string;
  stamps: Stamps;
}

/** A command line that cannot run (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The text of --help. */
export const HELP = `Usage: ./dev submit PATH... [options]
   or: node submit.mjs PATH... [options]   (the same CLI as one file: GET /cli/submit.mjs)

Submits test executions to execution-ingest (POST /v1/executions/batch) in batches, prints each
batch id and a summary, and writes the rows that were not stored to a failure file.

PATH is a file, a folder (its report files; other files such as Surefire's .txt summaries are
skipped) or a glob such as 'build/test-results/**/*.xml', relative to the folder you run in.
Formats, from the extension (or --format):
  .xml             JUnit XML (<testsuites> or <testsuite>), one execution per <testcase>
  .json            a JSON array of executions, or {"executions": [...]}
  .ndjson, .jsonl  one execution per line
  .csv             a header row of field names (testCaseKey,status,startedAt,...); an empty cell
                   is an absent field, durationMs an integer, attributes JSON text (quoted, with
                   its quotes doubled: "{""build"":42}")

Options:
  --url URL          service base URL (default: $EXECUTION_INGEST_URL or http://127.0.0.1:8080)
  --api-key KEY      API key, sent as a Bearer token (default: $EXECUTION_INGEST_API_KEY)
  --started-at TIME  start of JUnit reports that carry no timestamp (RFC 3339); without it the
                     report file's modification time minus the report's total time is used
  --cycle-key KEY    set cycleKey on every row
  --environment ENV  set environment on every row
  --attribute K=V    set attribute K to V on every row (repeatable)
  --batch-size N     executions per request, 1 to ${MAX_BATCH_SIZE} (default: 1000)
  --failures FILE    where failed rows go, for a single input (default: beside each input,
                     INPUT.failed.ndjson, or INPUT.failed.csv for a CSV input)
  --max-retries N    retries of one batch after its first try (default: 5)
  --format FORMAT    junit, json, ndjson or csv for every input (default: from the extension)
  --allow-empty      exit 0 when the paths hold no executions (default: exit 2)
  --soft-fail        always exit 0, saying which exit code it would have been: an ingest
                     problem never fails a CI build
  --dry-run          read and validate every row as the server would; send nothing, write no
                     failure file (exit 1 when some row is invalid)
  --summary FILE     append a Markdown summary (counts and failed rows) to FILE (default:
                     $GITHUB_STEP_SUMMARY when set, as in a GitHub Actions step)
  --quiet            no progress, retry notes or warnings on stderr
  -h, --help         show this text

Resubmitting is safe: a row with an id keeps it, and a row without one (every JUnit testcase)
gets a name-based id (UUIDv5) from the API key, its testCaseKey, startedAt, cycleKey, environment
and its position among identical rows of its file. Running the same command again with the same
key stores nothing twice: the server answers "duplicate" for rows it already has.

Retries: 429 and 5xx answers wait for the server's Retry-After (else an exponential backoff
from 0.5 s), and so do network errors and timeouts; other 4xx answers are not retried. A batch
answered 413 (too large for the server) is split in halves. Before the server has answered
once, a connection that cannot be made (refused, unknown host) ends the run at once (exit 3):
the URL is likely wrong.

Failure file: in input order, each row as sent (with its id) plus "_error" (NDJSON: an object
{"index", "line", "code", "message", "details"}; CSV: a last column of text); index counts the
input's rows from 0, as the message does. Codes are the server's (VALIDATION_FAILED,
DUPLICATE_IN_BATCH, ID_CONFLICT, ...), UNPARSEABLE (the row could not be read and was not sent)
and NOT_SENT (submitting stopped first). Fix the rows and submit the failure file itself: the
CLI ignores "_error" when reading.

Exit codes: 0 every row stored (created or duplicate), 1 some rows failed, 2 usage or file
error, nothing to submit, or the server refused the API key, 3 the server could not be reached
or retries ran out.
`;

function integer(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, not "${text}"`);
  }
  return Number(text);
}

/** Checks an option against the execution field it sets, so a bad value fails before sending. */
function field<Name extends "startedAt" | "cycleKey" | "environment">(
  option: string,
  name: Name,
  value: string | undefined,
): string | undefined {
  if (value === undefined) return undefined;
  const checked = ExecutionInputSchema.shape[name].safeParse(value);
  if (!checked.success) {
    throw new UsageError(`--${option} ${checked.error.issues[0].message}, not "${value}"`);
  }
  return value;
}

function attributePairs(pairs: string[]): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at < 1) throw new UsageError(`--attribute must be KEY=VALUE, not "${pair}"`);
    attributes[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return attributes;
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
        "started-at": { type: "string" },
        "cycle-key": { type: "string" },
        environment: { type: "string" },
        attribute: { type: "string", multiple: true, default: [] },
        "batch-size": { type: "string", default: "1000" },
        failures: { type: "string" },
        "max-retries": { type: "string", default: "5" },
        format: { type: "string" },
        "allow-empty": { type: "boolean", default: false },
        "soft-fail": { type: "boolean", default: false },
        "dry-run": { type: "boolean", default: false },
        summary: { type: "string" },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  if (positionals.length === 0) {
    throw new UsageError("Name what to submit: ./dev submit FILE|FOLDER|GLOB...");
  }
  const format = values.format;
  if (format !== undefined && !(INPUT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be one of ${INPUT_FORMATS.join(", ")}, not "${format}"`);
  }
  const urlFrom = values.url
    ? "--url"
    : env.EXECUTION_INGEST_URL
    ? "EXECUTION_INGEST_URL"
    : "default";
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
    paths: positionals,
    format: format as InputFormat | undefined,
    url,
    urlFrom,
    apiKey,
    batchSize: integer("batch-size", values["batch-size"], 1, MAX_BATCH_SIZE),
    failuresPath: values.failures || undefined,
    maxRetries: integer("max-retries", values["max-retries"], 0, 100),
    quiet: values.quiet,
    allowEmpty: values["allow-empty"],
    softFail: values["soft-fail"],
    dryRun: values["dry-run"],
    summaryPath: values.summary || env.GITHUB_STEP_SUMMARY || undefined,
    stamps: {
      startedAt: field("started-at", "startedAt", values["started-at"]),
      cycleKey: field("cycle-key", "cycleKey", values["cycle-key"]),
      environment: field("environment", "environment", values.environment),
      attributes: attributePairs(values.attribute),
    },
  };
}
