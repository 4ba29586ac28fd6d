// Entry of `deno task submit FILE`: read the file, send it in batches, print a summary, keep the failures.
import { resolve } from "node:path";
import { HELP, parseSubmitArgs, UsageError } from "./args.ts";
import { createBatchClient } from "./batch_client.ts";
import { createProgress } from "./progress.ts";
import { InputError, type InputItem, readExecutionsFile } from "./read_executions.ts";
import { failureLines, formatSummary } from "./report.ts";
import { submitItems } from "./submit_batches.ts";

/** Exit codes, part of the CLI's contract. */
export const ExitCode = {
  OK: 0,
  SOME_FAILED: 1,
  USAGE: 2,
  UNREACHABLE: 3,
} as const;

/** The outside world of one run. */
export interface SubmitIo {
  /** EXECUTION_INGEST_URL and EXECUTION_INGEST_API_KEY. */
  env: Record<string, string | undefined>;
  /** @default to Deno.stdout */
  stdout?: (text: string) => void;
  /** @default to Deno.stderr */
  stderr?: (text: string) => void;
  /** Redraw the progress line in place. @default stderr is a terminal */
  tty?: boolean;
}

/** Unparseable rows named one by one on stderr before the rest are only counted. */
const MAX_PROBLEMS_SHOWN = 10;

const encoder = new TextEncoder();
function writeAll(file: { writeSync(bytes: Uint8Array): number }) {
  return (text: string) => {
    let bytes = encoder.encode(text);
    while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
  };
}

/** Runs the CLI with the given arguments and returns its exit code. */
export async function runSubmit(argv: string[], io: SubmitIo): Promise<number> {
  const stdout = io.stdout ?? writeAll(Deno.stdout);
  const stderr = io.stderr ?? writeAll(Deno.stderr);
  const began = performance.now();

  let args;
  try {
    args = parseSubmitArgs(argv, io.env);
    if (args !== "help" && resolve(args.failuresPath) === resolve(args.file)) {
      throw new UsageError("--failures must not name the input file: it would be overwritten");
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr(`error: ${error.message}\nRun with --help for usage.\n`);
    return ExitCode.USAGE;
  }
  if (args === "help") {
    stdout(HELP);
    return ExitCode.OK;
  }

  let items: InputItem[];
  try {
    items = await readExecutionsFile(args.file, args.format);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    stderr(`error: ${error.message}\n`);
    return ExitCode.USAGE;
  }

  const progress = createProgress({ write: stderr, tty: io.tty });
  const note = (message: string) => {
    if (!args.quiet) progress.note(message);
  };
  const problems = items.filter((item) => item.problem !== undefined);
  for (const item of problems.slice(0, MAX_PROBLEMS_SHOWN)) {
    note(`warning: ${item.problem} (not sent)`);
  }
  if (problems.length > MAX_PROBLEMS_SHOWN) {
    note(`warning: ${problems.length - MAX_PROBLEMS_SHOWN} more rows cannot be read (not sent)`);
  }
  if (items.length === 0) note(`warning: "${args.file}" holds no executions`);

  const client = createBatchClient({
    url: args.url,
    apiKey: args.apiKey,
    maxRetries: args.maxRetries,
    onRetry: ({ retry, maxRetries, delayMs, reason }) =>
      note(`retry ${retry} of ${maxRetries} in ${(delayMs / 1000).toFixed(1)} s: ${reason}`),
  });
  const outcome = await submitItems(items, client, {
    batchSize: args.batchSize,
    onProgress: args.quiet ? undefined : (state) => progress.update(state),
  });
  progress.end();
  if (outcome.stopped) stderr(`error: ${outcome.stopped.message}\n`);

  stdout(formatSummary(outcome, performance.now() - began));
  if (outcome.failures.length > 0) {
    try {
      await Deno.writeTextFile(args.failuresPath, failureLines(outcome.failures));
    } catch (error) {
      stderr(
        `error: Cannot write the failed rows to "${args.failuresPath}": ${
          (error as Error).message
        }\n`,
      );
      return ExitCode.USAGE;
    }
    stdout(
      `Failed rows are in ${args.failuresPath}: fix them and submit that file (its "_error" fields are ignored).\n`,
    );
  }

  if (outcome.stopped) {
    return outcome.stopped.reason === "refused" ? ExitCode.USAGE : ExitCode.UNREACHABLE;
  }
  return outcome.failures.length > 0 ? ExitCode.SOME_FAILED : ExitCode.OK;
}

if (import.meta.main) {
  const env = {
    EXECUTION_INGEST_URL: Deno.env.get("EXECUTION_INGEST_URL"),
    EXECUTION_INGEST_API_KEY: Deno.env.get("EXECUTION_INGEST_API_KEY"),
  };
  Deno.exit(await runSubmit(Deno.args, { env }));
}
