// The chunked outbox on the real PostgreSQL: claims, leases, settling, hand-backs, dead letters and
// the migration that carried the per-event outbox over.
import assert from "node:assert/strict";
import { createDb } from "../../src/db/client.ts";
import { createExecutionStore } from "../../src/db/execution_store.ts";
import { migrate, readMigrations } from "../../src/db/migrate.ts";
import { createOutboxStore } from "../../src/db/outbox_store.ts";
import { toEventMessage } from "../../src/publish/event.ts";
import { DATABASE_URL, dropSchema, execution, recordOf, uniqueName } from "../_helpers.ts";

async function withStore(
  test: (ctx: Awaited<ReturnType<typeof open>>) => Promise<void>,
): Promise<void> {
  const ctx = await open();
  try {
    await test(ctx);
  } finally {
    await ctx.db.close();
    await dropSchema(ctx.schema);
  }
}

async function open() {
  const schema = uniqueName("t");
  const db = createDb({ url: DATABASE_URL, schema, poolMax: 2 });
  await db.sql`select 1`;
  await migrate(db.sql, schema);
  // Due at once: these tests claim what they store (the service leases it to itself first).
  const store = createExecutionStore(db, { leaseMs: 0 });
  const outbox = createOutboxStore(db);
  /** Stores `n` executions as one chunk; returns its outbox id and execution ids. */
  async function storeChunk(n: number) {
    const records = Array.from({ length: n }, (_, i) => recordOf(execution(i)));
    const { outboxId, skipped } = await store.repository.insertChunk(
      crypto.randomUUID(),
      records,
    );
    assert.deepEqual(skipped, []);
    return { id: outboxId!, ids: records.map((record) => record.id) };
  }
  return { schema, db, outbox, port: outbox.port, storeChunk };
}

Deno.test("an insert statement adds one outbox chunk listing exactly the rows it stored, leased to the service", async () => {
  await withStore(async ({ db, port, storeChunk }) => {
    const { id, ids } = await storeChunk(300);
    const [row] = await db.sql`select execution_ids from outbox_chunks where id = ${id}`;
    assert.deepEqual([...row.execution_ids].sort(), [...ids].sort());
    const leased = createExecutionStore(db, { leaseMs: 60_000 });
    const other = await leased.repository.insertChunk(crypto.randomUUID(), [
      recordOf(execution(1)),
    ]);
    assert.ok(other.createdAt, "the chunk's creation time comes back");
    const due = await port.claimDue(10_000, 60_000, []);
    assert.deepEqual(due.map((chunk) => chunk.id), [id], "the leased chunk is not due");
  });
});

Deno.test("claimDue takes due chunks in order up to the room asked for, leases them, and skips held ones", async () => {
  await withStore(async ({ port, storeChunk }) => {
    const a = await storeChunk(100), b = await storeChunk(100), c = await storeChunk(100);
    const d = await storeChunk(100);
    // 150 events of room: a (100) fits, b starts below 150 and is taken whole, c is left.
    const first = await port.claimDue(150, 60_000, []);
    assert.deepEqual(first.map((chunk) => chunk.id), [a.id, b.id]);
    assert.deepEqual(first[0].executions.map((e) => e.id).sort(), [...a.ids].sort());
    assert.deepEqual(first[0].unreadable, []);
    // Leased: a second claim does not get them again; a held chunk is skipped too.
    const second = await port.claimDue(1000, 60_000, [c.id]);
    assert.deepEqual(second.map((chunk) => chunk.id), [d.id]);
    assert.deepEqual(await port.claimDue(1000, 60_000, [c.id]), []);
  });
});

Deno.test("renewed leases keep chunks from coming due; once a lease runs out anyone may claim them", async () => {
  await withStore(async ({ db, port, storeChunk }) => {
    const a = await storeChunk(10);
    assert.equal((await port.claimDue(100, 200, [])).length, 1);
    await port.renewLeases([a.id], 60_000);
    await db.sql`select pg_sleep(0.3)`;
    assert.deepEqual(await port.claimDue(100, 200, []), [], "renewed for a minute");
    await port.renewLeases([a.id], 0);
    assert.deepEqual((await port.claimDue(100, 200, [])).map((chunk) => chunk.id), [a.id]);
  });
});

Deno.test("settle forgets published chunks and keeps their dead letters, in one transaction", async () => {
  await withStore(async ({ db, port, outbox, storeChunk }) => {
    const a = await storeChunk(5), b = await storeChunk(5);
    await port.settle([
      { id: a.id, deadLetters: [] },
      {
        id: b.id,
        deadLetters: [{
          executionId: b.ids[2],
          batchId: crypto.randomUUID(),
          attempts: 4,
          reason: "too large",
        }],
      },
    ]);
    const [{ count }] = await db.sql`select count(*)::int as count from outbox_chunks`;
    assert.equal(count, 0);
    const letters = await outbox.listDeadLetters(10);
    assert.equal(letters.length, 1);
    assert.equal(letters[0].executionId, b.ids[2]);
    assert.equal(letters[0].attempts, 4);
    assert.equal(letters[0].lastError, "too large");
    assert.deepEqual(await outbox.stats().then((s) => [s.pending, s.failed]), [0, 1]);
  });
});

Deno.test("release hands chunks back after a delay; a part-sent chunk keeps only its pending ids", async () => {
  await withStore(async ({ db, port, outbox, storeChunk }) => {
    const a = await storeChunk(4), b = await storeChunk(4);
    await port.claimDue(100, 60_000, []);
    await port.release([
      { id: a.id, pendingIds: a.ids, deadLetters: [], whole: true },
      {
        id: b.id,
        pendingIds: [b.ids[3]],
        deadLetters: [{
          executionId: b.ids[0],
          batchId: crypto.randomUUID(),
          attempts: 1,
          reason: "bad",
        }],
        whole: false,
      },
    ], 0);
    const rows = await db.sql`select id, execution_ids, releases from outbox_chunks order by id`;
    assert.deepEqual(rows.map((r) => [r.id, [...r.execution_ids].sort(), r.releases]), [
      [a.id, [...a.ids].sort(), 1],
      [b.id, [b.ids[3]], 1],
    ]);
    assert.deepEqual(await outbox.stats().then((s) => [s.pending, s.failed]), [5, 1]);
    const due = await port.claimDue(100, 60_000, []);
    assert.deepEqual(due.map((chunk) => chunk.executions.length), [4, 1], "due at once again");
  });
});

Deno.test("an outbox id whose execution row is gone comes back as unreadable, beside the readable ones", async () => {
  await withStore(async ({ db, port, storeChunk }) => {
    const a = await storeChunk(3);
    await db.sql`delete from executions where id = ${a.ids[1]}`;
    const [claimed] = await port.claimDue(100, 60_000, []);
    assert.equal(claimed.executions.length, 2);
    assert.deepEqual(claimed.unreadable.map((u) => [u.id, u.reason]), [
      [a.ids[1], "its execution row no longer exists"],
    ]);
  });
});

Deno.test("requeue turns dead letters back into chunks of at most 500, due at once", async () => {
  await withStore(async ({ port, outbox, storeChunk }) => {
    const a = await storeChunk(600);
    await port.settle([{
      id: a.id,
      deadLetters: a.ids.map((id) => ({
        executionId: id,
        batchId: "0195f0e2-0000-7000-8000-000000000001",
        attempts: 4,
        reason: "x",
      })),
    }]);
    assert.equal(await outbox.requeue([a.ids[0]]), 1);
    assert.equal(await outbox.requeue(), 599);
    assert.equal(await outbox.requeue(), 0);
    const due = await port.claimDue(10_000, 60_000, []);
    assert.deepEqual(due.map((chunk) => chunk.executions.length).sort((x, y) => x - y), [
      1,
      99,
      500,
    ]);
    assert.deepEqual(await outbox.stats().then((s) => [s.pending, s.failed]), [600, 0]);
  });
});

Deno.test("the migration carries the per-event outbox over: pending rows as chunks, failed rows as dead letters", async () => {
  const schema = uniqueName("t");
  const db = createDb({ url: DATABASE_URL, schema, poolMax: 1 });
  try {
    await db.sql`select 1`;
    const all = await readMigrations();
    await migrate(db.sql, schema, all.filter((m) => m.version < "0003"));
    const batch = crypto.randomUUID();
    const pending = Array.from({ length: 700 }, () => crypto.randomUUID());
    const failed = crypto.randomUUID();
    await db.sql.unsafe(`set search_path to "${schema}"`);
    await db.sql`
      insert into outbox (execution_id, batch_id, available_at)
      select id, ${batch}::uuid, now() from unnest(${pending}::uuid[]) as id`;
    await db.sql`
      insert into outbox (execution_id, batch_id, state, available_at, attempts, last_error)
      values (${failed}, ${batch}, 'failed', now(), 4, 'KafkaJSProtocolError')`;
    assert.deepEqual(
      await migrate(db.sql, schema, all.filter((m) => m.version < "0004")),
      ["0003_outbox_chunks"],
    );
    const chunks = await db.sql`
      select cardinality(execution_ids) as n from outbox_chunks order by n`;
    assert.deepEqual(chunks.map((c) => c.n), [200, 500]);
    const [letter] = await db.sql`select * from dead_letters`;
    assert.equal(letter.execution_id, failed);
    assert.equal(letter.attempts, 4);
    const [{ gone }] = await db.sql`select to_regclass('outbox') is null as gone`;
    assert.equal(gone, true);
  } finally {
    await db.close();
    await dropSchema(schema);
  }
});

Deno.test("each chunk carries its events' estimated size, within a tenth of their encoded JSON, and claims are bounded by it", async () => {
  await withStore(async ({ port, storeChunk }) => {
    const a = await storeChunk(100), b = await storeChunk(100), c = await storeChunk(100);
    const d = await storeChunk(100);
    const [first] = await port.claimDue(100, 60_000, []);
    assert.equal(first.id, a.id);
    const encoded = first.executions.reduce((n, e) => {
      const message = toEventMessage(e, "/execution-ingest");
      const headers = Object.entries(message.headers).join("").length;
      return n + message.key.length + message.value.length + headers;
    }, 0);
    assert.ok(
      Math.abs(first.bytes - encoded) < encoded / 10,
      `estimated ${first.bytes} bytes for ${encoded} encoded`,
    );
    // Room for two chunks and a half in bytes: two are taken, never the third.
    const two = await port.claimDue(10_000, 60_000, [], Math.floor(first.bytes * 2.5));
    assert.deepEqual(two.map((chunk) => chunk.id), [b.id, c.id]);
    // Less room than one chunk: one chunk all the same, so a claim always moves on.
    const one = await port.claimDue(10_000, 60_000, [], 1);
    assert.deepEqual(one.map((chunk) => chunk.id), [d.id]);
  });
});
