// One contract, both Kafka adapters, the real broker: what the EventProducer port promises holds for
// @platformatic/kafka and for kafkajs alike.
import assert from "node:assert/strict";
import { PublishError } from "../../src/domain/errors.ts";
import type { EventMessage, EventProducer } from "../../src/domain/ports.ts";
import type { KafkaProducerOptions } from "../../src/publish/kafka_errors.ts";
import { createKafkajsProducer } from "../../src/publish/kafkajs_producer.ts";
import { createPlatformaticProducer } from "../../src/publish/platformatic_producer.ts";
import { captureLogs, consumeTopic, createTopic, KAFKA_BROKERS, uniqueName } from "../_helpers.ts";

const CLIENTS: Record<string, (options: KafkaProducerOptions) => EventProducer> = {
  platformatic: createPlatformaticProducer,
  kafkajs: (options) => createKafkajsProducer({ ...options, logger: captureLogs().logger }),
};

function message(key: string, seq: number, extra: Record<string, string> = {}): EventMessage {
  return {
    key,
    value: JSON.stringify({ key, seq }),
    headers: { ce_id: `${key}-${seq}`, ce_type: "execution.created", ...extra },
  };
}

async function failure(promise: Promise<unknown>): Promise<PublishError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PublishError, `a PublishError, got ${error}`);
    return error;
  }
  throw new Error("expected the send to fail");
}

for (const [client, create] of Object.entries(CLIENTS)) {
  Deno.test(`${client}: sent messages arrive with their key, value and headers, in order per key`, async () => {
    const topic = uniqueName("contract");
    await createTopic(topic, 3);
    const producer = create({ brokers: KAFKA_BROKERS, topic, clientId: uniqueName(client) });
    try {
      const keys = ["TC-1", "TC-2", "TC-3", "TC-4", "TC-5"];
      // Ten sends of fifty, each key's sequence numbers rising across them.
      for (let send = 0; send < 10; send++) {
        await producer.send(
          Array.from({ length: 50 }, (_, i) =>
            message(keys[i % 5], send * 10 + Math.floor(i / 5), {
              "content-type": "application/json",
              ce_source: "/contract ünïcode",
            })),
        );
      }
      const consumed = await consumeTopic(topic, 500, 30_000);
      assert.equal(consumed.length, 500, "each message once: the send resolved only when acked");
      for (const key of keys) {
        const seqs = consumed.filter((m) => m.key === key).map((m) => m.value.seq as number);
        assert.equal(seqs.length, 100);
        assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `order kept for ${key}`);
        assert.equal(
          new Set(consumed.filter((m) => m.key === key).map((m) => m.partition)).size,
          1,
        );
      }
      const first = consumed.find((m) => m.headers.ce_id === "TC-1-0")!;
      assert.deepEqual(first.value, { key: "TC-1", seq: 0 });
      assert.deepEqual(first.headers, {
        ce_id: "TC-1-0",
        ce_type: "execution.created",
        "content-type": "application/json",
        ce_source: "/contract ünïcode",
      });
    } finally {
      await producer.close();
    }
  });

  Deno.test(`${client}: an unreachable broker fails the send as "unavailable", naming the broker`, async () => {
    const producer = create({
      brokers: ["127.0.0.1:1"],
      topic: uniqueName("contract"),
      clientId: uniqueName(client),
      connectionTimeoutMs: 500,
      requestTimeoutMs: 1000,
    });
    try {
      const error = await failure(producer.send([message("TC-1", 0)]));
      assert.equal(error.kind, "unavailable");
      assert.match(error.message, /^Cannot send 1 event to Kafka at 127\.0\.0\.1:1: /);
      assert.doesNotMatch(error.message, /TC-1/, "no message content in the error");
    } finally {
      await producer.close();
    }
  });

  Deno.test(`${client}: a message the broker refuses fails the send as "rejected"`, async () => {
    const topic = uniqueName("contract");
    await createTopic(topic, 1, { "max.message.bytes": "2048" });
    const producer = create({ brokers: KAFKA_BROKERS, topic, clientId: uniqueName(client) });
    try {
      await producer.send([message("TC-1", 0)]);
      const big = { ...message("TC-1", 1), value: "x".repeat(10_000) };
      const error = await failure(producer.send([big]));
      assert.equal(error.kind, "rejected");
      assert.match(error.message, /MESSAGE_TOO_LARGE|larger than/i);
      assert.doesNotMatch(error.message, /xxxx/, "no message content in the error");
    } finally {
      await producer.close();
    }
  });

  Deno.test(`${client}: after close, a send fails as "closed"`, async () => {
    const topic = uniqueName("contract");
    await createTopic(topic, 1);
    const producer = create({ brokers: KAFKA_BROKERS, topic, clientId: uniqueName(client) });
    await producer.send([message("TC-1", 0)]);
    await producer.close();
    const error = await failure(producer.send([message("TC-1", 1)]));
    assert.equal(error.kind, "closed");
    await producer.close();
  });
}

Deno.test("both clients put a key on the same partition (Java's murmur2 partitioner)", async () => {
  const topic = uniqueName("contract");
  await createTopic(topic, 7);
  const keys = Array.from({ length: 60 }, (_, i) => `TC-${i}-${"k".repeat(i % 7)}`);
  for (const [client, create] of Object.entries(CLIENTS)) {
    const producer = create({ brokers: KAFKA_BROKERS, topic, clientId: uniqueName(client) });
    try {
      await producer.send(keys.map((key) => message(key, 0, { ce_id: `${client}:${key}` })));
    } finally {
      await producer.close();
    }
  }
  const consumed = await consumeTopic(topic, 120, 30_000);
  const partitions = new Map<string, Set<number>>();
  for (const m of consumed) {
    partitions.set(m.key, (partitions.get(m.key) ?? new Set()).add(m.partition));
  }
  assert.equal(consumed.length, 120);
  assert.ok(new Set(consumed.map((m) => m.partition)).size > 3, "keys spread over partitions");
  for (const key of keys) assert.equal(partitions.get(key)?.size, 1, `one partition for ${key}`);
});
