// --soft-fail: a problem of ingesting is reported, and never fails the CI build that ran the CLI.

/** Whether the command line asks for --soft-fail; read before parsing, so a bad option is soft too. */
export function asksSoftFail(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes("--soft-fail");
}

/**
 * Runs `run` and turns any exit code, or an error nobody expected, into 0 after one line on
 * stderr naming what the exit code would have been.
 */
export async function softly(
  run: () => Promise<number>,
  stderr: (text: string) => void,
): Promise<number> {
  let code: number;
  let what: string;
  try {
    code = await run();
    what = `exit code ${code}`;
  } catch (error) {
    stderr(`error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    code = 1;
    what = "an unexpected error";
  }
  if (code !== 0) stderr(`note: --soft-fail: exiting 0 instead of ${what}\n`);
  return 0;
}
