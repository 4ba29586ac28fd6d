// Case 2 of the hardening corpus: values PostgreSQL would refuse or alter after validation passed
// are refused by validation, naming the field, before any SQL; the real service and database.
import assert from "node:assert/strict";
import { execution, startTestService } from "../_helpers.ts";

interface Row {
  name: string;
  /** The item as JSON text: some of these values cannot be written by JSON.stringify. */
  json: string;
  path: string;
  message: RegExp;
}

// One valid item, one id: every row below is this text with one value changed.
const OK = JSON.stringify(execution(0, { attributes: { build: 1 } }));
const ok = () => OK;
const LONE = /lone UTF-16 surrogate/;

const ROWS: Row[] = [
  {
    name: "startedAt in year 10000 in UTC",
    json: ok().replace(/"startedAt":"[^"]*"/, '"startedAt":"9999-12-31T23:30:00-01:00"')
      .replace(/"finishedAt":"[^"]*",/, ""),
    path: "startedAt",
    message: /year 9999 or earlier/,
  },
  {
    name: "finishedAt in year 10000 in UTC",
    json: ok().replace(/"finishedAt":"[^"]*"/, '"finishedAt":"9999-12-31T23:59:00-00:30"'),
    path: "finishedAt",
    message: /year 9999 or earlier/,
  },
  ...["testCaseKey", "cycleKey", "environment", "executedBy", "comment"].map((field) => ({
    name: `a lone surrogate in ${field}`,
    json: ok().replace(new RegExp(`"${field}":"`), `"${field}":"\\ud800`),
    path: field,
    message: LONE,
  })),
  {
    name: "a lone surrogate in an attributes value",
    json: ok().replace('"build":1', '"build":"\\udc00"'),
    path: "attributes",
    message: LONE,
  },
  {
    name: "a lone surrogate in an attributes key",
    json: ok().replace('"build":1', '"\\udfff":1'),
    path: "attributes",
    message: LONE,
  },
  {
    name: "1e400 in attributes",
    json: ok().replace('"build":1', '"build":1e400'),
    path: "attributes",
    message: /beyond the range of a double/,
  },
  {
    name: "-1e400 nested in attributes",
    json: ok().replace('"build":1', '"build":{"x":[-1e400]}'),
    path: "attributes",
    message: /beyond the range of a double/,
  },
  {
    name: "1e400 as durationMs",
    json: ok().replace('"durationMs":1500', '"durationMs":1e400'),
    path: "durationMs",
    message: /finite/,
  },
  {
    name: "an attributes key __proto__",
    json: ok().replace('"build":1', '"__proto__":{"polluted":true}'),
    path: "attributes",
    message: /"__proto__"/,
  },
];

Deno.test("values the database would refuse or alter fail validation naming the field, before any SQL", async (t) => {
  const inserts: string[] = [];
  const { url, close } = await startTestService({}, {
    onQuery: (query) => void (/insert into executions/.test(query) && inserts.push(query)),
  });
  const post = (items: string[]) =>
    fetch(`${url}/v1/executions/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"executions":[${items.join(",")}]}`,
    });
  try {
    for (const row of ROWS) {
      await t.step(`${row.name}: VALIDATION_FAILED on ${row.path}, no insert`, async () => {
        assert.notEqual(row.json, OK, "the bad value is in the item");
        inserts.length = 0;
        const response = await post([row.json]);
        assert.equal(response.status, 422);
        assert.match(response.headers.get("content-type") ?? "", /application\/json/);
        const body = await response.json();
        assert.equal(body.error.code, "VALIDATION_FAILED");
        const [verdict] = body.items;
        assert.equal(verdict.error.code, "VALIDATION_FAILED");
        assert.equal(verdict.error.details.length, 1, JSON.stringify(verdict.error.details));
        assert.equal(verdict.error.details[0].path, row.path);
        assert.match(verdict.error.details[0].message, row.message);
        assert.equal(inserts.length, 0, "no SQL was sent for it");
      });
    }

    await t.step("all of them beside one valid item: 207, only the valid one stored", async () => {
      const good = execution(1);
      const response = await post([JSON.stringify(good), ...ROWS.map((row) => row.json)]);
      assert.equal(response.status, 207);
      const body = await response.json();
      assert.deepEqual([body.created, body.failed], [1, ROWS.length]);
      const stored = await (await fetch(`${url}/v1/executions/${good.id}`)).json();
      assert.equal(stored.testCaseKey, good.testCaseKey);
    });
  } finally {
    await close();
  }
});
