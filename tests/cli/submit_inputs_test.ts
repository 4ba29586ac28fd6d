// The submit CLI's inputs: many files, folders and globs relative to the caller's folder, format
// detection, stamps, empty input, and ids that make a re-run store nothing twice.
import assert from "node:assert/strict";
import { runSubmit } from "../../src/cli/submit.ts";
import { execution, sqlFor, startTestService, summaryOf } from "../_helpers.ts";

/** Runs the CLI in-process from `cwd`, collecting its output. */
async function submit(cwd: string, argv: string[]) {
  let stdout = "", stderr = "";
  const code = await runSubmit(argv, {
    env: {},
    cwd,
    stdout: (text) => stdout += text,
    stderr: (text) => stderr += text,
    tty: false,
  });
  return { code, stdout, stderr };
}

const report = (suite: string, n: number) =>
  `<testsuite name="${suite}" timestamp="2026-11-28T10:00:00Z">${
    Array.from({ length: n }, (_, i) => `<testcase classname="${suite}" name="t${i}" time="1"/>`)
      .join("")
  }</testsuite>`;

const noId = (i: number, overrides: Record<string, unknown> = {}) => {
  const { id: _id, ...row } = execution(i, overrides);
  return row;
};

Deno.test("the CLI takes files, folders and globs relative to the caller, once each, skipping what is not a report", async (t) => {
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/reports`);
    await Deno.mkdir(`${dir}/extra`);
    await Deno.writeTextFile(`${dir}/reports/a.xml`, report("A", 3));
    await Deno.writeTextFile(`${dir}/reports/pom.xml`, "<project><modelVersion/></project>");
    await Deno.writeTextFile(`${dir}/reports/notes.txt`, "Tests run: 3");
    await Deno.writeTextFile(`${dir}/reports/old.failed.ndjson`, JSON.stringify(noId(9)));
    await Deno.writeTextFile(
      `${dir}/reports/b.ndjson`,
      [noId(1, { comment: "b1" }), noId(2, { comment: "b2" })].map((r) => JSON.stringify(r))
        .join("\n"),
    );
    await Deno.writeTextFile(
      `${dir}/extra/c.csv`,
      "testCaseKey,status,startedAt\nC-1,PASSED,2026-11-28T10:00:00Z\nC-2,FAILED,2026-11-28T10:01:00Z\n",
    );
    await Deno.writeTextFile(`${dir}/data.out`, JSON.stringify([noId(3, { comment: "out" })]));

    const argv = [
      "reports",
      "extra/*.csv",
      "data.out",
      "reports/a.xml",
      "--url",
      url,
      "--batch-size",
      "4",
      "--environment",
      "nightly",
      "--attribute",
      "team=qa",
    ];
    const run = await submit(dir, argv);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(summaryOf(run.stdout), { total: 8, created: 8, duplicates: 0, failed: 0 });
    assert.match(
      run.stderr,
      /skipped 3 files in "reports" \(not reports, or failure files of an earlier run\): notes\.txt, old\.failed\.ndjson, pom\.xml/,
    );
    assert.equal([...run.stdout.matchAll(/^batch [0-9a-f-]{36}: 4 rows, 4 created/gm)].length, 2);

    const rows = await sql`
      select test_case_key, environment, attributes from executions order by test_case_key`;
    assert.deepEqual(rows.map((row) => row.test_case_key), [
      "A.t0",
      "A.t1",
      "A.t2",
      "C-1",
      "C-2",
      "TC-1",
      "TC-2",
      "TC-3",
    ]);
    assert.ok(rows.every((row) => row.environment === "nightly" && row.attributes.team === "qa"));
    assert.equal(rows[0].attributes.suite, "A", "a stamp adds to the report's own attributes");

    await t.step("the same command again stores nothing twice", async () => {
      const again = await submit(dir, argv);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(summaryOf(again.stdout), { total: 8, created: 0, duplicates: 8, failed: 0 });
    });

    await t.step("another environment is other executions", async () => {
      const other = await submit(dir, [...argv.slice(0, 9), "prod", "--quiet"]);
      assert.equal(other.code, 0, other.stderr);
      assert.equal(summaryOf(other.stdout).created, 8);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await sql.end();
    await close();
  }
});

Deno.test("a CSV of 2,480 rows without ids submitted twice is stored once: created 2,480, then duplicates 2,480", async () => {
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  const dir = await Deno.makeTempDir();
  try {
    const lines = ["testCaseKey,status,startedAt,durationMs,cycleKey"];
    for (let i = 0; i < 2480; i++) {
      // Every tenth row repeats the row before it exactly: its place among identical rows tells it apart.
      const n = i % 10 === 9 ? i - 1 : i;
      lines.push(
        `TC-${n % 300},PASSED,2026-11-28T10:${String(n % 60).padStart(2, "0")}:00Z,${n},C1`,
      );
    }
    await Deno.writeTextFile(`${dir}/runs.csv`, lines.join("\n") + "\n");
    const first = await submit(dir, ["runs.csv", "--url", url, "--quiet"]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(summaryOf(first.stdout), {
      total: 2480,
      created: 2480,
      duplicates: 0,
      failed: 0,
    });
    const second = await submit(dir, ["runs.csv", "--url", url, "--quiet"]);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(summaryOf(second.stdout), {
      total: 2480,
      created: 0,
      duplicates: 2480,
      failed: 0,
    });
    const [{ count }] = await sql`select count(*)::int as count from executions`;
    assert.equal(count, 2480);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await sql.end();
    await close();
  }
});

Deno.test("empty input exits 2 unless --allow-empty, and says what was empty", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/empty`);
    await Deno.writeTextFile(`${dir}/none.xml`, `<testsuites><testsuite name="s"/></testsuites>`);
    const url = "http://127.0.0.1:9";
    const folder = await submit(dir, ["empty/", "--url", url]);
    assert.equal(folder.code, 2);
    assert.match(
      folder.stderr,
      /error: Nothing to submit: empty\/ matched no report file; pass --allow-empty/,
    );
    const glob = await submit(dir, ["reports/**/*.xml", "--url", url]);
    assert.equal(glob.code, 2);
    assert.match(glob.stderr, /matched no report file/);
    const noCases = await submit(dir, ["none.xml", "--url", url]);
    assert.equal(noCases.code, 2);
    assert.match(
      noCases.stderr,
      /note: "none\.xml" holds no executions\n.*Nothing to submit: none\.xml held no executions/s,
    );
    const allowed = await submit(dir, ["empty/", "none.xml", "--url", url, "--allow-empty"]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.deepEqual(summaryOf(allowed.stdout), { total: 0, created: 0, duplicates: 0, failed: 0 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--failures with several inputs is a usage error, and a message about another file's row names that file", async () => {
  const { url, close } = await startTestService();
  const dir = await Deno.makeTempDir();
  try {
    const shared = execution(1);
    await Deno.writeTextFile(`${dir}/first.ndjson`, JSON.stringify(shared));
    await Deno.writeTextFile(
      `${dir}/second.ndjson`,
      [execution(2), { ...shared, comment: "same id, other content" }].map((r) => JSON.stringify(r))
        .join("\n"),
    );
    const usage = await submit(dir, ["first.ndjson", "second.ndjson", "--failures", "f.ndjson"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--failures names one file, but 2 inputs were found/);

    const run = await submit(dir, ["first.ndjson", "second.ndjson", "--url", url]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /Rows not stored are in second\.ndjson\.failed\.ndjson\./);
    const [failed] = (await Deno.readTextFile(`${dir}/second.ndjson.failed.ndjson`)).trim()
      .split("\n").map((line) => JSON.parse(line));
    assert.equal(failed._error.index, 1);
    assert.equal(failed._error.code, "DUPLICATE_IN_BATCH");
    assert.match(failed._error.message, /the same id is already at index 0 of "first\.ndjson"$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await close();
  }
});

Deno.test("a JUnit testcase whose time is past the largest durationMs is a failed row, and the rest are stored", async () => {
  const { url, close } = await startTestService();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/huge.xml`,
      `<testsuite timestamp="2026-11-28T10:00:00Z">
  <testcase classname="T" name="huge" time="9e15"/><testcase classname="T" name="after" time="1"/>
</testsuite>`,
    );
    const run = await submit(dir, ["huge.xml", "--url", url]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(summaryOf(run.stdout), {
      total: 2,
      created: 1,
      duplicates: 0,
      failed: 1,
      UNPARSEABLE: 1,
    });
    const [row] = (await Deno.readTextFile(`${dir}/huge.xml.failed.ndjson`)).trim().split("\n")
      .map((line) => JSON.parse(line));
    assert.equal(row._error.code, "UNPARSEABLE");
    assert.equal(
      row._error.message,
      'testcase 0 ("T.huge"): durationMs the testcase time "9e15" is over 2147483.647 seconds',
    );
  } finally {
    await close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the failure file replaces a symlink planted in its place and never writes through it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/reports`);
    await Deno.mkdir(`${dir}/outside`);
    await Deno.writeTextFile(`${dir}/outside/victim.txt`, "keep me\n");
    await Deno.writeTextFile(`${dir}/reports/results.json`, "[1]");
    await Deno.symlink(`${dir}/outside/victim.txt`, `${dir}/reports/results.json.failed.ndjson`);

    // Nothing is sent: the only row cannot be read, so no server is needed.
    const run = await submit(dir, ["reports/results.json", "--url", "http://127.0.0.1:9"]);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(await Deno.readTextFile(`${dir}/outside/victim.txt`), "keep me\n");
    const written = await Deno.lstat(`${dir}/reports/results.json.failed.ndjson`);
    assert.ok(written.isFile && !written.isSymlink, "the link itself was replaced by a file");
    const row = JSON.parse(await Deno.readTextFile(`${dir}/reports/results.json.failed.ndjson`));
    assert.deepEqual([row._raw, row._error.code], [1, "UNPARSEABLE"]);
    assert.deepEqual(
      [...Deno.readDirSync(`${dir}/reports`)].map((entry) => entry.name).sort(),
      ["results.json", "results.json.failed.ndjson"],
      "no temporary file is left behind",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the CLI derives the ids the service derives for the same key: a report imported with key A and submitted with key A is all duplicates, with key B stored anew", async () => {
  const { url, close } = await startTestService({ API_KEYS: "key-a,key-b" });
  const dir = await Deno.makeTempDir();
  try {
    const xml = report("Same", 3);
    await Deno.writeTextFile(`${dir}/same.xml`, xml);
    const imported = await fetch(`${url}/v1/imports/junit`, {
      method: "POST",
      headers: { "content-type": "application/xml", authorization: "Bearer key-a" },
      body: xml,
    });
    assert.equal((await imported.json()).created, 3);

    const byA = await submit(dir, ["same.xml", "--url", url, "--api-key", "key-a", "--quiet"]);
    assert.equal(byA.code, 0, byA.stderr);
    assert.deepEqual(
      [summaryOf(byA.stdout).created, summaryOf(byA.stdout).duplicates],
      [0, 3],
    );
    const byB = await submit(dir, ["same.xml", "--url", url, "--api-key", "key-b", "--quiet"]);
    assert.equal(byB.code, 0, byB.stderr);
    assert.deepEqual(
      [summaryOf(byB.stdout).created, summaryOf(byB.stdout).duplicates],
      [3, 0],
    );
  } finally {
    await close();
    await Deno.remove(dir, { recursive: true });
  }
});
