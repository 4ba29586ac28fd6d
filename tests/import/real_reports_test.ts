// Reports written during the test run by real runners (deno test, pytest, Maven Surefire) are
// imported through POST /v1/imports/junit and the submit CLI, then imported again: all duplicates.
import assert from "node:assert/strict";
import { postReport, sqlFor, startTestService, summaryOf } from "../_helpers.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const FIXTURES = `${REPO}tests/fixtures/junit`;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const output = await new Deno.Command(command, { args, cwd, env, stdin: "null" }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  } satisfies Ran;
}

/** The Python that has pytest: the one on PATH, else Debian's (scripts/test.sh installs it). */
async function pytestPython(): Promise<string> {
  for (const python of [Deno.env.get("PYTEST_PYTHON"), "python3", "/usr/bin/python3"]) {
    if (!python) continue;
    const found = await run(python, ["-m", "pytest", "--version"], REPO).catch(() => undefined);
    if (found?.code === 0) return python;
  }
  throw new Error("No python3 with pytest: install Debian's python3-pytest (scripts/test.sh does)");
}

type Verdict = { testCaseKey: string; status: string };

Deno.test("a report of deno test --reporter=junit imports once: posted again, all 7 testcases are duplicates", async () => {
  const dir = await Deno.makeTempDir();
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    await Deno.copyFile(`${FIXTURES}/deno_suite.ts`, `${dir}/deno_suite.ts`);
    const ran = await run(Deno.execPath(), [
      "test",
      "--reporter=junit",
      `--junit-path=${dir}/deno.xml`,
      "deno_suite.ts",
    ], dir);
    assert.equal(ran.code, 1, "two tests fail on purpose");
    const xml = await Deno.readTextFile(`${dir}/deno.xml`);

    // deno test writes no timestamp: the report is dated by the startedAt parameter.
    const query = "?startedAt=2026-11-28T10:00:00Z&environment=deno";
    const first = await postReport(url, xml, query);
    assert.equal(first.status, 200);
    const body = await first.json();
    assert.deepEqual(
      body.items.map((item: Verdict) => [item.testCaseKey, item.status]),
      [
        ["./deno_suite.ts.adds numbers", "created"],
        ["./deno_suite.ts.fails on purpose", "created"],
        ["./deno_suite.ts.is ignored", "created"],
        ["./deno_suite.ts.has steps", "created"],
        ["./deno_suite.ts.naïve café ✓", "created"],
        ["./deno_suite.ts.has steps > first step", "created"],
        ["./deno_suite.ts.has steps > second step fails", "created"],
      ],
    );
    const statuses = await sql`
      select status, count(*)::int as count from executions group by status order by status`;
    assert.deepEqual(statuses.map((row) => [row.status, row.count]), [
      ["FAILED", 3],
      ["PASSED", 3],
      ["SKIPPED", 1],
    ]);
    const [failure] = await sql`
      select comment from executions where test_case_key = './deno_suite.ts.fails on purpose'`;
    assert.match(failure.comment, /^Uncaught AssertionError: one and one <is> "two"/);

    const again = await (await postReport(url, xml, query)).json();
    assert.deepEqual([again.total, again.created, again.duplicates, again.failed], [7, 0, 7, 0]);
    const [{ count }] = await sql`select count(*)::int as count from executions`;
    assert.equal(count, 7);
  } finally {
    await sql.end();
    await close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a report of pytest --junitxml goes through the CLI with stamps; the testCaseKey property names its key; run again, all 8 are duplicates", async () => {
  const dir = await Deno.makeTempDir();
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    await Deno.copyFile(`${FIXTURES}/pytest_suite.py`, `${dir}/pytest_suite.py`);
    const python = await pytestPython();
    const ran = await run(python, [
      "-B",
      "-m",
      "pytest",
      "-p",
      "no:cacheprovider",
      "-o",
      "junit_logging=system-out",
      "--junitxml=pytest.xml",
      "pytest_suite.py",
    ], dir);
    assert.equal(ran.code, 1, `pytest ran with failures on purpose:\n${ran.stdout}`);

    const cli = [
      "run",
      "-A",
      `${REPO}src/cli/submit.ts`,
      "pytest.xml",
      "--url",
      url,
      "--environment",
      "ci",
      "--cycle-key",
      "R-7",
      "--attribute",
      "build=42",
    ];
    const first = await run(Deno.execPath(), cli, dir, { INIT_CWD: "" });
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(summaryOf(first.stdout), { total: 8, created: 8, duplicates: 0, failed: 0 });
    assert.doesNotMatch(first.stderr, /no timestamp/, "pytest writes the suite's timestamp");

    const rows = await sql`
      select test_case_key, status, environment, cycle_key, attributes from executions
      order by started_at, test_case_key`;
    const byKey = new Map(rows.map((row) => [row.test_case_key, row]));
    assert.ok(byKey.has("PY-001"), "the record_property testCaseKey is the key");
    assert.ok(byKey.has("pytest_suite.test_param[1]"));
    assert.ok(byKey.has("pytest_suite.test_unicode_naïve"));
    const errored = byKey.get("pytest_suite.test_errors_in_fixture")!;
    assert.equal(errored.status, "FAILED");
    assert.equal(errored.attributes.outcome, "error");
    assert.equal(byKey.get("pytest_suite.test_skipped")!.status, "SKIPPED");
    assert.deepEqual(
      [byKey.get("PY-001")!.environment, byKey.get("PY-001")!.cycle_key],
      ["ci", "R-7"],
    );
    assert.equal(byKey.get("PY-001")!.attributes.build, "42");
    assert.ok(byKey.get("PY-001")!.attributes.systemOutBytes >= "some output\n".length);
    const [{ leaked }] = await sql`
      select count(*)::int as leaked from executions where comment like '%some output%'
        or attributes::text like '%some output%'`;
    assert.equal(leaked, 0, "of system-out only its size is kept");

    const again = await run(Deno.execPath(), cli, dir, { INIT_CWD: "" });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(summaryOf(again.stdout), { total: 8, created: 0, duplicates: 8, failed: 0 });
    const [{ count }] = await sql`select count(*)::int as count from executions`;
    assert.equal(count, 8);
  } finally {
    await sql.end();
    await close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Maven Surefire's reports folder through ./dev submit: .txt summaries skipped, undated reports dated by the files' age, a re-run stores nothing twice", async (t) => {
  const dir = await Deno.makeTempDir();
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    assert.equal((await run("cp", ["-R", `${FIXTURES}/maven/.`, dir], REPO)).code, 0);
    const built = await run("mvn", ["-B", "-q", "-Dstyle.color=never", "test"], dir);
    assert.equal(built.code, 0, `mvn test:\n${built.stdout}\n${built.stderr}`);
    const names = [...Deno.readDirSync(`${dir}/target/surefire-reports`)].map((e) => e.name).sort();
    assert.deepEqual(names, [
      "TEST-demo.CalculatorTest.xml",
      "TEST-demo.GreetingTest.xml",
      "demo.CalculatorTest.txt",
      "demo.GreetingTest.txt",
    ]);

    // Through ./dev from the project folder, with a path relative to the caller's folder.
    const submit = ["submit", "target/surefire-reports/", "--url", url];
    const first = await run("bash", [`${REPO}dev`, ...submit], dir, { NO_COLOR: "1" });
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(summaryOf(first.stdout), { total: 5, created: 5, duplicates: 0, failed: 0 });
    assert.match(
      first.stderr,
      /skipped 2 files in "target\/surefire-reports\/" \(not reports, or failure files of an earlier run\): demo\.CalculatorTest\.txt, demo\.GreetingTest\.txt/,
    );
    const dated = [
      ...first.stderr.matchAll(
        /4 testcases carry no timestamp: dated from (\S+), the file's modification time minus the report's total time/g,
      ),
    ];
    assert.equal(dated.length, 1, first.stderr);
    assert.equal(
      [...first.stdout.matchAll(
        /^batch [0-9a-f-]{36}: 5 rows, 5 created, 0 duplicates, 0 failed$/gm,
      )].length,
      1,
    );
    const calculator = await sql`
      select test_case_key, status, started_at, comment, attributes from executions
      where test_case_key like 'demo.CalculatorTest.%' order by started_at, test_case_key`;
    assert.equal(calculator[0].started_at.toISOString(), dated[0][1]);
    assert.deepEqual(
      calculator.map((row) => [row.test_case_key, row.status]).sort(),
      [
        ["demo.CalculatorTest.adds", "PASSED"],
        ["demo.CalculatorTest.failsOnPurpose", "FAILED"],
        ["demo.CalculatorTest.skipped", "SKIPPED"],
        ["demo.CalculatorTest.throwsError", "FAILED"],
      ],
    );
    const thrown = calculator.find((row) =>
      row.test_case_key === "demo.CalculatorTest.throwsError"
    );
    assert.equal(thrown?.comment, "java.lang.IllegalStateException: broken & bad");

    await t.step("the same command again: 5 duplicates, nothing stored twice", async () => {
      const again = await run("bash", [`${REPO}dev`, ...submit], dir, { NO_COLOR: "1" });
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(summaryOf(again.stdout), { total: 5, created: 0, duplicates: 5, failed: 0 });
      const [{ count }] = await sql`select count(*)::int as count from executions`;
      assert.equal(count, 5);
    });

    await t.step("--started-at dates them instead, and says nothing about file times", async () => {
      const stamped = await run(
        "bash",
        [
          `${REPO}dev`,
          ...submit,
          "--started-at",
          "2026-11-28T10:00:00Z",
        ],
        dir,
        { NO_COLOR: "1" },
      );
      assert.equal(stamped.code, 0, stamped.stderr);
      assert.doesNotMatch(stamped.stderr, /modification time/);
      const [{ earliest }] = await sql`
        select min(started_at) as earliest from executions
        where started_at < ${calculator[0].started_at}`;
      assert.equal(earliest.toISOString(), "2026-11-28T10:00:00.000Z");
    });
  } finally {
    await sql.end();
    await close();
    await Deno.remove(dir, { recursive: true });
  }
});
