// The single-file CLI: built by scripts/build_cli.ts, served at GET /cli/submit.mjs by the real
// service, and run from a folder of its own by Node.js and by Deno with an empty cache.
import assert from "node:assert/strict";
import { denoNamespaceUse } from "../../scripts/build_cli.ts";
import { sqlFor, startTestService, summaryOf } from "../_helpers.ts";
import { builtCli, junitReport, run } from "./_bundle.ts";

const PATH = Deno.env.get("PATH") ?? "";

Deno.test("GET /cli/submit.mjs serves the single-file CLI, which stores a JUnit report when run by Node.js and by Deno", async (t) => {
  const bundle = await builtCli();
  const { url, config, close } = await startTestService({ CLI_BUNDLE_PATH: bundle });
  const sql = sqlFor(config.DB_SCHEMA);
  const dir = await Deno.makeTempDir({ prefix: "cold_runner_" });
  try {
    await t.step("it is one file under 2 MB, served without an API key, with an ETag", async () => {
      const response = await fetch(`${url}/cli/submit.mjs`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/javascript/);
      const bytes = new Uint8Array(await response.arrayBuffer());
      assert.deepEqual(bytes, await Deno.readFile(bundle));
      assert.ok(bytes.length < 2 * 1024 * 1024, `${bytes.length} bytes`);
      await Deno.writeFile(`${dir}/submit.mjs`, bytes);
      const etag = response.headers.get("etag");
      assert.ok(etag, "an ETag");
      const again = await fetch(`${url}/cli/submit.mjs`, { headers: { "if-none-match": etag } });
      assert.equal(again.status, 304);
      await again.body?.cancel();
    });
    await Deno.writeTextFile(`${dir}/report.xml`, junitReport("Bundle", 3));

    await t.step("node runs it with only PATH set: 3 created", async () => {
      const ran = await run("node", [
        "submit.mjs",
        "report.xml",
        "--url",
        url,
        "--environment",
        "node",
      ], {
        cwd: dir,
        env: { PATH },
        clearEnv: true,
      });
      assert.equal(ran.code, 0, ran.stderr);
      assert.deepEqual(summaryOf(ran.stdout), { total: 3, created: 3, duplicates: 0, failed: 0 });
    });

    await t.step("deno runs it with an empty cache (nothing downloaded): 3 created", async () => {
      const denoDir = await Deno.makeTempDir({ prefix: "empty_deno_dir_" });
      try {
        const ran = await run(
          Deno.execPath(),
          ["run", "-A", "submit.mjs", "report.xml", "--url", url, "--environment", "deno"],
          { cwd: dir, env: { PATH, DENO_DIR: denoDir }, clearEnv: true },
        );
        assert.equal(ran.code, 0, ran.stderr);
        assert.deepEqual(summaryOf(ran.stdout), { total: 3, created: 3, duplicates: 0, failed: 0 });
        assert.doesNotMatch(ran.stderr, /Download/);
      } finally {
        await Deno.remove(denoDir, { recursive: true });
      }
    });

    const rows = await sql`
      select environment, count(*)::int as n from executions group by environment order by 1`;
    assert.deepEqual(rows.map((row) => [row.environment, row.n]), [["deno", 3], ["node", 3]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await sql.end();
    await close();
  }
});

Deno.test("without a built CLI, GET /cli/submit.mjs answers 503 CLI_NOT_BUILT, and serves the file once it is built", async () => {
  const dir = await Deno.makeTempDir();
  const { url, close } = await startTestService({ CLI_BUNDLE_PATH: `${dir}/submit.mjs` });
  try {
    const missing = await fetch(`${url}/cli/submit.mjs`);
    assert.equal(missing.status, 503);
    assert.match(missing.headers.get("content-type") ?? "", /^application\/json/);
    const body = await missing.json();
    assert.equal(body.error.code, "CLI_NOT_BUILT");
    assert.match(body.error.message, /deno task build:cli/);

    await Deno.copyFile(await builtCli(), `${dir}/submit.mjs`);
    const built = await fetch(`${url}/cli/submit.mjs`);
    assert.equal(built.status, 200);
    await built.body?.cancel();
  } finally {
    await Deno.remove(dir, { recursive: true });
    await close();
  }
});

Deno.test("the build refuses CLI code that reaches for the Deno namespace, which Node.js lacks", () => {
  assert.equal(denoNamespaceUse('var a=await Deno.readFile("x")'), "Deno.readFile");
  assert.equal(denoNamespaceUse('import{readFile}from"node:fs/promises";var Denote=1'), undefined);
});
