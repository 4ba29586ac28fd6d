// A batch's record on the real database: always kept (what PostgreSQL cannot store is escaped, and a
// record whose failed items are refused is kept without them, logged and counted), and bounded (the
// first BATCH_FAILURES_KEPT failed items kept, the rest counted).
import assert from "node:assert/strict";
import { createBatchRetention } from "../../src/db/batch_retention.ts";
import { captureLogs, execution, postBatch, sqlFor, startTestService } from "../_helpers.ts";

Deno.test("a batch whose failed items echo NUL or a lone surrogate is kept, and shows them as \\u escapes", async () => {
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    const items = [
      execution(0),
      { ...execution(1), id: "bad\u0000id" },
      { ...execution(2), "x\u0000y": 1 },
      { ...execution(3), "\ud800": 1 },
    ];
    const answer = await postBatch(url, items);
    assert.equal(answer.status, 207);
    const { batchId, items: verdicts } = await answer.json();
    // The answer echoes what was sent, as JSON can carry it.
    assert.equal(verdicts[1].id, "bad\u0000id");
    assert.equal(verdicts[2].error.details[0].path, "x\u0000y");

    const response = await fetch(`${url}/v1/batches/${batchId}`);
    assert.equal(response.status, 200, "the batch's record is kept");
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    const view = await response.json();
    assert.equal(view.failed, 3);
    assert.equal(view.failuresNotKept, 0);
    const [first, second, third] = view.failures.items;
    assert.equal(first.id, "bad\\u0000id");
    assert.equal(second.details[0].path, "x\\u0000y");
    assert.equal(third.details[0].path, "\\ud800");
    const [{ count }] = await sql`select count(*)::int from batch_failures`;
    assert.equal(count, 3);
  } finally {
    await sql.end();
    await close();
  }
});

Deno.test("a batch keeps its first BATCH_FAILURES_KEPT failed items and counts the rest; the answer still lists every one", async () => {
  const { url, config, close } = await startTestService({ BATCH_FAILURES_KEPT: "5" });
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    const items = [execution(0), ...Array.from({ length: 20 }, () => ({}))];
    const answer = await postBatch(url, items);
    assert.equal(answer.status, 207);
    const body = await answer.json();
    assert.equal(
      body.items.filter((item: { status: string }) => item.status === "failed").length,
      20,
      "the client is told of every failed item",
    );

    const view = await (await fetch(`${url}/v1/batches/${body.batchId}`)).json();
    assert.equal(view.failed, 20);
    assert.equal(view.failuresNotKept, 15);
    assert.deepEqual(view.failures.items.map((item: { index: number }) => item.index), [
      1,
      2,
      3,
      4,
      5,
    ]);
    assert.equal(view.failures.nextAfter, null);
    const [{ count }] = await sql`select count(*)::int from batch_failures`;
    assert.equal(count, 5, "only the first five are stored");
  } finally {
    await sql.end();
    await close();
  }
});

Deno.test("a batch whose failed items the database refuses is kept without them, logged at error and counted", async () => {
  const { logger, lines } = captureLogs("warn");
  const { url, config, close } = await startTestService({}, { logger });
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    // Any failed-item row is refused from now on, as a value PostgreSQL cannot store would be.
    await sql`alter table batch_failures add constraint refuse_all check (false) not valid`;
    const answer = await postBatch(url, [execution(0), {}, {}]);
    assert.equal(answer.status, 207);
    const { batchId } = await answer.json();

    const response = await fetch(`${url}/v1/batches/${batchId}`);
    assert.equal(response.status, 200, "the batch is kept with its counts");
    const view = await response.json();
    assert.equal(view.failed, 2);
    assert.equal(view.failuresNotKept, 2);
    assert.deepEqual(view.failures.items, []);

    const logged = lines.map((line) => JSON.parse(line)).filter((line) => line.batchId === batchId);
    assert.equal(logged.length, 1, lines.join("\n"));
    assert.equal(logged[0].level, "error");
    assert.equal(logged[0].part, "failures");
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /^execution_ingest_batch_record_failures_total\{part="failures"\} 1$/m);
    assert.match(metrics, /^execution_ingest_batch_record_failures_total\{part="batch"\} 0$/m);
  } finally {
    await sql.end();
    await close();
  }
});

Deno.test("batches past BATCH_RETENTION_DAYS are deleted with their failed items; newer ones and every execution stay", async () => {
  const { url, config, service, close } = await startTestService({ BATCH_RETENTION_DAYS: "30" });
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await postBatch(url, [execution(i), {}]);
      assert.equal(answer.status, 207);
      sent.push((await answer.json()).batchId);
    }
    const [old, ...recent] = sent;
    // One batch completed 31 days ago, one 29 days ago.
    await sql`update batches set completed_at = now() - interval '31 days' where id = ${old}`;
    await sql`update batches set completed_at = now() - interval '29 days' where id = ${recent[0]}`;

    assert.equal(await service.sweepBatches(), 1);
    assert.equal((await fetch(`${url}/v1/batches/${old}`)).status, 404);
    for (const id of recent) {
      const response = await fetch(`${url}/v1/batches/${id}`);
      assert.equal(response.status, 200);
      assert.equal((await response.json()).failures.items.length, 1);
    }
    const failures = await sql`select batch_id from batch_failures order by batch_id`;
    assert.deepEqual(failures.map((row) => row.batch_id), [...recent].sort());
    const [{ count }] = await sql`select count(*)::int from executions`;
    assert.equal(count, 3, "the executions themselves stay");
    assert.equal(await service.sweepBatches(), 0, "a second sweep finds nothing");
  } finally {
    await sql.end();
    await close();
  }
});

Deno.test("a retention sweep deletes in steps of its size until nothing past the retention is left", async () => {
  const { url, config, service, close } = await startTestService({ BATCH_RETENTION_DAYS: "0" });
  const sql = sqlFor(config.DB_SCHEMA);
  const statements: string[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const answer = await postBatch(url, [execution(i), {}]);
      assert.equal(answer.status, 207);
      await answer.body?.cancel();
    }
    await sql`update batches set completed_at = now() - interval '8 days'`;
    const { logger } = captureLogs("warn");
    const db = {
      ...service.db,
      run: <T>(work: Parameters<typeof service.db.run<T>>[0]) =>
        service.db.run((tx) => (statements.push("delete"), work(tx))),
    };
    const retention = createBatchRetention(db, { days: 7, step: 2, logger });
    assert.equal(await retention.sweep(), 5);
    assert.equal(statements.length, 3, "2 + 2 + 1");
    const [{ batches }] = await sql`select count(*)::int as batches from batches`;
    const [{ failures }] = await sql`select count(*)::int as failures from batch_failures`;
    assert.deepEqual([batches, failures], [0, 0]);
  } finally {
    await sql.end();
    await close();
  }
});
