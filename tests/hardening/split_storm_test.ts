// Case 3 of the hardening corpus: items the real database refuses (a rule an operator added) cost a
// bounded number of statements per request, while a lone culprit is still isolated exactly.
import assert from "node:assert/strict";
import { MAX_SPLIT_STATEMENTS } from "../../src/domain/ingest.ts";
import { execution, postBatch, sqlFor, startTestService } from "../_helpers.ts";

/** The service with a check constraint refusing test case keys that start with BAD. */
async function startWithRule() {
  const inserts: string[] = [];
  const started = await startTestService({ BATCH_MAX_BYTES: String(16 * 1024 * 1024) }, {
    onQuery: (query) => void (/insert into executions/.test(query) && inserts.push(query)),
  });
  const sql = sqlFor(started.config.DB_SCHEMA);
  await sql`alter table executions add constraint no_bad check (test_case_key not like 'BAD%')`;
  await sql.end();
  return { ...started, inserts };
}

Deno.test("10,000 items the database refuses cost at most chunks + MAX_SPLIT_STATEMENTS inserts, each item STORAGE_FAILED", async () => {
  const { url, inserts, close } = await startWithRule();
  try {
    const items = Array.from(
      { length: 10_000 },
      (_, i) => execution(i, { testCaseKey: `BAD-${i}` }),
    );
    const began = performance.now();
    const response = await postBatch(url, items);
    const ms = performance.now() - began;
    assert.equal(response.status, 422);
    const body = await response.json();
    assert.equal(body.error.code, "ITEMS_REJECTED");
    assert.equal(body.failed, 10_000);
    assert.ok(
      body.items.every((item: { error: { code: string } }) => item.error.code === "STORAGE_FAILED"),
    );
    assert.match(body.items[9_999].error.message, /refused the group of 500 executions/);
    assert.match(body.items[9_999].error.message, /a check constraint was violated/);
    // 20 chunks of 500, plus the split budget: was 19,980 statements (every chunk bisected whole).
    assert.ok(
      inserts.length <= 20 + MAX_SPLIT_STATEMENTS,
      `${inserts.length} insert statements for one request`,
    );
    console.log(`10,000 refused items: ${inserts.length} insert statements, ${Math.round(ms)} ms`);
  } finally {
    await close();
  }
});

Deno.test("one refused item among 1,000 is still isolated: it alone fails, the rest is stored", async () => {
  const { url, inserts, close } = await startWithRule();
  try {
    const items = Array.from({ length: 1000 }, (_, i) => execution(i));
    items[613] = execution(613, { testCaseKey: "BAD-613" });
    const response = await postBatch(url, items);
    assert.equal(response.status, 207);
    const body = await response.json();
    assert.deepEqual([body.created, body.failed], [999, 1]);
    assert.equal(body.items[613].error.code, "STORAGE_FAILED");
    assert.doesNotMatch(body.items[613].error.message, /group/);
    assert.ok(inserts.length <= 2 + 2 * 9, `${inserts.length} insert statements`);
  } finally {
    await close();
  }
});
