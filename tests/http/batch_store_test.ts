// POST /v1/executions/batch against the real PostgreSQL: verdicts, idempotency, chunking, isolation, concurrency.
import assert from "node:assert/strict";
import { execution, executions, postBatch, sqlFor, startTestService } from "../_helpers.ts";

Deno.test("POST /v1/executions/batch returns 207 with the index and code of each invalid item, storing the rest", async (t) => {
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    const items = executions(1000);
    items[3] = execution(3, { status: "GREEN" });
    items[500] = execution(500, { startedAt: "yesterday" });
    items[999] = execution(999, { testCaseKey: "" });
    const response = await postBatch(url, items);
    assert.equal(response.status, 207);
    assert.match(response.headers.get("content-type") ?? "", /application\/json/);
    const body = await response.json();
    assert.equal(body.total, 1000);
    assert.equal(body.created, 997);
    assert.equal(body.failed, 3);
    assert.equal(body.items.length, 1000);
    const failed = body.items.filter((item: { status: string }) => item.status === "failed");
    assert.deepEqual(failed.map((item: { index: number }) => item.index), [3, 500, 999]);
    assert.deepEqual(failed.map((item: { error: { code: string } }) => item.error.code), [
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
    ]);
    assert.deepEqual(
      failed.map((item: { error: { details: { path: string }[] } }) => item.error.details[0].path),
      [
        "status",
        "startedAt",
        "testCaseKey",
      ],
    );
    assert.equal(failed[0].id, items[3].id, "a failed item still echoes the id it was sent with");
    const [{ count }] = await sql`select count(*)::int as count from executions`;
    assert.equal(count, 997);
    const [{ chunks, events }] = await sql`
      select count(*)::int as chunks, sum(cardinality(execution_ids))::int as events
      from outbox_chunks`;
    assert.equal(events, 997, "every stored execution has its pending event");
    assert.equal(chunks, 2, "one outbox row per insert statement, not one per event");
    const [{ objects }] = await sql`
      select count(*)::int as objects from executions where jsonb_typeof(attributes) = 'object'`;
    assert.equal(objects, 997, "attributes are stored as JSON objects, not JSON strings");

    await t.step(
      "GET /v1/executions/{id} returns the stored execution as it was sent",
      async () => {
        const response = await fetch(`${url}/v1/executions/${items[1].id}`);
        assert.equal(response.status, 200);
        assert.match(response.headers.get("content-type") ?? "", /application\/json/);
        const stored = await response.json();
        const { createdAt, batchId, ...rest } = stored;
        assert.equal(batchId, body.batchId);
        assert.ok(!Number.isNaN(Date.parse(createdAt)));
        assert.deepEqual(rest, items[1]);
      },
    );

    await t.step(
      "the same batch again is 200 with every valid item a duplicate and nothing stored twice",
      async () => {
        const valid = items.filter((_, i) => ![3, 500, 999].includes(i));
        const again = await postBatch(url, valid);
        assert.equal(again.status, 200);
        const body = await again.json();
        assert.equal(body.duplicates, 997);
        assert.equal(body.created, 0);
        assert.ok(body.items.every((item: { status: string }) => item.status === "duplicate"));
        const [{ count }] = await sql`select count(*)::int as count from executions`;
        assert.equal(count, 997);
      },
    );

    await t.step("an id already stored with other content fails with ID_CONFLICT", async () => {
      const changed = { ...items[0], comment: "something else" };
      const response = await postBatch(url, [changed, execution(2000)]);
      assert.equal(response.status, 207);
      const body = await response.json();
      assert.equal(body.items[0].status, "failed");
      assert.equal(body.items[0].error.code, "ID_CONFLICT");
      assert.equal(body.items[1].status, "created");
    });

    await t.step(
      "items without an id get a server-assigned UUIDv7 that the verdict reports",
      async () => {
        const { id: _id, ...noId } = execution(3000);
        const response = await postBatch(url, [noId]);
        assert.equal(response.status, 200);
        const body = await response.json();
        assert.match(
          body.items[0].id,
          /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        );
        const stored = await fetch(`${url}/v1/executions/${body.items[0].id}`);
        assert.equal(stored.status, 200);
        assert.equal((await stored.json()).testCaseKey, noId.testCaseKey);
        const batch = await fetch(`${url}/v1/batches/${body.batchId}`);
        assert.equal(batch.status, 200);
        const counts = await batch.json();
        assert.deepEqual([counts.total, counts.created, counts.duplicates, counts.failed], [
          1,
          1,
          0,
          0,
        ]);
        assert.deepEqual(counts.events, { published: 0, pending: 1, failed: 0 });
      },
    );
  } finally {
    await sql.end();
    await close();
  }
});

Deno.test("a 10,000-item batch is stored with exactly ceil(10000 / BATCH_CHUNK_SIZE) insert statements", async () => {
  for (const chunkSize of [500, 1500]) {
    let inserts = 0;
    const { url, config, close } = await startTestService({ BATCH_CHUNK_SIZE: String(chunkSize) }, {
      onQuery: (query) => {
        if (/insert into executions/i.test(query)) inserts++;
      },
    });
    const sql = sqlFor(config.DB_SCHEMA);
    try {
      const response = await postBatch(url, executions(10_000));
      assert.equal(response.status, 200);
      assert.equal((await response.json()).created, 10_000);
      assert.equal(inserts, Math.ceil(10_000 / chunkSize));
      const [{ count }] = await sql`select count(*)::int as count from executions`;
      assert.equal(count, 10_000);
    } finally {
      await sql.end();
      await close();
    }
  }
});

Deno.test("a chunk holding one item the database rejects still stores the chunk's other items", async () => {
  const { url, config, close } = await startTestService({ BATCH_CHUNK_SIZE: "100" });
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    // A rule only the database knows (an operator's trigger): validation cannot foresee it.
    await sql.unsafe(`
      create function refuse_poison() returns trigger language plpgsql as $$
      begin
        if new.test_case_key = 'POISON' then raise exception 'poison test case'; end if;
        return new;
      end $$;
      create trigger refuse_poison before insert on executions for each row execute function refuse_poison();`);
    const items = executions(250);
    items[137] = execution(137, { testCaseKey: "POISON" });
    const response = await postBatch(url, items);
    assert.equal(response.status, 207);
    const body = await response.json();
    assert.equal(body.created, 249);
    assert.equal(body.failed, 1);
    assert.equal(body.items[137].status, "failed");
    assert.equal(body.items[137].error.code, "STORAGE_FAILED");
    assert.match(body.items[137].error.message, /database rule refused it \(SQLSTATE P0001\)/);
    assert.doesNotMatch(body.items[137].error.message, /insert|select|poison test case/i);
    const [{ count }] = await sql`select count(*)::int as count from executions`;
    assert.equal(count, 249);
  } finally {
    await sql.end();
    await close();
  }
});

Deno.test("50 concurrent 1,000-item batches with overlapping ids in opposite orders all succeed without deadlock", async () => {
  // One chunk per batch, so a batch's rows go in one transaction.
  const { url, config, close } = await startTestService({
    DB_POOL_MAX: "10",
    BATCH_CHUNK_SIZE: "1000",
  });
  const sql = sqlFor(config.DB_SCHEMA);
  // 25 pairs of batches: each pair holds the same 1,000 new ids, one of them in reverse, so its
  // two transactions meet the same ids in opposite orders.
  const batches = Array.from({ length: 25 }, () => executions(1000))
    .flatMap((items) => [items, items.toReversed()]);
  try {
    const responses = await Promise.all(batches.map((items) => postBatch(url, items)));
    const statuses = responses.map((response) => response.status);
    const bodies = await Promise.all(responses.map((response) => response.json()));
    assert.deepEqual(
      statuses,
      batches.map(() => 200),
      JSON.stringify(bodies.find((b) => !b.items)),
    );
    const sum = (field: string) => bodies.reduce((total, body) => total + body[field], 0);
    assert.equal(sum("created"), 25_000, "each id stored once");
    assert.equal(sum("duplicates"), 25_000, "the other copy a duplicate");
    assert.equal(sum("failed"), 0);
    const [{ count }] = await sql`select count(*)::int as count from executions`;
    assert.equal(count, 25_000);
  } finally {
    await sql.end();
    await close();
  }
});
