// The submit CLI's single-file build for tests: built once per test process into a temporary folder.
import { buildCli } from "../../scripts/build_cli.ts";

let built: Promise<string> | undefined;

/** The path of a fresh build of the CLI (src/cli/ as it is now), built on first call. */
export function builtCli(): Promise<string> {
  built ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "cli_bundle_" });
    const path = `${dir}/submit.mjs`;
    await buildCli(path);
    return path;
  })();
  return built;
}

/** A JUnit report of `count` testcases of suite `suite`, one of them failed, dated. */
export function junitReport(suite: string, count: number): string {
  const cases = Array.from(
    { length: count },
    (_, i) =>
      i === 0
        ? `<testcase classname="${suite}" name="t${i}" time="0.5"><failure message="boom">trace</failure></testcase>`
        : `<testcase classname="${suite}" name="t${i}" time="0.25"/>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="${suite}" tests="${count}" ` +
    `timestamp="2026-12-01T10:00:00Z">\n${cases.join("\n")}\n</testsuite>\n`;
}

/** Runs a command, capturing its output as text. */
export async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; clearEnv?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    clearEnv: options.clearEnv,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
