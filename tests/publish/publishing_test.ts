// createPublishing with in-memory fakes: a stored chunk the channel has no room for is made due in
// the outbox at once, and the relay takes it as soon as sending frees room.
import assert from "node:assert/strict";
import { createPublishing, type PublishingSettings } from "../../src/publish/publishing.ts";
import { captureLogs, eventually } from "../_helpers.ts";
import { chunk, encode, fakeOutbox, fakeProducer } from "../_fakes/publishing.ts";

const settings: PublishingSettings = {
  channelCapacity: 2,
  channelMaxBytes: 1024 * 1024,
  publisher: {
    concurrency: 1,
    batchMax: 10,
    batchMaxBytes: 1024 * 1024,
    leaseMs: 60_000,
    resilience: {
      retry: { attempts: 0, initialDelayMs: 0, multiplier: 2, maxDelayMs: 0, jitter: 0 },
      breaker: { threshold: 3, halfOpenAfterMs: 1000 },
    },
  },
  // A long interval: only the pass run when room comes free can take the chunk within the test.
  relay: { intervalMs: 60_000, batchMax: 100, batchMaxBytes: 1024 * 1024, leaseMs: 60_000 },
};

Deno.test("a chunk turned away by a full channel is made due at once and claimed when room comes free", async () => {
  const outbox = fakeOutbox();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const kafka = fakeProducer();
  const publishing = createPublishing({
    outbox: outbox.outbox,
    producer: {
      // The first send waits, so the channel stays full while the second chunk arrives.
      send: async (messages) => {
        await gate;
        return kafka.producer.send(messages);
      },
      close: () => kafka.producer.close(),
    },
    logger: captureLogs().logger,
    settings,
    encode,
  });
  try {
    const first = chunk("c1", [1, 2]), second = chunk("c2", [3]);
    publishing.offer(first);
    await eventually(() => publishing.status().channelSize === 0, 1000, 5);
    publishing.offer(chunk("c0", [0, 9]));
    publishing.offer(second);
    assert.deepEqual(
      outbox.calls.released.map((r) => [r.id, r.whole, r.delayMs]),
      [["c2", true, 0]],
      "the chunk with no room is handed back, due now",
    );
    outbox.add(second);
    release();
    await eventually(() => kafka.acknowledged.length === 5, 5000, 5);
    assert.ok(outbox.calls.claims.length >= 1, "a relay pass ran once room came free");
    assert.deepEqual(outbox.calls.settled.map((s) => s.id).sort(), ["c0", "c1", "c2"]);
  } finally {
    await publishing.stop(1000);
  }
});
