// Entry of `./dev submit PATH...`: read the reports, send them in batches, print each batch id and
// a summary, and keep the rows that were not stored in a failure file beside each input.
import { resolve } from "node:path";
import { idScope } from "../domain/execution_id.ts";
import { HELP, parseSubmitArgs, type SubmitArgs, UsageError } from "./args.ts";
import { createBatchClient } from "./batch_client.ts";
import { checkItems } from "./dry_run.ts";
import { expandInputs, type InputFile } from "./inputs.ts";
import { prepareRows } from "./prepare_rows.ts";
import { createProgress, formatCount } from "./progress.ts";
import { InputError, type InputItem, readExecutionsFile } from "./read_executions.ts";
import { replaceFile } from "./replace_file.ts";
import { failureCsv, failureLines, failureText, formatSummary } from "./report.ts";
import {
  commandArgs,
  environment,
  exitWith,
  fillRuntimeGaps,
  isMainModule,
  workingFolder,
  writeStderr,
  writeStdout,
} from "./runtime.ts";
import { asksSoftFail, softly } from "./soft_fail.ts";
import { LocalErrorCode, submitItems, type SubmitOutcome } from "./submit_batches.ts";
import { appendSummary, type SummaryFacts } from "./summary.ts";

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
  /** The caller's folder, which relative paths start from. @default the working folder */
  cwd?: string;
  /** @default to standard output */
  stdout?: (text: string) => void;
  /** @default to standard error */
  stderr?: (text: string) => void;
  /** Redraw the progress line in place. @default stderr is a terminal */
  tty?: boolean;
}

/** Unreadable rows named one by one on stderr before the rest are only counted. */
const MAX_PROBLEMS_SHOWN = 10;

/** Where an input's failed rows go: --failures for a single input, else beside the input. */
function failurePath(args: SubmitArgs, file: InputFile, cwd: string) {
  if (args.failuresPath !== undefined) {
    return { path: resolve(cwd, args.failuresPath), shown: args.failuresPath };
  }
  const suffix = file.format === "csv" ? ".failed.csv" : ".failed.ndjson";
  return { path: file.path + suffix, shown: file.shown + suffix };
}

/** Runs the CLI with the given arguments and returns its exit code (0 with --soft-fail). */
export function runSubmit(argv: string[], io: SubmitIo): Promise<number> {
  const run = () => submit(argv, io);
  return asksSoftFail(argv) ? softly(run, io.stderr ?? writeStderr) : run();
}

async function submit(argv: string[], io: SubmitIo): Promise<number> {
  const stdout = io.stdout ?? writeStdout;
  const stderr = io.stderr ?? writeStderr;
  const cwd = io.cwd ?? workingFolder();
  const began = performance.now();
  const fail = (message: string) => {
    stderr(`error: ${message}\n`);
    return ExitCode.USAGE;
  };

  let args;
  try {
    args = parseSubmitArgs(argv, io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return fail(`${error.message}\nRun with --help for usage.`);
  }
  if (args === "help") {
    stdout(HELP);
    return ExitCode.OK;
  }

  const progress = createProgress({ write: stderr, tty: io.tty });
  const note = (message: string) => {
    if (!args.quiet) progress.note(message);
  };
  let files: InputFile[];
  const items: InputItem[] = [];
  // The ids the service would derive for the same rows sent with the same key.
  const stamps = { ...args.stamps, idScope: args.apiKey ? idScope(args.apiKey) : null };
  const headers: Array<string[] | undefined> = [];
  try {
    const found = await expandInputs(args.paths, { cwd, format: args.format });
    files = found.files;
    found.skipped.forEach(note);
    if (args.failuresPath !== undefined && files.length !== 1) {
      return fail(
        `--failures names one file, but ${files.length} inputs were found; ` +
          "leave it out and each input's failed rows go beside it",
      );
    }
    for (const [source, file] of files.entries()) {
      if (failurePath(args, file, cwd).path === file.path) {
        return fail("--failures must not name the input file: it would be overwritten");
      }
      const read = await readExecutionsFile(file.path, file.format, {
        shown: file.shown,
        startedAt: args.stamps.startedAt,
      });
      if (read.note) note(`note: "${file.shown}": ${read.note}`);
      if (read.items.length === 0) note(`note: "${file.shown}" holds no executions`);
      headers.push(read.header);
      items.push(...prepareRows(read.items, stamps, source));
    }
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return fail(error.message);
  }

  const problems = items.filter((item) => item.problem !== undefined);
  for (const item of problems.slice(0, MAX_PROBLEMS_SHOWN)) {
    note(`warning: ${files[item.source ?? 0].shown}: ${item.problem} (not sent)`);
  }
  if (problems.length > MAX_PROBLEMS_SHOWN) {
    note(`warning: ${problems.length - MAX_PROBLEMS_SHOWN} more rows cannot be read (not sent)`);
  }
  if (items.length === 0 && !args.allowEmpty) {
    return fail(
      `Nothing to submit: ${args.paths.join(" ")} ${
        files.length === 0 ? "matched no report file" : "held no executions"
      }; pass --allow-empty if that is expected`,
    );
  }
  const summarize = async (outcome: SubmitOutcome, failureFiles: string[]) => {
    if (args.summaryPath === undefined) return;
    const facts: SummaryFacts = {
      outcome,
      files: files.map((file) => file.shown),
      url: args.url,
      dryRun: args.dryRun,
      elapsedMs: performance.now() - began,
      failureFiles,
    };
    // The summary is a courtesy to the reader of a CI page: failing to write it fails nothing.
    await appendSummary(resolve(cwd, args.summaryPath), facts).catch((error) =>
      stderr(`warning: Cannot write the summary to "${args.summaryPath}": ${error.message}\n`)
    );
  };

  if (args.dryRun) {
    const outcome = checkItems(items);
    const invalid = outcome.failures.filter((f) => f.code !== LocalErrorCode.UNPARSEABLE);
    for (const failure of invalid.slice(0, MAX_PROBLEMS_SHOWN)) {
      note(`warning: ${files[failure.source ?? 0].shown}: ${failureText(failure)}`);
    }
    if (invalid.length > MAX_PROBLEMS_SHOWN) {
      note(`warning: ${invalid.length - MAX_PROBLEMS_SHOWN} more rows are invalid`);
    }
    stdout(formatSummary(outcome, performance.now() - began, { dryRun: true }));
    stdout("Dry run: nothing was sent, no failure file was written.\n");
    await summarize(outcome, []);
    return outcome.failures.length > 0 ? ExitCode.SOME_FAILED : ExitCode.OK;
  }

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
    // On stdout, so a CI log keeps the ids to look each batch up (GET /v1/batches/{batchId}).
    onBatch: (result, rows) => {
      progress.note(
        `batch ${result.batchId}: ${formatCount(rows.length)} rows, ${
          formatCount(result.created)
        } created, ${formatCount(result.duplicates)} duplicates, ${
          formatCount(result.failed)
        } failed`,
        stdout,
      );
    },
    fileName: (source) => `"${files[source].shown}"`,
  });
  progress.end();
  if (outcome.stopped) stderr(`error: ${outcome.stopped.message}\n`);
  if (
    outcome.stopped?.reason === "unreachable" && outcome.batches === 0 && args.urlFrom === "default"
  ) {
    stderr(`hint: neither --url nor EXECUTION_INGEST_URL is set, so ${args.url} was tried\n`);
  }
  stdout(formatSummary(outcome, performance.now() - began));

  const written = await writeFailures(outcome, files, headers, args, cwd, stderr);
  if (written === undefined) return ExitCode.USAGE;
  for (const shown of written) stdout(`Rows not stored are in ${shown}.\n`);
  stdout(advice(outcome));
  await summarize(outcome, written);

  if (outcome.stopped) {
    return outcome.stopped.reason === "refused" ? ExitCode.USAGE : ExitCode.UNREACHABLE;
  }
  return outcome.failures.length > 0 ? ExitCode.SOME_FAILED : ExitCode.OK;
}

/** Writes each input's failure file; returns their names, or undefined when one cannot be written. */
async function writeFailures(
  outcome: SubmitOutcome,
  files: readonly InputFile[],
  headers: ReadonlyArray<string[] | undefined>,
  args: SubmitArgs,
  cwd: string,
  stderr: (text: string) => void,
): Promise<string[] | undefined> {
  const written: string[] = [];
  for (const [source, file] of files.entries()) {
    const failures = outcome.failures.filter((failure) => (failure.source ?? 0) === source);
    if (failures.length === 0) continue;
    const target = failurePath(args, file, cwd);
    const header = headers[source];
    const asCsv = target.path.toLowerCase().endsWith(".csv");
    try {
      await replaceFile(
        target.path,
        asCsv ? failureCsv(failures, header ?? []) : failureLines(failures),
      );
    } catch (error) {
      stderr(
        `error: Cannot write the failed rows to "${target.shown}": ${(error as Error).message}\n`,
      );
      return undefined;
    }
    written.push(target.shown);
  }
  return written;
}

/** What to do next, by the kinds of failure: fix rows, or run the same command again. */
function advice(outcome: SubmitOutcome): string {
  const notSent = outcome.failures.filter((f) => f.code === LocalErrorCode.NOT_SENT).length;
  const toFix = outcome.failures.length - notSent;
  const lines: string[] = [];
  if (toFix > 0) {
    lines.push(
      `${formatCount(toFix)} ${toFix === 1 ? "row needs" : "rows need"} fixing (see "_error"); ` +
        'then submit the failure file as it is: its "_error" fields are ignored.',
    );
  }
  if (notSent > 0) {
    lines.push(
      `${formatCount(notSent)} ${notSent === 1 ? "row was" : "rows were"} not sent and need no ` +
        "fixing: once the error above is resolved, run the same command again (rows already " +
        "stored count as duplicates).",
    );
  }
  return lines.map((line) => `${line}\n`).join("");
}

if (isMainModule(import.meta)) {
  fillRuntimeGaps();
  const env = environment();
  // `deno task` (and ./dev) run from the project folder; INIT_CWD is the folder the caller was in.
  const cwd = env.INIT_CWD || workingFolder();
  exitWith(await runSubmit(commandArgs(), { env, cwd }));
}
