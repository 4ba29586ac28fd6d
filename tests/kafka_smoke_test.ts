// The test broker (scripts/kafka.sh) and kafkajs 2.2.4 under Deno get along: admin createTopics,
// an idempotent acks=-1 producer, a consumer group reading from the beginning and committing.
// Fails (never skips) when no broker answers at KAFKA_BROKERS.
import assert from "node:assert/strict";
import {
  type Admin,
  type Consumer,
  Kafka,
  type KafkaMessage,
  logLevel,
  type Producer,
} from "kafkajs";

const brokers = (Deno.env.get("KAFKA_BROKERS") ?? "127.0.0.1:19092").split(",").filter(Boolean);

function unique(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e9).toString(36)}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Kafka smoke test: ${what} did not happen within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

Deno.test("Kafka smoke: kafkajs creates a topic, produces (idempotent, acks=-1) and consumes with a group", async () => {
  const kafka = new Kafka({
    clientId: "kafka-smoke-test",
    brokers,
    // An unreachable broker fails in about a second instead of kafkajs' default ~30 s of retries.
    connectionTimeout: 3000,
    requestTimeout: 15000,
    retry: { retries: 2, initialRetryTime: 300, maxRetryTime: 1000 },
    logLevel: logLevel.NOTHING,
  });
  const topic = unique("smoke");
  const groupId = unique("smoke_group");
  const admin: Admin = kafka.admin();
  const producer: Producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
  const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  let topicCreated = false;
  try {
    try {
      await admin.connect();
      await admin.describeCluster();
    } catch (error) {
      throw new Error(
        `Kafka is NOT reachable at ${brokers.join(",")}: ${(error as Error).message}. ` +
          "Start the test broker with `bash scripts/kafka.sh start` or point KAFKA_BROKERS at one.",
      );
    }

    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    assert.equal(created, true, `createTopics(${topic}) should create a new topic`);
    topicCreated = true;

    const key = "smoke-key-1";
    const value = JSON.stringify({ hello: "kafka", at: new Date().toISOString() });
    const headers = { "ce-id": unique("id"), "content-type": "application/json" };

    await producer.connect();
    const [sent] = await producer.send({
      topic,
      acks: -1,
      messages: [{ key, value, headers }],
    });
    assert.equal(sent.topicName, topic);
    assert.equal(sent.errorCode, 0);

    let received!: (message: KafkaMessage & { partition: number }) => void;
    const arrived = new Promise<KafkaMessage & { partition: number }>((resolve) =>
      received = resolve
    );
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommitThreshold: 1,
      eachMessage: ({ message, partition }) => {
        received({ ...message, partition });
        return Promise.resolve();
      },
    });
    const message = await withTimeout(arrived, 30_000, "consuming the produced message");

    assert.equal(message.key?.toString(), key);
    assert.equal(message.value?.toString(), value);
    assert.equal(message.partition, sent.partition);
    assert.equal(message.offset, sent.baseOffset);
    // kafkajs hands header values back as Buffers.
    const got = Object.fromEntries(
      Object.entries(message.headers ?? {}).map(([name, bytes]) => [name, String(bytes)]),
    );
    assert.deepEqual(got, headers);

    // The group commits its position (OffsetCommit/OffsetFetch work, not only Fetch).
    await consumer.stop();
    const expected = String(Number(sent.baseOffset) + 1);
    let committed: string | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      committed = offsets.partitions.find((p) => p.partition === sent.partition)?.offset;
      if (committed === expected) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(committed, expected, "the consumer group's committed offset");
  } finally {
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    if (topicCreated) await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
});
