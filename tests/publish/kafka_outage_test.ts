// Durability against the real broker: a Kafka outage, a hung broker and a SIGKILL of the service
// lose no event, and send none twice where it need not.
import assert from "node:assert/strict";
import {
  captureLogs,
  consumeTopic,
  createTopic,
  DATABASE_URL,
  dropSchema,
  eventually,
  executions,
  KAFKA_BROKERS,
  kafkaBroker,
  pendingEvents,
  postBatch,
  startTestService,
  storedIds,
  testConfig,
  uniqueName,
} from "../_helpers.ts";
import { startService } from "../../src/main.ts";

Deno.test("with the broker stopped a batch still gets 200; once it is back every event is published without a restart", async () => {
  // This test stops and starts the broker, so it needs the one scripts/kafka.sh runs.
  assert.ok(
    await kafkaBroker("status"),
    "the outage test needs the broker started by scripts/kafka.sh (KAFKA_BROKERS must not point elsewhere)",
  );
  const topic = uniqueName("executions");
  await createTopic(topic);
  const { url, config, close } = await startTestService({
    KAFKA_BROKERS: KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topic,
    OUTBOX_RELAY_INTERVAL_MS: "200",
    OUTBOX_LEASE_MS: "1000",
    PUBLISH_RETRY_ATTEMPTS: "2",
    PUBLISH_RETRY_INITIAL_DELAY_MS: "100",
    PUBLISH_RETRY_MAX_DELAY_MS: "500",
    // A stopped broker refuses connections at once; the request timeout stays at its default, so
    // a broker slow to answer just after its restart is waited for instead of sent to twice.
    KAFKA_CONNECT_TIMEOUT_MS: "500",
    PUBLISH_BREAKER_THRESHOLD: "2",
    PUBLISH_BREAKER_HALF_OPEN_MS: "1000",
  });
  try {
    const before = executions(100);
    assert.equal((await postBatch(url, before)).status, 200);
    // Publishing works before the outage: exactly these 100 events, once each.
    const first = await consumeTopic(topic, 100, 30_000);
    assert.deepEqual(
      first.map((message) => message.headers.ce_id).sort(),
      before.map((item) => item.id as string).sort(),
    );
    await kafkaBroker("stop");
    try {
      const response = await postBatch(url, executions(1000));
      assert.equal(response.status, 200);
      assert.equal((await response.json()).created, 1000);
      // The breaker opens: readiness and the gauge say Kafka is down, the service stays ready,
      // and the events wait (in memory, still leased, or in the outbox).
      await eventually(async () => {
        const ready = await fetch(`${url}/readyz`);
        return ready.status === 200 && (await ready.json()).kafka.status === "down";
      }, 30_000);
      assert.match(await (await fetch(`${url}/metrics`)).text(), /^execution_ingest_kafka_up 0$/m);
      assert.equal(await pendingEvents(config.DB_SCHEMA), 1000);
    } finally {
      await kafkaBroker("start");
    }
    await eventually(async () => (await pendingEvents(config.DB_SCHEMA)) === 0, 90_000, 500);
    const stored = await storedIds(config.DB_SCHEMA);
    assert.equal(stored.length, 1100);
    const messages = await consumeTopic(topic, 1100, 30_000);
    const published = new Set(messages.map((message) => message.headers.ce_id));
    assert.deepEqual(stored.filter((id) => !published.has(id)), []);
    // Nothing reached the stopped broker, so nothing needed sending twice.
    assert.equal(messages.length, 1100, "no duplicate messages");
    assert.match(await (await fetch(`${url}/metrics`)).text(), /^execution_ingest_kafka_up 1$/m);
  } finally {
    await close();
  }
});

Deno.test("a broker that hangs (SIGSTOP) during ingestion loses nothing and gets each event once", async () => {
  assert.ok(
    await kafkaBroker("status"),
    "the pause test needs the broker started by scripts/kafka.sh",
  );
  const topic = uniqueName("executions");
  await createTopic(topic);
  // The publishing worker, as in production; sends wait out a hang shorter than the request
  // timeout instead of timing out and going twice.
  const { url, config, close } = await startTestService({
    KAFKA_BROKERS: KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topic,
  });
  let total = 0;
  try {
    const ingest = async (batches: number) => {
      for (let i = 0; i < batches; i++) {
        const response = await postBatch(url, executions(500));
        assert.equal(response.status, 200);
        total += (await response.json()).created;
      }
    };
    await ingest(4);
    await kafkaBroker("pause");
    try {
      // Batches keep being stored while the broker does not answer.
      await ingest(10);
      await eventually(async () => (await pendingEvents(config.DB_SCHEMA)) > 0, 10_000);
    } finally {
      await kafkaBroker("resume");
    }
    await ingest(4);
    await eventually(async () => (await pendingEvents(config.DB_SCHEMA)) === 0, 90_000, 250);
    const stored = await storedIds(config.DB_SCHEMA);
    assert.equal(stored.length, total);
    const messages = await consumeTopic(topic, total, 30_000);
    const published = new Set(messages.map((message) => message.headers.ce_id));
    assert.deepEqual(stored.filter((id) => !published.has(id)), []);
    assert.ok(
      messages.length - total <= total / 100,
      `at most 1 % duplicates: ${messages.length - total} of ${total}`,
    );
  } finally {
    await close();
  }
});

Deno.test("a service killed with SIGKILL while draining a large backlog publishes every event after it starts again", async () => {
  const topic = uniqueName("executions");
  await createTopic(topic);
  const schema = uniqueName("t");
  // Build the backlog with publishing off: 30,000 events wait in the outbox.
  const writer = await startService(testConfig({ DB_SCHEMA: schema }), {
    logger: captureLogs("error").logger,
  });
  try {
    for (let i = 0; i < 3; i++) {
      assert.equal((await postBatch(writer.url, executions(10_000))).status, 200);
    }
  } finally {
    await writer.stop();
  }
  const env = {
    DATABASE_URL,
    DB_SCHEMA: schema,
    PORT: "0",
    LOG_LEVEL: "warn",
    KAFKA_BROKERS: KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topic,
    OUTBOX_RELAY_INTERVAL_MS: "100",
    OUTBOX_RELAY_BATCH: "500",
    OUTBOX_LEASE_MS: "2000",
    PUBLISH_BATCH_MAX: "200",
  };
  const spawn = () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../../src/main.ts", import.meta.url).pathname],
      env,
      stdout: "null",
      stderr: "null",
    }).spawn();
  try {
    const first = spawn();
    try {
      await eventually(async () => (await pendingEvents(schema)) < 25_000, 60_000, 50);
    } finally {
      first.kill("SIGKILL");
      await first.status;
    }
    const left = await pendingEvents(schema);
    assert.ok(left > 0, "killed while events were still pending");
    const second = spawn();
    try {
      await eventually(async () => (await pendingEvents(schema)) === 0, 120_000, 500);
    } finally {
      second.kill("SIGTERM");
      await second.status;
    }
    const stored = await storedIds(schema);
    assert.equal(stored.length, 30_000);
    const published = new Set(
      (await consumeTopic(topic, 30_000, 60_000)).map((message) => message.headers.ce_id),
    );
    assert.deepEqual(stored.filter((id) => !published.has(id)), []);
  } finally {
    await dropSchema(schema);
  }
});
