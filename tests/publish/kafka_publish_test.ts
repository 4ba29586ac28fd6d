// Publishing against the real Kafka broker: format, retries and dead letters, outages, two instances.
import assert from "node:assert/strict";
import { PublishError } from "../../src/domain/errors.ts";
import type { EventProducer } from "../../src/domain/ports.ts";
import {
  captureLogs,
  consumeTopic,
  createTopic,
  dropSchema,
  eventually,
  execution,
  executions,
  KAFKA_BROKERS,
  outboxCounts,
  pendingEvents,
  postBatch,
  sqlFor,
  startTestService,
  testConfig,
  uniqueName,
} from "../_helpers.ts";
import { startService } from "../../src/main.ts";

/**
 * How long a "none sent twice" check keeps reading after the topic's end without a new message:
 * longer than a send's retry backoff and a relay interval here, so a copy sent again shows up.
 */
const SECOND_COPY_WINDOW_MS = 5000;

const kafkaEnv = (topic: string, extra: Record<string, string> = {}) => ({
  KAFKA_BROKERS: KAFKA_BROKERS.join(","),
  KAFKA_TOPIC: topic,
  OUTBOX_RELAY_INTERVAL_MS: "200",
  ...extra,
});

Deno.test("a 1,000-item batch yields 1,000 events with the right keys, values and CloudEvents headers", async () => {
  const topic = uniqueName("executions");
  await createTopic(topic);
  const { url, config, close } = await startTestService(kafkaEnv(topic));
  try {
    const items = executions(1000);
    const response = await postBatch(url, items);
    assert.equal(response.status, 200);
    const { batchId } = await response.json();
    // Read to the topic's end, and on for a while after: a second copy sent late still shows.
    const messages = await consumeTopic(topic, 1000, 60_000, { quietMs: SECOND_COPY_WINDOW_MS });
    const byId = new Map(messages.map((message) => [message.headers.ce_id, message]));
    assert.equal(byId.size, 1000);
    assert.equal(messages.length, 1000, "one message per event, none sent twice");
    for (const item of items) {
      const message = byId.get(item.id as string);
      assert.ok(message, `event for ${item.id}`);
      assert.equal(message.key, item.testCaseKey);
      assert.equal(message.headers.ce_specversion, "1.0");
      assert.equal(message.headers.ce_type, "execution.created");
      assert.equal(message.headers.ce_source, "/execution-ingest");
      assert.equal(message.headers["content-type"], "application/json");
      assert.equal(message.headers.ce_time, message.value.createdAt);
      assert.equal(message.value.id, item.id);
      assert.equal(message.value.batchId, batchId);
      assert.equal(message.value.testCaseKey, item.testCaseKey);
      assert.equal(message.value.status, item.status);
      assert.equal(message.value.startedAt, item.startedAt);
      assert.deepEqual(message.value.attributes, item.attributes);
      assert.equal(message.value.comment, item.comment);
    }
    await eventually(async () => (await pendingEvents(config.DB_SCHEMA)) === 0, 10_000);
    const batch = await (await fetch(`${url}/v1/batches/${batchId}`)).json();
    assert.deepEqual(batch.events, { published: 1000, pending: 0, failed: 0 });
  } finally {
    await close();
  }
});

Deno.test("a send that keeps failing is retried exactly as configured, then kept as a dead letter; re-queue publishes it", async () => {
  const topic = uniqueName("executions");
  await createTopic(topic);
  const poison = crypto.randomUUID();
  let failPoison = true;
  const poisonTries: number[] = [];
  const { logger, lines } = captureLogs("debug");
  const { url, config, close } = await startTestService(
    kafkaEnv(topic, {
      PUBLISH_RETRY_ATTEMPTS: "3",
      PUBLISH_RETRY_INITIAL_DELAY_MS: "100",
      PUBLISH_RETRY_MULTIPLIER: "2",
      PUBLISH_RETRY_MAX_DELAY_MS: "2000",
      PUBLISH_RETRY_JITTER: "0",
      ADMIN_API_KEYS: "admin-key",
      API_KEYS: "user-key",
    }),
    {
      logger,
      // The broker refuses any send holding the poison event; the rest goes to the real broker.
      wrapProducer: (real: EventProducer): EventProducer => ({
        send(messages) {
          if (failPoison && messages.some((message) => message.headers.ce_id === poison)) {
            poisonTries.push(performance.now());
            return Promise.reject(new PublishError("rejected", "injected: record refused"));
          }
          return real.send(messages);
        },
        close: () => real.close(),
      }),
    },
  );
  const auth = { authorization: "Bearer user-key" };
  try {
    const items = executions(20);
    items[7] = execution(7, { id: poison });
    assert.equal((await postBatch(url, items, auth)).status, 200);
    const sql = sqlFor(config.DB_SCHEMA);
    try {
      await eventually(async () => (await outboxCounts(sql)).deadLetters === 1, 20_000);
    } finally {
      await sql.end();
    }
    // One try with the whole batch, then exactly 3 retries of the poison event on its own.
    assert.equal(poisonTries.length, 4);
    const gaps = poisonTries.slice(1).map((at, i) => at - poisonTries[i]);
    assert.ok(
      gaps[0] >= 95 && gaps[1] >= 195 && gaps[2] >= 395,
      `growing delays, got ${gaps.map(Math.round)}`,
    );
    // Real gaps also hold the work between tries (publishing the others, a worker round trip), so
    // only their lower bounds are checked; the delays themselves are the logged ones below.
    const retries = lines.map((line) => JSON.parse(line)).filter((entry) =>
      entry.msg === "Kafka send failed; retrying"
    );
    assert.deepEqual(retries.map((entry) => entry.attempt), [1, 2, 3]);
    assert.deepEqual(retries.map((entry) => entry.delayMs), [100, 200, 400]);
    assert.ok(
      retries.every((entry) =>
        entry.level === "warn" && entry.errorClass === "PublishError:rejected"
      ),
    );
    const deadLetterLog = lines.map((line) => JSON.parse(line)).find((entry) =>
      entry.msg.startsWith("Cannot publish events after the last retry")
    );
    assert.equal(deadLetterLog?.level, "error");

    // The other 19 events flowed while the poison one was retried.
    const others = await consumeTopic(topic, 19, 20_000);
    assert.deepEqual(
      new Set(others.map((message) => message.headers.ce_id)),
      new Set(items.filter((item) => item.id !== poison).map((item) => item.id)),
    );

    const listed = await fetch(`${url}/admin/dead-letters`, {
      headers: { authorization: "Bearer admin-key" },
    });
    assert.equal(listed.status, 200);
    const { deadLetters } = await listed.json();
    assert.equal(deadLetters.length, 1);
    assert.equal(deadLetters[0].executionId, poison);
    assert.equal(deadLetters[0].attempts, 4);
    assert.equal(deadLetters[0].lastError, "injected: record refused");

    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /^execution_ingest_kafka_publish_retries_total 3$/m);
    assert.match(metrics, /^execution_ingest_kafka_dead_letter_events_total 1$/m);

    failPoison = false;
    const requeued = await fetch(`${url}/admin/dead-letters/requeue`, {
      method: "POST",
      headers: { authorization: "Bearer admin-key", "content-type": "application/json" },
      body: JSON.stringify({ ids: [poison] }),
    });
    assert.equal(requeued.status, 200);
    assert.deepEqual(await requeued.json(), { requeued: 1 });
    const all = await consumeTopic(topic, 20, 20_000);
    assert.ok(
      all.some((message) => message.headers.ce_id === poison),
      "the re-queued event was published",
    );
    await eventually(async () => (await pendingEvents(config.DB_SCHEMA)) === 0, 10_000);
  } finally {
    await close();
  }
});

Deno.test("two service instances on one database and one broker publish every execution, none missing", async () => {
  const topic = uniqueName("executions");
  await createTopic(topic);
  const schema = uniqueName("t");
  const env = { ...kafkaEnv(topic), DB_SCHEMA: schema };
  const a = await startService(testConfig(env), { logger: captureLogs("warn").logger });
  const b = await startService(testConfig(env), { logger: captureLogs("warn").logger });
  try {
    const sent = await Promise.all(
      Array.from({ length: 10 }, (_, i) => postBatch(i % 2 ? a.url : b.url, executions(500))),
    );
    assert.deepEqual(new Set(sent.map((response) => response.status)), new Set([200]));
    const sql = sqlFor(schema);
    let stored: string[];
    try {
      stored = (await sql`select id from executions`).map((row) => row.id);
    } finally {
      await sql.end();
    }
    assert.equal(stored.length, 5000);
    const messages = await consumeTopic(topic, 5000, 60_000, { quietMs: SECOND_COPY_WINDOW_MS });
    const published = new Set(messages.map((message) => message.headers.ce_id));
    assert.deepEqual(stored.filter((id) => !published.has(id)), []);
    assert.equal(messages.length, 5000, "no event was sent by both instances");
    await eventually(async () => (await pendingEvents(schema)) === 0, 10_000);
  } finally {
    await a.stop();
    await b.stop();
    await dropSchema(schema);
  }
});
