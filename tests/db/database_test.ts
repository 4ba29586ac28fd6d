// openDatabase: a server's pool as configured, the embedded one's pool of one connection without a
// second pool, both migrated and storing; closing frees the embedded folder for the next start.
import assert from "node:assert/strict";
import { openDatabase } from "../../src/db/database.ts";
import { createExecutionStore } from "../../src/db/execution_store.ts";
import {
  captureLogs,
  DATABASE_URL,
  dropSchema,
  execution,
  recordOf,
  uniqueName,
} from "../_helpers.ts";

const POOL = { schema: "public", poolMax: 7, idleTimeoutSeconds: 30, maxLifetimeSeconds: 1800 };

/** Stores one execution through the store and reads it back. */
async function roundTrip(database: Awaited<ReturnType<typeof openDatabase>>) {
  const record = recordOf(execution(1));
  const store = createExecutionStore(database.db);
  await store.repository.insertChunk(crypto.randomUUID(), [record]);
  return (await store.getExecution(record.id))?.testCaseKey;
}

Deno.test("a server's database keeps the configured pool, offers a second pool and is migrated", async () => {
  const schema = uniqueName("t");
  const { logger, lines } = captureLogs("info");
  const database = await openDatabase(
    { url: DATABASE_URL, dataDir: "unused", pool: { ...POOL, schema } },
    logger,
  );
  try {
    assert.equal(database.db.poolMax, 7);
    assert.deepEqual(database.secondPool(2), {
      ...POOL,
      schema,
      url: DATABASE_URL,
      poolMax: 2,
    });
    assert.ok(lines.some((line) => line.includes("Migrations applied")));
    await database.ping();
    assert.equal(await roundTrip(database), "TC-1");
  } finally {
    await database.close(1);
    await dropSchema(schema);
  }
});

Deno.test("the embedded database serves one connection, offers no second pool, and frees its folder on close", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "database_test_" });
  const { logger, lines } = captureLogs("info");
  try {
    const first = await openDatabase({ dataDir, pool: POOL }, logger);
    try {
      assert.equal(first.db.poolMax, 1);
      assert.equal(first.secondPool(2), undefined);
      assert.ok(lines.some((line) => line.includes("using the embedded PostgreSQL")));
      assert.equal(await roundTrip(first), "TC-1");
      // The folder is locked while it is open.
      await assert.rejects(openDatabase({ dataDir, pool: POOL }, logger), /in use by another/);
    } finally {
      await first.close(1);
    }
    const again = await openDatabase({ dataDir, pool: POOL }, logger);
    try {
      await again.ping();
      assert.ok(lines.some((line) => line.includes("Schema is current")));
    } finally {
      await again.close(1);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
