// The memory budget's formula and the start-up refusal it drives.
import assert from "node:assert/strict";
import { loadConfig } from "../src/config.ts";
import {
  budgetProblem,
  DENO_DEPLOY_MEMORY_BYTES,
  heapAboveCapWarning,
  memoryBudget,
  type MemoryConstants,
} from "../src/memory_budget.ts";
import { memoryBounds } from "../src/settings.ts";

const MIB = 2 ** 20;
const ROUND: MemoryConstants = {
  heapBaseBytes: 20 * MIB,
  heapPerBodyByte: 4,
  heapPerHeldByte: 2,
  rssBaseBytes: 100 * MIB,
  rssPerBodyByte: 6,
  headroom: 1.25,
};

Deno.test("the heap budget is base plus k times the bytes in flight, with headroom", () => {
  const budget = memoryBudget({ bodyBytesInFlight: 32 * MIB }, ROUND);
  assert.equal(budget.heapBytes, (20 + 4 * 32) * MIB * 1.25);
  assert.equal(budget.rssBytes, (100 + 6 * 32) * MIB);
  assert.deepEqual(budget.settings, { BATCH_BYTES_IN_FLIGHT: 32 * MIB });
});

Deno.test("the publishing byte bounds count in the worker's heap, and in the HTTP thread's without a worker", () => {
  const bounds = {
    bodyBytesInFlight: 16 * MIB,
    publishingBytes: { CHANNEL_BYTES: 40 * MIB, CLAIM_BYTES: 10 * MIB },
  };
  // HTTP thread 20 + 64 MiB; worker 20 + 2 × 50 = 120 MiB: the worker's is the larger heap.
  assert.equal(memoryBudget(bounds, ROUND).heapBytes, 120 * MIB * 1.25);
  assert.equal(
    memoryBudget({ ...bounds, publishingInWorker: false }, ROUND).heapBytes,
    (20 + 64 + 100) * MIB * 1.25,
  );
  assert.equal(memoryBudget(bounds, ROUND).rssBytes, (100 + 6 * 16 + 100) * MIB);
  assert.deepEqual(memoryBudget(bounds, ROUND).settings, {
    BATCH_BYTES_IN_FLIGHT: 16 * MIB,
    CHANNEL_BYTES: 40 * MIB,
    CLAIM_BYTES: 10 * MIB,
  });
});

Deno.test("bytes the HTTP thread holds beyond the body budget add to its heap", () => {
  const budget = memoryBudget(
    { bodyBytesInFlight: 8 * MIB, httpBytes: { FORM_BYTES: 4 * MIB } },
    ROUND,
  );
  assert.equal(budget.heapBytes, (20 + 32 + 8) * MIB * 1.25);
});

Deno.test("a heap limit below the budget is refused, naming the settings, the limit and the flag to raise", () => {
  const budget = memoryBudget({ bodyBytesInFlight: 32 * MIB }, ROUND);
  assert.equal(
    budgetProblem(budget, { heapLimitBytes: 184 * MIB }),
    "Cannot start: the V8 heap limit (193 MB) is below the 194 MB that " +
      'BATCH_BYTES_IN_FLIGHT=33554432 need (README, "Memory budget"); raise ' +
      "--v8-flags=--max-old-space-size (the limit is it plus the young generation) or lower " +
      "those settings",
  );
  assert.equal(budgetProblem(budget, { heapLimitBytes: budget.heapBytes }), undefined);
});

Deno.test("a platform's memory cap below the resident budget is refused; without a cap only the heap counts", () => {
  const budget = memoryBudget({ bodyBytesInFlight: 80 * MIB }, ROUND);
  const limits = { heapLimitBytes: 4096 * MIB, memoryCapName: "Deno Deploy" };
  assert.match(
    budgetProblem(budget, { ...limits, memoryCapBytes: 512e6 }) ?? "",
    /^Cannot start: Deno Deploy caps memory at 512 MB, below the 609 MB that BATCH_BYTES_IN_FLIGHT=83886080 may reach/,
  );
  assert.equal(budgetProblem(budget, limits), undefined);
});

Deno.test("the default settings' resident budget fits Deno Deploy's 512 MB, publishing included", () => {
  const env = { DATABASE_URL: "postgres://ingest@db:5432/ingest", KAFKA_BROKERS: "k:9092" };
  const budget = memoryBudget(memoryBounds(loadConfig(env)));
  assert.ok(budget.settings.PUBLISH_CHANNEL_MAX_BYTES > 0, "publishing's bounds are counted");
  assert.ok(budget.rssBytes <= DENO_DEPLOY_MEMORY_BYTES, `${budget.rssBytes} bytes`);
});

Deno.test("publishing's byte bounds count only with brokers, and in the HTTP thread with the embedded database", () => {
  const server = "postgres://ingest@db:5432/ingest";
  assert.deepEqual(memoryBounds(loadConfig({ DATABASE_URL: server })).publishingBytes, {});
  const withBrokers = memoryBounds(loadConfig({ DATABASE_URL: server, KAFKA_BROKERS: "k:9092" }));
  assert.deepEqual(Object.keys(withBrokers.publishingBytes ?? {}), [
    "PUBLISH_CHANNEL_MAX_BYTES",
    "OUTBOX_RELAY_MAX_BYTES",
    "PUBLISH_CONCURRENCY×PUBLISH_BATCH_MAX_BYTES",
  ]);
  assert.equal(withBrokers.publishingInWorker, true);
  assert.equal(memoryBounds(loadConfig({ KAFKA_BROKERS: "k:9092" })).publishingInWorker, false);
  assert.equal(
    memoryBounds(loadConfig({ DATABASE_URL: server, PUBLISH_IN_WORKER: "false" }))
      .publishingInWorker,
    false,
  );
});

Deno.test("a heap limit that leaves no room under a memory cap is warned about, naming DENO_V8_FLAGS", () => {
  const cap = { memoryCapBytes: 512e6, memoryCapName: "Deno Deploy" };
  // 512 MB less the 80 MiB the rest of the process takes (100 - 20) leaves 428 MB for the heap.
  assert.equal(heapAboveCapWarning({ heapLimitBytes: 400e6, ...cap }, ROUND), undefined);
  assert.match(
    heapAboveCapWarning({ heapLimitBytes: 4096 * MIB, ...cap }, ROUND) ?? "",
    /^The V8 heap limit \(4295 MB\) is above what fits in Deno Deploy's 512 MB .* Set DENO_V8_FLAGS=--max-old-space-size=160,--max-semi-space-size=8/,
  );
  assert.equal(heapAboveCapWarning({ heapLimitBytes: 4096 * MIB }, ROUND), undefined);
});
