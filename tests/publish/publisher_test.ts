// Publisher loops with in-memory fakes behind the ports: dead letters versus outages, the breaker's
// pause, one send per event, leases of what it holds, and shutdown.
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { PublishError } from "../../src/domain/errors.ts";
import type { StoredExecution } from "../../src/domain/execution.ts";
import type { ClaimedChunk, EventProducer, OutboxPort } from "../../src/domain/ports.ts";
import { createChannel } from "../../src/publish/channel.ts";
import {
  createPublisher,
  type HeldChunk,
  type PublisherSettings,
} from "../../src/publish/publisher.ts";
import { captureLogs, eventually } from "../_helpers.ts";
import { chunk, encode, fakeOutbox, fakeProducer, stored } from "../_fakes/publishing.ts";

function settings(overrides: Partial<PublisherSettings> = {}, attempts = 2): PublisherSettings {
  return {
    concurrency: 1,
    batchMax: 100,
    batchMaxBytes: 16 * 1024 * 1024,
    leaseMs: 3000,
    resilience: {
      retry: { attempts, initialDelayMs: 0, multiplier: 2, maxDelayMs: 0, jitter: 0 },
      breaker: { threshold: 3, halfOpenAfterMs: 1000 },
    },
    ...overrides,
  };
}

function publisherWith(
  producer: EventProducer,
  outbox: OutboxPort,
  options: {
    settings?: PublisherSettings;
    encodeWith?: (e: StoredExecution) => ReturnType<typeof encode>;
    /** The channel's bound in bytes (chunks weigh their `bytes`); none when absent. */
    maxBytes?: number;
  } = {},
) {
  const channel = createChannel<HeldChunk>({
    capacity: 1000,
    weight: (held) => held.events.length,
    ...(options.maxBytes === undefined
      ? {}
      : { maxBytes: options.maxBytes, bytes: (held: HeldChunk) => held.bytes }),
  });
  const logs = captureLogs();
  const publisher = createPublisher({
    channel,
    producer,
    outbox,
    logger: logs.logger,
    settings: () => options.settings ?? settings(),
    encode: options.encodeWith ?? encode,
  });
  return { publisher, channel, lines: logs.lines };
}

const ids = (is: number[]) => is.map((i) => stored(i).id);

Deno.test("an event the broker keeps refusing becomes a dead letter while the rest of its chunk is published", async () => {
  const { outbox, calls } = fakeOutbox();
  const culprit = stored(3).id;
  const kafka = fakeProducer((messages) =>
    messages.some((m) => m.headers.ce_id === culprit) ? "rejected" : undefined
  );
  const { publisher, lines } = publisherWith(kafka.producer, outbox);
  publisher.start();
  await publisher.accept([chunk("c1", [1, 2, 3, 4, 5])]);
  await eventually(() => calls.settled.length === 1, 5000, 5);
  await publisher.stop(1000);
  assert.deepEqual(calls.settled[0].id, "c1");
  assert.deepEqual(calls.settled[0].deadLetters.map((d) => d.executionId), [culprit]);
  assert.equal(calls.settled[0].deadLetters[0].attempts, 3, "1 try + 2 retries");
  assert.match(calls.settled[0].deadLetters[0].reason, /injected: rejected/);
  assert.deepEqual(new Set(kafka.acknowledged), new Set(ids([1, 2, 4, 5])));
  assert.deepEqual(calls.released, []);
  // One try of all five, one retry with each on its own, one more for the culprit alone.
  assert.deepEqual(kafka.sends.map((s) => s.length), [5, 1, 1, 1, 1, 1, 1]);
  assert.ok(lines.some((line) => line.includes("kept as dead letters")));
});

Deno.test("an event that cannot be encoded is set aside at once and never blocks the others", async () => {
  const { outbox, calls } = fakeOutbox();
  const kafka = fakeProducer();
  const { publisher } = publisherWith(kafka.producer, outbox, {
    encodeWith: (execution) => {
      if (execution.id === stored(2).id) throw new TypeError("cannot serialise");
      return encode(execution);
    },
  });
  publisher.start();
  await publisher.accept([chunk("c1", [1, 2, 3])]);
  await eventually(() => calls.settled.length === 1, 5000, 5);
  await publisher.stop(1000);
  assert.deepEqual(kafka.sends, [ids([1, 3])]);
  assert.deepEqual(calls.settled[0].deadLetters, [{
    executionId: stored(2).id,
    batchId: stored(2).batchId,
    attempts: 0,
    reason: "cannot encode the event (TypeError)",
  }]);
});

Deno.test("a chunk whose rows cannot be read settles at once with its dead letters", async () => {
  const { outbox, calls } = fakeOutbox();
  const kafka = fakeProducer();
  const { publisher } = publisherWith(kafka.producer, outbox);
  const unreadable: ClaimedChunk = {
    id: "c9",
    storedAtMs: Date.now(),
    bytes: 0,
    executions: [],
    unreadable: [{ id: stored(9).id, batchId: stored(9).batchId, reason: "no row" }],
  };
  assert.equal(await publisher.accept([unreadable]), 0);
  assert.deepEqual(calls.settled, [{
    id: "c9",
    deadLetters: [{
      executionId: stored(9).id,
      batchId: stored(9).batchId,
      attempts: 0,
      reason: "no row",
    }],
  }]);
  assert.deepEqual(kafka.sends, []);
  await publisher.stop(100);
});

Deno.test("a chunk already held is not taken twice", async () => {
  const { outbox } = fakeOutbox();
  const kafka = fakeProducer();
  const { publisher, channel } = publisherWith(kafka.producer, outbox);
  assert.equal(await publisher.accept([chunk("c1", [1, 2])]), 2);
  assert.equal(await publisher.accept([chunk("c1", [1, 2]), chunk("c2", [3])]), 1);
  assert.deepEqual(channel.peek().map((held) => held.id), ["c1", "c2"]);
  assert.deepEqual(publisher.heldIds(), ["c1", "c2"]);
  await publisher.stop(1000);
});

Deno.test("while Kafka is down the breaker opens, publishing pauses with every event held, and one probe resumes it once the broker is back", async () => {
  const clock = FakeTimers.install({
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"],
  });
  try {
    const { outbox, calls } = fakeOutbox();
    let down = true;
    const kafka = fakeProducer(() => down ? "unavailable" : undefined);
    const { publisher, channel, lines } = publisherWith(kafka.producer, outbox);
    publisher.start();
    await publisher.accept([chunk("c1", [1, 2]), chunk("c2", [3])]);
    await clock.tickAsync(50);
    // Tries until the breaker opens after 3 consecutive outages: no dead letter, nothing released.
    assert.equal(publisher.kafkaStatus, "down");
    assert.equal(kafka.sends.length, 3);
    assert.equal(calls.settled.length, 0);
    assert.equal(calls.released.length, 0);
    assert.deepEqual(channel.peek().map((held) => held.id), ["c1", "c2"], "still held, in order");
    assert.ok(
      lines.some((line) => line.includes("Kafka is unavailable") && line.includes('"error"')),
    );
    // The pause: nothing is sent until the breaker's half-open time.
    await clock.tickAsync(900);
    assert.equal(kafka.sends.length, 3);
    down = false;
    await clock.tickAsync(200);
    assert.equal(publisher.kafkaStatus, "up");
    assert.deepEqual(calls.settled.map((s) => s.id).sort(), ["c1", "c2"]);
    // Each event was acknowledged exactly once.
    assert.deepEqual(kafka.acknowledged.sort(), ids([1, 2, 3]).sort());
    const stopped = publisher.stop(1000);
    await clock.runAllAsync();
    await stopped;
  } finally {
    clock.uninstall();
  }
});

Deno.test("held chunks keep their lease: the keeper renews what is in the channel and in flight", async () => {
  const clock = FakeTimers.install({
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"],
  });
  try {
    const { outbox, calls } = fakeOutbox();
    // A send that never ends holds c1 in flight; c2 waits in the channel behind it.
    const stuck: EventProducer = {
      send: () => new Promise(() => {}),
      close: () => Promise.resolve(),
    };
    const { publisher } = publisherWith(stuck, outbox, { settings: settings({ batchMax: 2 }) });
    publisher.start();
    await publisher.accept([chunk("c1", [1, 2]), chunk("c2", [3])]);
    await clock.tickAsync(1000);
    assert.deepEqual(calls.renewed, [["c2", "c1"]], "one renewal a third of the lease in");
    await clock.tickAsync(1000);
    assert.equal(calls.renewed.length, 2);
    const stopped = publisher.stop(100);
    await clock.runAllAsync();
    await stopped;
  } finally {
    clock.uninstall();
  }
});

Deno.test("stop publishes what the channel holds, then closes the producer", async () => {
  const { outbox, calls } = fakeOutbox();
  const kafka = fakeProducer();
  const { publisher, channel } = publisherWith(kafka.producer, outbox);
  await publisher.accept(
    Array.from({ length: 25 }, (_, c) => chunk(`c${c}`, [c * 10, c * 10 + 1, c * 10 + 2])),
  );
  publisher.start();
  await publisher.stop(5000);
  assert.equal(calls.settled.length, 25);
  assert.equal(kafka.acknowledged.length, 75);
  assert.equal(channel.size, 0);
  assert.ok(kafka.closed);
});

Deno.test("sends cut short by shutdown go back to the outbox, due at once, never to the dead letters", async () => {
  const { outbox, calls } = fakeOutbox();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const kafka = fakeProducer();
  // The first send waits; the close that shutdown does makes it fail as "closed".
  let first = true;
  const producer: EventProducer = {
    async send(messages) {
      if (first) {
        first = false;
        await gate;
      }
      return kafka.producer.send(messages);
    },
    async close() {
      await kafka.producer.close();
      release();
    },
  };
  const { publisher } = publisherWith(producer, outbox, {
    settings: settings({ batchMax: 2 }),
  });
  publisher.start();
  await publisher.accept([chunk("c1", [1, 2]), chunk("c2", [3, 4])]);
  await eventually(() => kafka.sends.length === 0 && first === false, 1000, 5);
  await publisher.stop(50);
  assert.deepEqual(calls.settled, []);
  assert.deepEqual(
    calls.released.map((r) => [r.id, r.pendingIds, r.whole, r.delayMs, r.deadLetters.length]),
    [["c1", ids([1, 2]), true, 0, 0], ["c2", ids([3, 4]), true, 0, 0]],
    "c1 back from its cut send, then c2 from the channel",
  );
});

Deno.test("a chunk half acknowledged when shutdown cuts in is handed back with only its unsent events", async () => {
  const { outbox, calls } = fakeOutbox();
  let sends = 0;
  let close!: () => void;
  const closing = new Promise<void>((resolve) => close = resolve);
  const producer: EventProducer = {
    async send() {
      sends++;
      if (sends === 1) return;
      await closing;
      throw new PublishError("closed", "the producer is closed");
    },
    close() {
      close();
      return Promise.resolve();
    },
  };
  const { publisher } = publisherWith(producer, outbox, { settings: settings({ batchMax: 2 }) });
  publisher.start();
  await publisher.accept([chunk("c1", [1, 2, 3, 4])]);
  await eventually(() => sends === 2, 1000, 5);
  await publisher.stop(20);
  assert.deepEqual(calls.released, [{
    id: "c1",
    pendingIds: ids([3, 4]),
    deadLetters: [],
    whole: false,
    delayMs: 0,
  }]);
});

Deno.test("resize changes the number of publisher loops", async () => {
  const { outbox } = fakeOutbox();
  const { publisher } = publisherWith(fakeProducer().producer, outbox);
  publisher.start();
  assert.equal(publisher.loops, 1);
  publisher.resize(4);
  assert.equal(publisher.loops, 4);
  await publisher.stop(1000);
  assert.equal(publisher.loops, 0);
});

Deno.test("a chunk larger than PUBLISH_BATCH_MAX_BYTES is encoded and sent in parts of about that many bytes", async () => {
  const { outbox, calls } = fakeOutbox();
  const kafka = fakeProducer();
  const oneMessage = encode(stored(1)).value.length + 4;
  const { publisher } = publisherWith(kafka.producer, outbox, {
    settings: settings({ batchMaxBytes: oneMessage * 2.5 }),
  });
  try {
    publisher.start();
    await publisher.accept([chunk("c1", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])]);
    await eventually(() => calls.settled.length === 1, 2000, 5);
    assert.deepEqual(kafka.sends.map((ids) => ids.length), [3, 3, 3, 1]);
    assert.deepEqual(kafka.acknowledged, ids([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
  } finally {
    await publisher.stop(100);
  }
});

Deno.test("chunks being sent count against the byte bound: no room is given for more until they settle", async () => {
  const { outbox, calls } = fakeOutbox();
  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  const kafka = fakeProducer();
  const channel = createChannel<HeldChunk>({
    capacity: 1000,
    weight: (c) => c.events.length,
    maxBytes: 1500,
    bytes: (c) => c.bytes,
  });
  const publisher = createPublisher({
    channel,
    producer: {
      send: async (messages) => {
        await held;
        return kafka.producer.send(messages);
      },
      close: () => kafka.producer.close(),
    },
    outbox,
    logger: captureLogs().logger,
    settings: () => settings(),
    encode,
  });
  try {
    publisher.start();
    assert.equal(await publisher.accept([chunk("c1", [1], 1000)]), 1);
    await eventually(() => channel.size === 0, 1000, 5);
    assert.equal(publisher.heldBytes, 1000, "the chunk being sent is still held");
    assert.equal(publisher.roomBytes, 500);
    assert.equal(await publisher.accept([chunk("c2", [2], 1000)]), 0, "no room beside it");
    assert.deepEqual(calls.released.map((r) => r.id), ["c2"], "handed back to the outbox");
    release();
    await eventually(() => publisher.heldBytes === 0, 1000, 5);
    assert.equal(await publisher.accept([chunk("c3", [3], 1000)]), 1);
  } finally {
    release();
    await publisher.stop(100);
  }
});

Deno.test("while the breaker is open only one send's bytes are held: more chunks go back to the outbox, and the full bound returns with Kafka", async () => {
  const clock = FakeTimers.install({
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"],
  });
  try {
    const { outbox, calls } = fakeOutbox();
    let down = true;
    const kafka = fakeProducer(() => down ? "unavailable" : undefined);
    const { publisher } = publisherWith(kafka.producer, outbox, {
      settings: settings({ batchMaxBytes: 1500 }),
      maxBytes: 10_000,
    });
    publisher.start();
    assert.equal(publisher.roomBytes, 10_000, "Kafka not known to be down: the channel's bound");
    assert.equal(await publisher.accept([chunk("c1", [1], 1000)]), 1);
    await clock.tickAsync(50);
    assert.equal(publisher.kafkaStatus, "down");
    // Held: c1 (1,000 bytes) of the 1,500 one send takes; nothing more fits beside it.
    assert.equal(publisher.roomBytes, 500);
    assert.equal(await publisher.accept([chunk("c2", [2], 1000)]), 0);
    assert.equal(publisher.offer(chunk("c3", [3], 1000)), false);
    assert.deepEqual(calls.released.map((r) => r.id), ["c2"], "handed back, due at once");
    down = false;
    await clock.tickAsync(1200);
    assert.equal(publisher.kafkaStatus, "up");
    assert.equal(publisher.roomBytes, 10_000, "the channel's bound again");
    assert.equal(await publisher.accept([chunk("c2", [2], 1000), chunk("c4", [4], 1000)]), 2);
    const stopped = publisher.stop(1000);
    await clock.runAllAsync();
    await stopped;
  } finally {
    clock.uninstall();
  }
});
