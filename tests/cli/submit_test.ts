// The submit CLI: readers, arguments, retries and progress in-process; whole runs as a subprocess
// against the real service and PostgreSQL.
import assert from "node:assert/strict";
import { parse as parseCsv } from "csv-parse/sync";
import { HELP, parseSubmitArgs, UsageError } from "../../src/cli/args.ts";
import {
  backoffDelayMs,
  type BatchAnswer,
  parseRetryAfter,
  SubmitStoppedError,
} from "../../src/cli/batch_client.ts";
import { createProgress, formatProgress } from "../../src/cli/progress.ts";
import {
  formatOf,
  InputError,
  parseCsvRecords,
  parseJsonDocument,
  parseNdjsonLines,
} from "../../src/cli/read_executions.ts";
import { failureRow, formatSummary } from "../../src/cli/report.ts";
import { submitItems } from "../../src/cli/submit_batches.ts";
import type { BatchResult } from "../../src/domain/ingest.ts";
import { execution, freePort, sqlFor, startTestService, summaryOf } from "../_helpers.ts";
import { run } from "./_bundle.ts";

const REPO = new URL("../../", import.meta.url);

// ---------------------------------------------------------------- readers

Deno.test("the JSON reader takes an array or an executions object and drops _error fields", () => {
  const row = execution(1);
  const fromArray = parseJsonDocument(JSON.stringify([{ ...row, _error: { code: "X" } }]));
  assert.deepEqual(fromArray, [{ index: 0, line: undefined, value: row }]);
  const fromObject = parseJsonDocument(JSON.stringify({ executions: [row, row] }));
  assert.deepEqual(fromObject.map((item) => item.index), [0, 1]);
  assert.deepEqual(fromObject[1].value, row);
  assert.deepEqual(parseJsonDocument("  \n"), []);
});

Deno.test("the JSON reader marks items that are not objects unparseable and refuses a broken document", () => {
  const items = parseJsonDocument(`[{"testCaseKey":"A"}, 42, null]`);
  assert.equal(items[0].problem, undefined);
  assert.equal(items[1].problem, "item 1 is not a JSON object");
  assert.equal(items[2].value, null);
  assert.throws(() => parseJsonDocument(`{"a":1}\n{"b":2}\n`), (error: Error) => {
    assert.ok(error instanceof InputError);
    assert.match(error.message, /not a JSON document .*pass --format ndjson/);
    return true;
  });
  assert.throws(() => parseJsonDocument(`{"items": []}`), /a JSON array or an object/);
});

Deno.test("the NDJSON reader skips blank lines, numbers lines, and marks a line that is not a JSON object with its line number", () => {
  const text = [
    JSON.stringify({ testCaseKey: "A", _error: { code: "VALIDATION_FAILED" } }),
    "",
    "   ",
    '{"testCaseKey": "B",',
    "[1, 2]",
    JSON.stringify({ testCaseKey: "C" }) + "\r",
  ].join("\n");
  const items = parseNdjsonLines(text);
  assert.deepEqual(items.map((item) => [item.index, item.line]), [[0, 1], [1, 4], [2, 5], [3, 6]]);
  assert.deepEqual(items[0].value, { testCaseKey: "A" });
  assert.match(items[1].problem ?? "", /^line 4 is not valid JSON: /);
  assert.equal(items[1].value, '{"testCaseKey": "B",');
  assert.equal(items[2].problem, "line 5 is not a JSON object");
  assert.deepEqual(items[3], { index: 3, line: 6, value: { testCaseKey: "C" } });
});

Deno.test("the CSV reader maps the header to fields, leaves empty cells absent, reads durationMs as an integer and attributes as JSON", () => {
  const text = "\uFEFF" + [
    "id,testCaseKey,status,startedAt,durationMs,comment,attributes,_error",
    ',TC-1,PASSED,2026-11-28T10:00:00Z,1500,"one, ""two""\nthree","{""build"":42,""tags"":[""a""]}",',
    "",
    "11111111-1111-4111-8111-111111111111,TC-2,FAILED,2026-11-28T10:00:00Z,,,,stale",
  ].join("\r\n") + "\r\n";
  const items = parseCsvRecords(text.slice(1));
  assert.equal(items.length, 2);
  assert.deepEqual(items[0], {
    index: 0,
    line: 2,
    value: {
      testCaseKey: "TC-1",
      status: "PASSED",
      startedAt: "2026-11-28T10:00:00Z",
      durationMs: 1500,
      comment: 'one, "two"\nthree',
      attributes: { build: 42, tags: ["a"] },
    },
  });
  assert.deepEqual(items[1], {
    index: 1,
    line: 5,
    value: {
      id: "11111111-1111-4111-8111-111111111111",
      testCaseKey: "TC-2",
      status: "FAILED",
      startedAt: "2026-11-28T10:00:00Z",
    },
  }, "a multi-line cell and a blank line do not shift later line numbers");
});

Deno.test("the CSV reader marks a row with a wrong cell count, a non-integer durationMs or bad attributes JSON unparseable", () => {
  const items = parseCsvRecords([
    "testCaseKey,status,durationMs,attributes",
    "TC-1,PASSED",
    "TC-2,PASSED,1.5,",
    'TC-3,PASSED,10,"{not json}"',
    "TC-4,PASSED,-3,",
  ].join("\n"));
  assert.equal(items[0].problem, "line 2 has 2 cells but the header has 4 columns");
  assert.deepEqual(items[0].value, ["TC-1", "PASSED"]);
  assert.equal(items[1].problem, 'line 3: durationMs "1.5" is not an integer');
  assert.deepEqual(items[1].value, { testCaseKey: "TC-2", status: "PASSED", durationMs: "1.5" });
  assert.match(items[2].problem ?? "", /^line 4: attributes is not valid JSON/);
  assert.deepEqual(items[3].value, { testCaseKey: "TC-4", status: "PASSED", durationMs: -3 });
  assert.equal(items[3].problem, undefined, "the range is the server's to judge");
});

Deno.test("the CSV reader refuses the whole file for an unknown column or a broken quote", () => {
  assert.throws(
    () => parseCsvRecords("testCaseKey,state\nTC-1,PASSED\n"),
    /column "state" that is not an execution field; the fields are id, testCaseKey, status/,
  );
  assert.throws(() => parseCsvRecords("testCaseKey,status,status\n"), /"status" twice/);
  assert.throws(
    () => parseCsvRecords('testCaseKey,attributes\nTC-1,{"a":1}\n'),
    /not valid CSV: .*line 2.*quotes doubled inside/,
  );
  assert.deepEqual(parseCsvRecords(""), []);
  assert.deepEqual(parseCsvRecords("testCaseKey,status\n"), []);
});

Deno.test("the format comes from the extension", () => {
  assert.equal(formatOf("a/b.JSON"), "json");
  assert.equal(formatOf("runs.jsonl"), "ndjson");
  assert.equal(formatOf("runs.csv.failed.ndjson"), "ndjson");
  assert.equal(formatOf("runs.csv"), "csv");
  assert.equal(formatOf("TEST-demo.CalculatorTest.XML"), "junit");
  assert.equal(formatOf("runs.txt"), undefined);
  assert.equal(formatOf("dir.csv/runs"), undefined);
});

// ---------------------------------------------------------------- arguments

Deno.test("the arguments take their defaults from the environment and refuse what cannot run", () => {
  assert.deepEqual(parseSubmitArgs(["runs.csv", "reports/"], {}), {
    paths: ["runs.csv", "reports/"],
    format: undefined,
    url: "http://127.0.0.1:8080",
    urlFrom: "default",
    apiKey: undefined,
    batchSize: 1000,
    failuresPath: undefined,
    maxRetries: 5,
    quiet: false,
    allowEmpty: false,
    softFail: false,
    dryRun: false,
    summaryPath: undefined,
    stamps: { startedAt: undefined, cycleKey: undefined, environment: undefined, attributes: {} },
  });
  const fromEnv = parseSubmitArgs([
    "runs.txt",
    "--format",
    "ndjson",
    "--quiet",
    "--allow-empty",
    "--started-at",
    "2026-11-28T10:00:00+01:00",
    "--cycle-key",
    "R-42",
    "--environment",
    "staging",
    "--attribute",
    "build=1842",
    "--attribute",
    "url=https://ci.example/a=b",
  ], {
    EXECUTION_INGEST_URL: "https://ingest.example",
    EXECUTION_INGEST_API_KEY: "k",
  });
  assert.ok(fromEnv !== "help");
  assert.deepEqual(
    [fromEnv.url, fromEnv.apiKey, fromEnv.format, fromEnv.quiet, fromEnv.allowEmpty],
    [
      "https://ingest.example",
      "k",
      "ndjson",
      true,
      true,
    ],
  );
  assert.deepEqual(fromEnv.stamps, {
    startedAt: "2026-11-28T10:00:00+01:00",
    cycleKey: "R-42",
    environment: "staging",
    attributes: { build: "1842", url: "https://ci.example/a=b" },
  });
  assert.equal(parseSubmitArgs(["--help"]), "help");
  assert.match(HELP, /^Usage: \.\/dev submit PATH\.\.\. \[options\]/);
  assert.doesNotMatch(HELP, /deno task/, "the README's command, not deno task");
  for (
    const [argv, message] of [
      [[], /Name what to submit: \.\/dev submit FILE\|FOLDER\|GLOB/],
      [["a.json", "--format", "xml"], /--format must be one of junit, json, ndjson, csv/],
      [["a.json", "--batch-size", "10001"], /--batch-size must be an integer from 1 to 10000/],
      [["a.json", "--batch-size", "1e3"], /--batch-size/],
      [["a.json", "--max-retries", "-1"], /max-retries/],
      [["a.json", "--url", "ftp://x"], /--url must be an http/],
      [["a.json", "--bogus"], /bogus/],
      [["a.json", "--api-key", "two words"], /printable ASCII without spaces/],
      [["a.xml", "--started-at", "yesterday"], /--started-at must be an RFC 3339 timestamp/],
      [["a.xml", "--environment", "x".repeat(101)], /--environment must be at most 100/],
      [["a.xml", "--attribute", "novalue"], /--attribute must be KEY=VALUE, not "novalue"/],
      [["a.xml", "--attribute", "=v"], /--attribute must be KEY=VALUE/],
    ] as Array<[string[], RegExp]>
  ) {
    assert.throws(() => parseSubmitArgs(argv), (error: Error) => {
      assert.ok(error instanceof UsageError, `${argv.join(" ")} is a usage error`);
      assert.match(error.message, message);
      return true;
    });
  }
});

// ---------------------------------------------------------------- retries, progress, report

Deno.test("Retry-After is read as seconds or an HTTP date, and the backoff doubles up to its cap", () => {
  const now = Date.parse("2026-11-28T10:00:00Z");
  assert.equal(parseRetryAfter("5", now), 5000);
  assert.equal(parseRetryAfter("0", now), 0);
  assert.equal(parseRetryAfter("Sat, 28 Nov 2026 10:00:03 GMT", now), 3000);
  assert.equal(parseRetryAfter("86400", now), 5 * 60_000, "capped");
  assert.equal(parseRetryAfter("soon", now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
  const settings = { initialDelayMs: 500, maxDelayMs: 3000 };
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelayMs(n, settings, () => 1)), [
    500,
    1000,
    2000,
    3000,
  ]);
  assert.equal(backoffDelayMs(2, settings, () => 0), 500, "jitter takes off at most half");
});

Deno.test("the progress line is redrawn in place on a terminal and printed once per batch elsewhere", () => {
  assert.equal(
    formatProgress({ sent: 3000, total: 10_000, batches: 2 }, 712.6),
    "[###.......] 3,000/10,000 items · 2 batches · 4,210 items/s",
  );
  let time = 0;
  const tty: string[] = [];
  const onTty = createProgress({ write: (text) => tty.push(text), tty: true, now: () => time });
  time = 1000;
  onTty.update({ sent: 1, total: 1, batches: 1 });
  onTty.note("retry 1 of 5");
  onTty.end();
  assert.deepEqual(tty, [
    "\r[##########] 1/1 items · 1 batch · 1 items/s\x1b[K",
    "\r\x1b[Kretry 1 of 5\n[##########] 1/1 items · 1 batch · 1 items/s",
    "\n",
  ]);
  const piped: string[] = [];
  const onPipe = createProgress({ write: (text) => piped.push(text), tty: false, now: () => 0 });
  onPipe.update({ sent: 0, total: 2, batches: 0 });
  onPipe.end();
  assert.deepEqual(piped, ["[..........] 0/2 items · 0 batches · 0 items/s\n"]);
});

Deno.test("a failure row is the row plus _error, or _raw plus _error when the row was not an object", () => {
  assert.deepEqual(
    failureRow({
      index: 4,
      line: 5,
      value: { id: "x", testCaseKey: "A" },
      code: "VALIDATION_FAILED",
      message: "m",
      details: [{ path: "status", message: "is required" }],
    }),
    {
      id: "x",
      testCaseKey: "A",
      _error: {
        index: 4,
        line: 5,
        code: "VALIDATION_FAILED",
        message: "m",
        details: [{ path: "status", message: "is required" }],
      },
    },
  );
  assert.deepEqual(failureRow({ index: 0, value: "{oops", code: "UNPARSEABLE", message: "m" }), {
    _raw: "{oops",
    _error: { index: 0, code: "UNPARSEABLE", message: "m" },
  });
});

/** A fake client answering from a script, recording what it was sent. */
function scriptedClient(script: Array<(items: unknown[]) => BatchAnswer>) {
  const sent: unknown[][] = [];
  return {
    sent,
    send(items: readonly unknown[]) {
      sent.push([...items]);
      const next = script.shift();
      if (!next) throw new Error("unexpected request");
      return Promise.resolve(next([...items]));
    },
  };
}

const allCreated = (items: unknown[]): BatchAnswer => ({
  kind: "result",
  result: {
    batchId: "b",
    total: items.length,
    created: items.length,
    duplicates: 0,
    failed: 0,
    items: items.map((item, index) => ({
      index,
      id: (item as { id: string }).id,
      status: "created",
    })),
  } satisfies BatchResult,
});

Deno.test("submitting splits a batch the server finds too large and marks rows NOT_SENT when it stops", async () => {
  const items = Array.from({ length: 5 }, (_, index) => ({
    index,
    source: 0,
    value: { id: `id-${index}`, testCaseKey: `T${index}` } as Record<string, unknown>,
  }));
  const client = scriptedClient([
    () => ({ kind: "too_large", code: "PAYLOAD_TOO_LARGE", message: "too big" }),
    allCreated,
    allCreated,
    () => {
      throw new SubmitStoppedError("unreachable", "Gave up after 5 retries: HTTP 503");
    },
  ]);
  const progress: number[] = [];
  const batches: string[] = [];
  const outcome = await submitItems(items, client, {
    batchSize: 4,
    onProgress: ({ sent }) => progress.push(sent),
    onBatch: (result, rows) => batches.push(`${result.batchId}:${rows.length}`),
  });
  assert.deepEqual(client.sent.map((batch) => batch.length), [4, 2, 2, 1]);
  assert.deepEqual(client.sent[0][0], { id: "id-0", testCaseKey: "T0" });
  assert.deepEqual(batches, ["b:2", "b:2"]);
  assert.equal(outcome.created, 4);
  assert.equal(outcome.batches, 2);
  assert.deepEqual(progress, [2, 4]);
  assert.equal(outcome.stopped?.reason, "unreachable");
  assert.deepEqual(outcome.failures, [{
    index: 4,
    source: 0,
    line: undefined,
    value: { id: "id-4", testCaseKey: "T4" },
    code: "NOT_SENT",
    message: "Not sent: Gave up after 5 retries: HTTP 503",
  }]);
  assert.match(formatSummary(outcome, 1234), /^failed\s+1\n {2}NOT_SENT\s+1\ntime\s+1\.2 s\n$/m);
});

// ---------------------------------------------------------------- whole runs

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<CliRun> {
  return run(Deno.execPath(), ["run", "-A", "src/cli/submit.ts", ...args], {
    cwd: REPO.pathname,
    env: { EXECUTION_INGEST_URL: "", EXECUTION_INGEST_API_KEY: "", INIT_CWD: "" },
  });
}

async function readNdjson(path: string): Promise<Array<Record<string, unknown>>> {
  const text = await Deno.readTextFile(path);
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

Deno.test("submitting an NDJSON file stores the valid rows, exits 1, and writes each failed row with its index and code", async (t) => {
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  const dir = await Deno.makeTempDir();
  try {
    const rows: Array<Record<string, unknown> | string> = Array.from(
      { length: 100 },
      (_, i) => execution(i, { comment: `ndjson ${i}` }),
    );
    rows[5] = execution(5, { status: "GREEN" });
    rows[17] = '{"testCaseKey": "TC-17", "status":';
    rows[42] = execution(42, { id: (rows[41] as { id: string }).id, comment: "same id" });
    const { id: _id, ...noId } = execution(60, { comment: "no id" });
    rows[60] = noId;
    const file = `${dir}/runs.ndjson`;
    await Deno.writeTextFile(
      file,
      rows.map((row) => typeof row === "string" ? row : JSON.stringify(row)).join("\n") + "\n",
    );

    const run = await runCli([file, "--url", url, "--batch-size", "40"]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(summaryOf(run.stdout), {
      total: 100,
      created: 97,
      duplicates: 0,
      failed: 3,
      DUPLICATE_IN_BATCH: 1,
      UNPARSEABLE: 1,
      VALIDATION_FAILED: 1,
    });
    assert.match(run.stderr, /warning: .*runs\.ndjson: line 18 is not valid JSON: .*\(not sent\)/);
    assert.match(run.stderr, /^\[#{10}\] 99\/99 items · 3 batches · [\d,]+ items\/s$/m);

    const failed = await readNdjson(`${file}.failed.ndjson`);
    assert.deepEqual(
      failed.map((row) => row._error as Record<string, unknown>).map((e) => [
        e.index,
        e.line,
        e.code,
      ]),
      [[5, 6, "VALIDATION_FAILED"], [17, 18, "UNPARSEABLE"], [42, 43, "DUPLICATE_IN_BATCH"]],
    );
    assert.deepEqual((failed[0]._error as { details: unknown }).details, [
      {
        path: "status",
        message: "must be one of PASSED, FAILED, BLOCKED, SKIPPED, IN_PROGRESS, NOT_EXECUTED",
      },
    ]);
    const { _error: _e0, ...sentRow5 } = failed[0];
    assert.deepEqual(sentRow5, rows[5], "the row as sent, ready to fix");
    assert.equal(failed[1]._raw, rows[17]);
    assert.match(
      (failed[2]._error as { message: string }).message,
      /the same id is already at index 41$/,
      "the message counts rows as the failure file's index does, not within the batch",
    );
    assert.match((failed[0]._error as { message: string }).message, /at index 5: 1 problem/);
    assert.equal(
      [...run.stdout.matchAll(
        /^batch [0-9a-f-]{36}: \d+ rows, \d+ created, 0 duplicates, \d+ failed$/gm,
      )]
        .length,
      3,
      "each batch id is printed",
    );
    assert.match(run.stdout, /(^|[^\d,])3 rows need fixing/m);

    const [{ count }] = await sql`select count(*)::int as count from executions`;
    assert.equal(count, 97);
    const [stored] = await sql`select id::text from executions where comment = 'no id'`;
    assert.match(stored.id, /^[0-9a-f-]{36}$/, "the row without an id was stored once");

    await t.step("the fixed failure file submits cleanly, ignoring its _error fields", async () => {
      const fixed = [
        { ...failed[0], status: "PASSED" },
        { ...execution(17), _error: failed[1]._error },
        { ...failed[2], id: crypto.randomUUID() },
      ];
      await Deno.writeTextFile(
        `${file}.failed.ndjson`,
        fixed.map((row) => JSON.stringify(row)).join("\n"),
      );
      const again = await runCli([`${file}.failed.ndjson`, "--url", url, "--quiet"]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stderr, "");
      assert.deepEqual(summaryOf(again.stdout), { total: 3, created: 3, duplicates: 0, failed: 0 });
      const [{ count }] = await sql`select count(*)::int as count from executions`;
      assert.equal(count, 100);
    });

    await t.step(
      "the same file again stores nothing twice, the row without an id included",
      async () => {
        const again = await runCli([file, "--url", url, "--batch-size", "40", "--quiet"]);
        assert.equal(again.code, 1);
        const summary = summaryOf(again.stdout);
        assert.deepEqual([summary.created, summary.duplicates], [0, 97]);
        const [{ count }] = await sql`select count(*)::int as count from executions`;
        assert.equal(count, 100);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
    await sql.end();
    await close();
  }
});

Deno.test("submitting a CSV file stores quoted text and attributes, and fails bad cells locally and bad values on the server", async () => {
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  const dir = await Deno.makeTempDir();
  try {
    const header = "id,testCaseKey,status,startedAt,finishedAt,durationMs,comment,attributes";
    const lines = [header];
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const id = crypto.randomUUID();
      ids.push(id);
      lines.push(
        `${id},TC-${i},PASSED,2026-11-28T10:00:00Z,2026-11-28T10:00:01Z,1000,run ${i},"{""build"":${i}}"`,
      );
    }
    lines[1 + 3] = `${ids[3]},TC-3,PASSED,2026-11-28T10:00:00Z,,12.5,,`;
    lines[1 + 20] = `${ids[20]},TC-20,GREEN,2026-11-28T10:00:00Z,,,,`;
    lines[1 + 45] = `${
      ids[45]
    },TC-45,FAILED,2026-11-28T10:00:00Z,2026-11-28T09:00:00Z,,"said ""no"", twice\nsecond line","{""tags"":[""x"",""y""]}"`;
    lines[1 + 46] = `${
      ids[46]
    },TC-46,FAILED,2026-11-28T10:00:00Z,,,"said ""no"", twice\nsecond line","{""tags"":[""x"",""y""],""n"":null}"`;
    const file = `${dir}/runs.csv`;
    await Deno.writeTextFile(file, lines.join("\r\n") + "\r\n");

    const run = await runCli([file, "--url", url, "--batch-size", "40"]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(summaryOf(run.stdout), {
      total: 50,
      created: 47,
      duplicates: 0,
      failed: 3,
      VALIDATION_FAILED: 2,
      UNPARSEABLE: 1,
    });
    assert.match(run.stdout, /Rows not stored are in .*runs\.csv\.failed\.csv\./);
    const failedText = await Deno.readTextFile(`${file}.failed.csv`);
    const failed = parseCsv(failedText, { columns: true }) as Array<Record<string, string>>;
    assert.equal(
      failedText.split("\n")[0],
      "id,testCaseKey,status,startedAt,finishedAt,durationMs,comment,attributes,_error",
      "a CSV input gets a CSV failure file with its own columns",
    );
    assert.deepEqual(failed.map((row) => row.id), [ids[3], ids[20], ids[45]]);
    assert.equal(failed[0].durationMs, "12.5", "the bad cell stays as text to fix");
    assert.equal(
      failed[0]._error,
      'UNPARSEABLE at index 3, line 5: line 5: durationMs "12.5" is not an integer',
    );
    assert.equal(
      failed[1]._error,
      "VALIDATION_FAILED at index 20, line 22: Cannot accept execution at index 20: 1 problem " +
        "(see details) (status: must be one of PASSED, FAILED, BLOCKED, SKIPPED, IN_PROGRESS, NOT_EXECUTED)",
      "index and message agree although row 20 was the 21st of its batch of 40... and row 45 the 6th of the next",
    );
    assert.match(
      failed[2]._error,
      /^VALIDATION_FAILED at index 45, line 47: Cannot accept execution at index 45: .*finishedAt: must not be before startedAt/,
    );
    assert.equal(failed[2].attributes, '{"tags":["x","y"]}');
    assert.equal(failed[2].comment, 'said "no", twice\nsecond line');

    const again = await runCli([`${file}.failed.csv`, "--url", url, "--quiet"]);
    assert.equal(again.code, 1, "the failure file reads back as CSV, its _error column ignored");
    assert.deepEqual(summaryOf(again.stdout), {
      total: 3,
      created: 0,
      duplicates: 0,
      failed: 3,
      VALIDATION_FAILED: 2,
      UNPARSEABLE: 1,
    });

    const [row46] = await sql`
      select comment, attributes, duration_ms from executions where id = ${ids[46]}`;
    assert.equal(row46.comment, 'said "no", twice\nsecond line', "a quoted line break is kept");
    assert.deepEqual(row46.attributes, { tags: ["x", "y"], n: null });
    assert.equal(row46.duration_ms, null, "an empty cell is an absent field");
    const [row0] = await sql`select attributes, duration_ms from executions where id = ${ids[0]}`;
    assert.deepEqual(row0.attributes, { build: 0 });
    assert.equal(row0.duration_ms, 1000);
    const [{ count }] = await sql`select count(*)::int as count from executions`;
    assert.equal(count, 47);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await sql.end();
    await close();
  }
});

Deno.test("a 503 with Retry-After is retried after the time it names, and the batch is then stored", async () => {
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  const dir = await Deno.makeTempDir();
  const arrivals: number[] = [];
  // An in-process stand-in for the service, for the retry only: 503 once, then the real service.
  const stub = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    arrivals.push(performance.now());
    if (arrivals.length === 1) {
      await request.body?.cancel();
      return Response.json(
        { error: { code: "SERVICE_SATURATED", message: "busy", requestId: "r" } },
        { status: 503, headers: { "retry-after": "1" } },
      );
    }
    return await fetch(`${url}${new URL(request.url).pathname}`, {
      method: request.method,
      headers: request.headers,
      body: await request.arrayBuffer(),
    });
  });
  try {
    const file = `${dir}/runs.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ executions: Array.from({ length: 10 }, (_, i) => execution(i)) }),
    );
    const run = await runCli([file, "--url", `http://127.0.0.1:${stub.addr.port}`]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(arrivals.length, 2);
    assert.ok(arrivals[1] - arrivals[0] >= 950, `waited ${arrivals[1] - arrivals[0]} ms`);
    assert.match(run.stderr, /retry 1 of 5 in 1\.0 s: HTTP 503 SERVICE_SATURATED: busy/);
    assert.deepEqual(summaryOf(run.stdout), { total: 10, created: 10, duplicates: 0, failed: 0 });
    const [{ count }] = await sql`select count(*)::int as count from executions`;
    assert.equal(count, 10);
    await assert.rejects(Deno.stat(`${file}.failed.ndjson`), Deno.errors.NotFound);
  } finally {
    await stub.shutdown();
    await Deno.remove(dir, { recursive: true });
    await sql.end();
    await close();
  }
});

Deno.test("a 401 stops at once with exit code 2 and asks for --api-key", async (t) => {
  const { url, config, close } = await startTestService({ API_KEYS: "k-123" });
  const sql = sqlFor(config.DB_SCHEMA);
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/runs.ndjson`;
    await Deno.writeTextFile(file, JSON.stringify(execution(1)) + "\n");
    const run = await runCli([file, "--url", url]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /The server needs an API key: pass --api-key/);
    assert.doesNotMatch(run.stderr, /retry/);
    const failed = await readNdjson(`${file}.failed.ndjson`);
    assert.equal((failed[0]._error as { code: string }).code, "NOT_SENT");
    assert.doesNotMatch(run.stdout, /fix them/, "nothing is wrong with the rows");
    assert.match(
      run.stdout,
      /^1 row was not sent and need no fixing: once the error above is resolved, run the same command again \(rows already stored count as duplicates\)\.$/m,
    );

    await t.step("a wrong key is named as the problem, with the option that sets it", async () => {
      const wrong = await runCli([file, "--url", url, "--api-key", "k-999"]);
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /error: The server refused the API key \(.*\): check --api-key/);
      assert.doesNotMatch(wrong.stdout, /needs? fixing/);
    });

    await t.step("with the key the same file is stored", async () => {
      const again = await runCli([file, "--url", url, "--api-key", "k-123"]);
      assert.equal(again.code, 0, again.stderr);
      const [{ count }] = await sql`select count(*)::int as count from executions`;
      assert.equal(count, 1);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await sql.end();
    await close();
  }
});

Deno.test("a URL where nothing listens ends at once, without retries, with exit code 3, a hint about --url, and every row NOT_SENT", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/runs.ndjson`;
    await Deno.writeTextFile(
      file,
      [execution(1), execution(2)].map((row) => JSON.stringify(row)).join("\n"),
    );
    const run = await runCli([
      file,
      "--url",
      `http://127.0.0.1:${freePort()}`,
      "--failures",
      `${dir}/failed.ndjson`,
    ]);
    assert.equal(run.code, 3);
    // Before: "fetch failed", then 5 retries over about 12 s.
    assert.doesNotMatch(run.stderr, /retry/);
    assert.match(
      run.stderr,
      /error: Cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/executions\/batch: connection refused \(is the service running there\?\); check --url \(or EXECUTION_INGEST_URL\)\n/,
    );
    assert.deepEqual(summaryOf(run.stdout).NOT_SENT, 2);
    const failed = await readNdjson(`${dir}/failed.ndjson`);
    assert.deepEqual(failed.map((row) => (row._error as { index: number }).index), [0, 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing file or a bad option is exit code 2 with a message saying what to do", async () => {
  const missing = await runCli(["/nonexistent/runs.csv"]);
  assert.equal(missing.code, 2);
  assert.equal(
    missing.stderr,
    'error: Cannot read "/nonexistent/runs.csv": no such file or folder\n',
  );
  const usage = await runCli(["runs.csv", "--batch-size", "0"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--batch-size must be an integer from 1 to 10000.*\nRun with --help/);
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.equal(help.stdout, HELP);
});
