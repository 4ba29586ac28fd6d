// The closing line of `./dev test` (scripts/test_summary.sh) read from Deno's real output: an
// ignored test is counted as skipped and fails the run instead of passing unseen.
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Runs `deno test` on one file holding `source`, then the summary script on its output. */
async function summarize(source: string) {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/sample_test.ts`, source);
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--no-check", "--no-config", `${dir}/sample_test.ts`],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const log = `${dir}/test-output.log`;
    const decoder = new TextDecoder();
    await Deno.writeTextFile(log, decoder.decode(run.stdout) + decoder.decode(run.stderr));
    const summary = await new Deno.Command("bash", {
      args: ["scripts/test_summary.sh", log, String(run.code)],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      code: summary.code,
      stdout: decoder.decode(summary.stdout),
      stderr: decoder.decode(summary.stderr),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const PASSING = `Deno.test("one", () => {});\nDeno.test("two", () => {});\n`;

Deno.test("a run where every test ran closes with 'N passed, N failed' and succeeds", async () => {
  const { code, stdout } = await summarize(PASSING);
  assert.equal(stdout, "2 passed, 0 failed\n");
  assert.equal(code, 0);
});

Deno.test("a run with an ignored test closes with ', 1 skipped' and fails", async () => {
  const { code, stdout, stderr } = await summarize(
    PASSING + `Deno.test({ name: "later", ignore: true, fn: () => {} });\n`,
  );
  assert.equal(stdout, "2 passed, 0 failed, 1 skipped\n");
  assert.equal(code, 1);
  assert.match(stderr, /1 test\(s\) ignored/);
});

Deno.test("a failed test keeps the run's failure and is counted", async () => {
  const { code, stdout } = await summarize(
    PASSING + `Deno.test("broken", () => { throw new Error("no"); });\n`,
  );
  assert.equal(stdout, "2 passed, 1 failed\n");
  assert.notEqual(code, 0);
});
