// The pace gate with two instances on one database, real PostgreSQL and Kafka: events that one
// instance stored and the other published no longer hold the first one's batches back.
import assert from "node:assert/strict";
import type { EventProducer } from "../../src/domain/ports.ts";
import { startService } from "../../src/main.ts";
import {
  captureLogs,
  createTopic,
  deleteTopic,
  dropSchema,
  eventually,
  executions,
  KAFKA_BROKERS,
  pendingEvents,
  postBatch,
  testConfig,
  topicMessageCount,
  uniqueName,
} from "../_helpers.ts";

const WAIT_MS = 5000;

Deno.test("once another instance has drained the outbox, a 1-item batch on the first instance is answered without waiting for the pace gate", async () => {
  const topic = uniqueName("executions");
  await createTopic(topic);
  const schema = uniqueName("t");
  const common = {
    DB_SCHEMA: schema,
    KAFKA_BROKERS: KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topic,
    PUBLISH_BACKLOG_MAX: "1",
    PUBLISH_BACKLOG_WAIT_MS: String(WAIT_MS),
  };
  // A's sends wait while `hold` is pending: A keeps what it took, and its channel (one event)
  // turns the rest of a batch away to the outbox, where only B's relay takes it.
  let hold = Promise.resolve();
  let release = () => {};
  const a = await startService(
    testConfig({
      ...common,
      PUBLISH_CHANNEL_CAPACITY: "1",
      PUBLISH_CONCURRENCY: "1",
      OUTBOX_RELAY_INTERVAL_MS: "3600000",
    }),
    {
      logger: captureLogs("error").logger,
      wrapProducer: (producer: EventProducer): EventProducer => ({
        send: async (messages) => {
          await hold;
          return producer.send(messages);
        },
        close: () => producer.close(),
      }),
    },
  );
  let b: Awaited<ReturnType<typeof startService>> | undefined;
  try {
    // Kafka is up for A: it has published.
    assert.equal((await postBatch(a.url, executions(1))).status, 200);
    await eventually(async () => (await pendingEvents(schema)) === 0, 20_000);

    hold = new Promise((resolve) => release = resolve);
    assert.equal((await postBatch(a.url, executions(2000))).status, 200);
    b = await startService(
      testConfig({ ...common, OUTBOX_RELAY_INTERVAL_MS: "100" }),
      { logger: captureLogs("error").logger },
    );
    // B publishes the chunks A turned away; A holds the two it took (1,000 events).
    await eventually(async () => (await pendingEvents(schema)) === 1000, 30_000);
    release();
    await eventually(async () => (await pendingEvents(schema)) === 0, 30_000);

    const began = performance.now();
    const response = await postBatch(a.url, executions(1));
    const tookMs = performance.now() - began;
    assert.equal(response.status, 200);
    assert.ok(
      tookMs < WAIT_MS / 2,
      `answered in ${Math.round(tookMs)} ms, not held back ${WAIT_MS} ms for events B published`,
    );
    await eventually(async () => (await pendingEvents(schema)) === 0, 20_000);
    await eventually(async () => (await topicMessageCount(topic)) >= 2002, 20_000);
    assert.equal(await topicMessageCount(topic), 2002, "every event once, whoever published it");
  } finally {
    release();
    await b?.stop();
    await a.stop();
    await dropSchema(schema);
    await deleteTopic(topic, { ignoreFailure: true });
  }
});
