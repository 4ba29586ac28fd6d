// The live settings: each consumer's view of the tunables in force, what a reload changes, and who
// is told of it; and the options each part is given from the configuration.
import assert from "node:assert/strict";
import { loadConfig, type Tunables } from "../src/config.ts";
import { batchLimits, createLiveSettings, databaseOptions } from "../src/settings.ts";

const config = loadConfig({ BATCH_CHUNK_SIZE: "400", BATCH_CHUNK_CONCURRENCY: "4" });

Deno.test("the ingest use case's getter reads the chunk size in force, its concurrency bounded by the pool", () => {
  const settings = createLiveSettings(config);
  const ingest = settings.ingest(10);
  assert.deepEqual(ingest(), { chunkSize: 400, chunkConcurrency: 4, failuresKept: 1000 });
  settings.replace({ ...settings.tunables, BATCH_CHUNK_SIZE: 100 });
  assert.deepEqual(
    ingest(),
    { chunkSize: 100, chunkConcurrency: 4, failuresKept: 1000 },
    "the same getter, new value",
  );
  // A pool of one connection (the embedded database) stores one chunk at a time.
  assert.equal(settings.ingest(1)().chunkConcurrency, 1);
});

Deno.test("a replace tells every listener the new tunables and returns only what changed", () => {
  const settings = createLiveSettings(config);
  const heard: Tunables[] = [];
  settings.onChange((next) => heard.push(next));
  const next = { ...settings.tunables, PUBLISH_CONCURRENCY: 8, LOG_LEVEL: "warn" as const };
  assert.deepEqual(settings.replace(next), { PUBLISH_CONCURRENCY: 8, LOG_LEVEL: "warn" });
  assert.deepEqual(heard, [next]);
  assert.equal(settings.publishing().publisher.concurrency, 8);
  assert.deepEqual(settings.replace(next), {}, "nothing changed the second time");
});

Deno.test("each part gets its own options from the configuration", () => {
  const parsed = loadConfig({
    DATABASE_URL: "postgres://db/app",
    DB_POOL_MAX: "3",
    BATCH_MAX_ITEMS: "50",
  });
  const database = databaseOptions(parsed);
  assert.equal(database.url, "postgres://db/app");
  assert.equal(database.pool.poolMax, 3);
  assert.deepEqual(batchLimits(parsed), {
    maxItems: 50,
    maxBytes: 16_777_216,
    readTimeoutMs: 30_000,
    maxValues: 500_000,
  });
});
