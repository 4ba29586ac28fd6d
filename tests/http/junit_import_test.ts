// POST /v1/imports/junit against the real service and PostgreSQL: answers, idempotent re-uploads,
// refused XML and the batch limits.
import assert from "node:assert/strict";
import { createIdAssigner, idScope, withDerivedId } from "../../src/domain/execution_id.ts";
import { junitToExecutions } from "../../src/domain/junit.ts";
import { importExamples } from "../../src/http/import_schemas.ts";
import { pendingEvents, postReport, sqlFor, startTestService } from "../_helpers.ts";

async function expectError(response: Response, status: number, code: string, message: RegExp) {
  assert.equal(response.status, status);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  const body = await response.json();
  assert.equal(body.error.code, code);
  assert.match(body.error.message, message);
}

const bigReport = (n: number) =>
  `<testsuites><testsuite name="Big" timestamp="2026-11-28T10:00:00Z">${
    Array.from({ length: n }, (_, i) => `<testcase classname="Big" name="case${i}" time="0.01"/>`)
      .join("\n")
  }</testsuite></testsuites>`;

Deno.test("POST /v1/imports/junit stores a report once: posted again, every item is a duplicate", async (t) => {
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    const first = await postReport(url, importExamples.report, "?environment=staging");
    assert.equal(first.status, 200);
    assert.match(first.headers.get("content-type") ?? "", /^application\/json/);
    const body = await first.json();
    assert.deepEqual(
      { ...body, batchId: importExamples.created.batchId },
      importExamples.created,
      "the documented example is the real answer, ids included",
    );
    const [stored] = await sql`
      select test_case_key, status, started_at, duration_ms, environment, comment, attributes
      from executions where id = ${body.items[1].id}`;
    assert.deepEqual(
      { ...stored, started_at: stored.started_at.toISOString() },
      {
        test_case_key: "LOGIN-002",
        status: "FAILED",
        started_at: "2026-11-28T10:15:02.250Z",
        duration_ms: 500,
        environment: "staging",
        comment: "AssertionError: expected 401 but was 200",
        attributes: { outcome: "failure", suite: "LoginTest" },
      },
    );

    const again = await postReport(url, importExamples.report, "?environment=staging");
    assert.equal(again.status, 200);
    const repeat = await again.json();
    assert.notEqual(repeat.batchId, body.batchId);
    assert.deepEqual({ ...repeat, batchId: importExamples.again.batchId }, importExamples.again);
    const [{ count }] = await sql`select count(*)::int as count from executions`;
    assert.equal(count, 3);
    assert.equal(await pendingEvents(config.DB_SCHEMA), 3, "no second event either");

    await t.step("another environment is another execution", async () => {
      const other = await (await postReport(url, importExamples.report, "?environment=prod"))
        .json();
      assert.equal(other.created, 3);
      assert.equal(new Set([...other.items, ...body.items].map((item) => item.id)).size, 6);
    });
  } finally {
    await sql.end();
    await close();
  }
});

Deno.test("POST /v1/imports/junit dates reports without timestamps by startedAt, and fails them clearly without it", async () => {
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  const report = `<testsuite name="demo.CalculatorTest" time="0.5">
  <testcase name="adds" classname="demo.CalculatorTest" time="0.25"/>
  <testcase name="subtracts" classname="demo.CalculatorTest" time="0.25"/>
</testsuite>`;
  try {
    const without = await postReport(url, report);
    assert.equal(without.status, 422);
    const refused = await without.json();
    assert.equal(refused.error.code, "VALIDATION_FAILED");
    assert.deepEqual(refused.items[1], {
      index: 1,
      id: null,
      testCaseKey: "demo.CalculatorTest.subtracts",
      status: "failed",
      error: {
        code: "VALIDATION_FAILED",
        message: "Cannot accept execution at index 1: 1 problem (see details)",
        details: [{
          path: "startedAt",
          message:
            "the report gives no timestamp for this testcase or its suite; send the startedAt parameter",
        }],
      },
    });

    const query = "?startedAt=2026-11-28T11:00:00%2B01:00&cycleKey=R-1";
    const dated = await (await postReport(url, report, query, "text/xml; charset=utf-8")).json();
    assert.equal(dated.created, 2);
    const rows = await sql`
      select started_at, finished_at, cycle_key from executions order by started_at`;
    assert.deepEqual(rows.map((row) => [row.started_at.toISOString(), row.cycle_key]), [
      ["2026-11-28T10:00:00.000Z", "R-1"],
      ["2026-11-28T10:00:00.250Z", "R-1"],
    ]);
    const again = await (await postReport(url, report, query)).json();
    assert.deepEqual([again.created, again.duplicates], [0, 2]);
  } finally {
    await sql.end();
    await close();
  }
});

Deno.test("POST /v1/imports/junit with 10,000 testcases stores them all, and a re-upload stores none", async () => {
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    const report = bigReport(10_000);
    const first = await (await postReport(url, report)).json();
    assert.deepEqual([first.total, first.created, first.duplicates, first.failed], [
      10_000,
      10_000,
      0,
      0,
    ]);
    const again = await postReport(url, report);
    assert.equal(again.status, 200);
    const second = await again.json();
    assert.deepEqual([second.total, second.created, second.duplicates, second.failed], [
      10_000,
      0,
      10_000,
      0,
    ]);
    assert.deepEqual(
      second.items.map((item: { id: string }) => item.id),
      first.items.map((item: { id: string }) => item.id),
    );
    const [{ count }] = await sql`select count(*)::int as count from executions`;
    assert.equal(count, 10_000);
    assert.equal(await pendingEvents(config.DB_SCHEMA), 10_000);
  } finally {
    await sql.end();
    await close();
  }
});

Deno.test("POST /v1/imports/junit refuses unsafe or malformed XML, wrong types and parameters, and reports over the batch limits", async () => {
  const { url, config, close } = await startTestService({
    BATCH_MAX_ITEMS: "5",
    BATCH_MAX_BYTES: "4096",
  });
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    const laughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<testsuite><testcase name="&lol2;"/></testsuite>`;
    await expectError(
      await postReport(url, laughs),
      400,
      "INVALID_BODY",
      /DOCTYPE declaration is not allowed \(line 2, column 1\)/,
    );
    await expectError(
      await postReport(url, `<testsuite>\n  <testcase name="a">\n</testsuite>`),
      400,
      "INVALID_BODY",
      /^Cannot read the XML: unexpected close tag, expected <\/testcase> \(line 3, column 12\)$/,
    );
    await expectError(await postReport(url, `<testsuite/>`), 400, "INVALID_BODY", /no <testcase>/);
    await expectError(
      await postReport(url, bigReport(1), "", "application/json"),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      /send application\/xml or text\/xml/,
    );
    await expectError(
      await postReport(url, bigReport(1), "?startedAt=yesterday"),
      400,
      "INVALID_PARAMETER",
      /^Cannot use the query parameter "startedAt": must be an RFC 3339 timestamp/,
    );
    await expectError(
      await postReport(url, bigReport(1), "?cycle=1"),
      400,
      "INVALID_PARAMETER",
      /"cycle": it is not one of cycleKey, environment, startedAt/,
    );
    await expectError(
      await postReport(url, bigReport(1), "?cycleKey=a&cycleKey=b"),
      400,
      "INVALID_PARAMETER",
      /"cycleKey" 2 times/,
    );
    await expectError(
      await postReport(url, bigReport(6)),
      413,
      "TOO_MANY_ITEMS",
      /more than 5 testcases/,
    );
    await expectError(
      await postReport(url, bigReport(100)),
      413,
      "PAYLOAD_TOO_LARGE",
      /over 4096 bytes/,
    );
    const ok = await postReport(url, bigReport(5));
    assert.equal(ok.status, 200, "five is within the limits");
    await ok.body?.cancel();
    const [{ count }] = await sql`select count(*)::int as count from executions`;
    assert.equal(count, 5, "only the report within the limits stored anything");
  } finally {
    await sql.end();
    await close();
  }
});

Deno.test("POST /v1/imports/junit answers 207 with each testCaseKey when only some testcases can be stored, and needs the API key", async () => {
  const { url, close } = await startTestService({ API_KEYS: "import-key" });
  try {
    const unauthorized = await postReport(url, importExamples.report);
    await expectError(unauthorized, 401, "UNAUTHORIZED", /API key/);
    const report = `<testsuite timestamp="2026-11-28T10:00:00Z">
  <testcase classname="T" name="ok" time="1"/>
  <testcase classname="T" name="${"k".repeat(300)}" time="1"/>
</testsuite>`;
    const response = await fetch(`${url}/v1/imports/junit`, {
      method: "POST",
      headers: { "content-type": "application/xml", authorization: "Bearer import-key" },
      body: report,
    });
    assert.equal(response.status, 207);
    const body = await response.json();
    assert.deepEqual(
      body.items.map((
        item: { testCaseKey: string; status: string },
      ) => [item.testCaseKey.slice(0, 6), item.status]),
      [
        ["T.ok", "created"],
        ["T.kkkk", "failed"],
      ],
    );
    assert.deepEqual(body.items[1].error.details, [
      { path: "testCaseKey", message: "must be at most 255 characters" },
    ]);
  } finally {
    await close();
  }
});

Deno.test("POST /v1/imports/junit refuses a testcase whose time is past the largest durationMs as its own item, never as a 500", async () => {
  const { url, close } = await startTestService();
  try {
    const response = await postReport(
      url,
      `<testsuite timestamp="2026-11-28T10:00:00Z">
  <testcase classname="T" name="huge" time="9e15"/>
  <testcase classname="T" name="after" time="1"/>
</testsuite>`,
    );
    assert.equal(response.status, 207);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    const body = await response.json();
    assert.deepEqual(
      body.items.map((item: { status: string; error?: { code: string } }) => [
        item.status,
        item.error?.code,
      ]),
      [["failed", "VALIDATION_FAILED"], ["created", undefined]],
    );
    assert.deepEqual(body.items[0].error.details, [
      { path: "durationMs", message: 'the testcase time "9e15" is over 2147483.647 seconds' },
    ]);
  } finally {
    await close();
  }
});

Deno.test("POST /v1/imports/junit stores a timestamp in years 0001 to 0099 as sent, not in the 1900s", async () => {
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    const response = await postReport(
      url,
      `<testsuite timestamp="0050-06-01T00:00:00Z"><testcase classname="T" name="old" time="1"/></testsuite>`,
    );
    assert.equal(response.status, 200);
    const body = await response.json();
    const [stored] = await sql`
      select to_char(started_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') as started
      from executions where id = ${body.items[0].id}`;
    assert.equal(stored.started, "0050-06-01 00:00:00");
  } finally {
    await sql.end();
    await close();
  }
});

Deno.test("POST /v1/imports/junit stores a testcase the report repeats word for word as two executions, and a re-upload as two duplicates", async () => {
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  const report = `<testsuite timestamp="2026-11-28T10:00:00Z">
  <testcase classname="T" name="flaky" time="0"/>
  <testcase classname="T" name="flaky" time="0"/>
</testsuite>`;
  try {
    const first = await postReport(url, report);
    assert.equal(first.status, 200);
    const body = await first.json();
    assert.deepEqual([body.created, body.duplicates, body.failed], [2, 0, 0]);
    const [a, b] = body.items.map((item: { id: string }) => item.id);
    assert.notEqual(a, b);
    assert.deepEqual(
      (await sql`select id from executions order by id`).map((row) => row.id),
      [a, b].sort(),
    );

    const again = await (await postReport(url, report)).json();
    assert.deepEqual([again.created, again.duplicates, again.failed], [0, 2, 0]);
    assert.deepEqual(again.items.map((item: { id: string }) => item.id), [a, b]);
  } finally {
    await sql.end();
    await close();
  }
});

Deno.test("POST /v1/imports/junit derives ids no other key can foresee: key B storing the public-rule ids first does not block key A, and A's re-upload is all duplicates", async () => {
  const { url, config, close } = await startTestService({ API_KEYS: "key-a,key-b" });
  const sql = sqlFor(config.DB_SCHEMA);
  const report = `<testsuite name="Login" timestamp="2026-11-28T10:00:00Z">
  <testcase classname="Login" name="ok" time="1"/><testcase classname="Login" name="ok" time="1"/>
</testsuite>`;
  const post = (key: string) =>
    fetch(`${url}/v1/imports/junit`, {
      method: "POST",
      headers: { "content-type": "application/xml", authorization: `Bearer ${key}` },
      body: report,
    });
  const idsOf = (body: { items: Array<{ id: string }> }) => body.items.map((item) => item.id);
  try {
    // What anyone can compute from the report: the ids the public rule gives without a key.
    const publicIds = junitToExecutions(report).cases.map((item) =>
      withDerivedId(item.execution!, createIdAssigner()).id as string
    );
    const squat = await fetch(`${url}/v1/executions/batch`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer key-b" },
      body: JSON.stringify({
        executions: publicIds.map((id) => ({
          id,
          testCaseKey: "Login.ok",
          status: "FAILED",
          startedAt: "2026-11-28T10:00:00Z",
          comment: "taken by key B",
        })),
      }),
    });
    assert.equal(squat.status, 200);
    await squat.body?.cancel();
    const first = await post("key-a");
    assert.equal(first.status, 200);
    const byA = await first.json();
    assert.deepEqual([byA.created, byA.duplicates, byA.failed], [2, 0, 0]);
    const scope = idScope("key-a");
    const assign = createIdAssigner(scope);
    assert.deepEqual(
      idsOf(byA),
      junitToExecutions(report).cases.map((item) => withDerivedId(item.execution!, assign).id),
      "the documented rule, scoped by key A",
    );

    const again = await (await post("key-a")).json();
    assert.deepEqual([again.created, again.duplicates, again.failed], [0, 2, 0]);
    assert.deepEqual(idsOf(again), idsOf(byA));

    const byB = await (await post("key-b")).json();
    assert.deepEqual([byB.created, byB.failed], [2, 0], "B's own import has B's own ids");
    assert.equal(new Set([...idsOf(byA), ...idsOf(byB), ...publicIds]).size, 6);
    const [{ count }] = await sql`select count(*)::int as count from executions`;
    assert.equal(count, 6);
  } finally {
    await sql.end();
    await close();
  }
});
