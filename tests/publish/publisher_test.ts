// Publisher loops with in-memory fakes behind the ports: outage versus dead letter, isolation, shutdown.
import assert from "node:assert/strict";
import type { StoredExecution } from "../../src/domain/execution.ts";
import type { EventProducer, OutboxPort } from "../../src/domain/ports.ts";
import { createChannel } from "../../src/publish/channel.ts";
import { createPublisher, isBrokerUnavailable } from "../../src/publish/publisher.ts";
import { captureLogs, eventually } from "../_helpers.ts";

function stored(i: number): StoredExecution {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    batchId: "00000000-0000-4000-8000-000000000000",
    testCaseKey: `TC-${i}`,
    status: "PASSED",
    startedAt: "2026-11-28T10:00:00.000Z",
    finishedAt: null,
    durationMs: null,
    cycleKey: null,
    environment: null,
    executedBy: null,
    comment: null,
    attributes: null,
    createdAt: new Date().toISOString(),
  };
}

function fakeOutbox() {
  const calls = { published: [] as string[], failed: [] as string[], released: [] as string[] };
  const outbox: OutboxPort = {
    claimDue: () => Promise.resolve([]),
    markPublished(ids) {
      calls.published.push(...ids);
      return Promise.resolve(ids.length);
    },
    markFailed(ids) {
      calls.failed.push(...ids);
      return Promise.resolve(ids.length);
    },
    release(ids) {
      calls.released.push(...ids);
      return Promise.resolve(ids.length);
    },
  };
  return { outbox, calls };
}

const settings = (attempts = 2) => ({
  concurrency: 1,
  batchMax: 100,
  retry: { attempts, initialDelayMs: 0, multiplier: 2, maxDelayMs: 0, jitter: 0 },
});

class FakeConnectionError extends Error {
  override name = "KafkaJSConnectionError";
}

Deno.test("an event that keeps failing becomes a dead letter while the rest of its batch is published", async () => {
  const channel = createChannel<StoredExecution>({ capacity: 100 });
  const { outbox, calls } = fakeOutbox();
  const sends: number[] = [];
  const producer: EventProducer = {
    send(events) {
      sends.push(events.length);
      if (events.some((event) => event.id === stored(3).id)) {
        return Promise.reject(new Error("record rejected"));
      }
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  const publisher = createPublisher({
    channel,
    producer,
    outbox,
    logger: captureLogs().logger,
    settings,
  });
  publisher.start();
  channel.offer([1, 2, 3, 4, 5].map(stored));
  await eventually(() => calls.failed.length === 1 && calls.published.length === 4, 5000, 5);
  await publisher.stop(1000);
  assert.deepEqual(calls.failed, [stored(3).id]);
  assert.deepEqual(new Set(calls.published), new Set([1, 2, 4, 5].map((i) => stored(i).id)));
  assert.deepEqual(calls.released, []);
  // One batch try, one retry with each event alone (5 sends), one more for the culprit alone.
  assert.deepEqual(sends, [5, 1, 1, 1, 1, 1, 1]);
});

Deno.test("an unreachable broker hands events back to the outbox instead of dead-lettering them", async () => {
  const channel = createChannel<StoredExecution>({ capacity: 100 });
  const { outbox, calls } = fakeOutbox();
  let sends = 0;
  const producer: EventProducer = {
    send() {
      sends++;
      return Promise.reject(new FakeConnectionError("connect ECONNREFUSED"));
    },
    close: () => Promise.resolve(),
  };
  const { logger, lines } = captureLogs();
  const publisher = createPublisher({ channel, producer, outbox, logger, settings });
  publisher.start();
  channel.offer([1, 2, 3].map(stored));
  await eventually(() => calls.released.length === 3, 5000, 5);
  await publisher.stop(1000);
  assert.equal(sends, 3, "the whole batch is retried together: 1 try + 2 retries");
  assert.deepEqual(calls.failed, []);
  assert.equal(publisher.kafkaStatus, "down");
  assert.ok(
    lines.some((line) => line.includes("Kafka is unavailable") && line.includes('"level":"error"')),
  );
});

Deno.test("isBrokerUnavailable tells connection trouble and retriable protocol errors from event errors", () => {
  assert.equal(isBrokerUnavailable(new FakeConnectionError("x")), true);
  assert.equal(isBrokerUnavailable(Object.assign(new Error("leader"), { retriable: true })), true);
  assert.equal(
    isBrokerUnavailable(new Error("wrapped", { cause: new FakeConnectionError("x") })),
    true,
  );
  assert.equal(
    isBrokerUnavailable(Object.assign(new Error("too large"), { retriable: false })),
    false,
  );
  assert.equal(isBrokerUnavailable(new Error("plain")), false);
});

Deno.test("stop publishes what the channel holds before closing the producer", async () => {
  const channel = createChannel<StoredExecution>({ capacity: 1000 });
  const { outbox, calls } = fakeOutbox();
  let closed = false;
  const producer: EventProducer = {
    send: () => Promise.resolve(),
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
  const publisher = createPublisher({
    channel,
    producer,
    outbox,
    logger: captureLogs().logger,
    settings,
  });
  channel.offer(Array.from({ length: 250 }, (_, i) => stored(i)));
  publisher.start();
  await publisher.stop(5000);
  assert.equal(calls.published.length, 250);
  assert.equal(channel.size, 0);
  assert.ok(closed);
});

Deno.test("resize changes the number of publisher loops", async () => {
  const channel = createChannel<StoredExecution>({ capacity: 10 });
  const { outbox } = fakeOutbox();
  const producer: EventProducer = { send: () => Promise.resolve(), close: () => Promise.resolve() };
  const publisher = createPublisher({
    channel,
    producer,
    outbox,
    logger: captureLogs().logger,
    settings,
  });
  publisher.start();
  assert.equal(publisher.loops, 1);
  publisher.resize(4);
  assert.equal(publisher.loops, 4);
  await publisher.stop(1000);
  assert.equal(publisher.loops, 0);
});
