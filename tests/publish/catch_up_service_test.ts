// The catch-up cron job's work on the real service, PostgreSQL and Kafka: events a stopped instance
// left leased are published by the next instance's catch-up alone, in either publishing thread.
import assert from "node:assert/strict";
import { startService } from "../../src/main.ts";
import {
  captureLogs,
  consumeTopic,
  createTopic,
  dropSchema,
  executions,
  KAFKA_BROKERS,
  pendingEvents,
  postBatch,
  testConfig,
  uniqueName,
} from "../_helpers.ts";

for (const [thread, inWorker] of [["worker", "true"], ["main thread", "false"]]) {
  Deno.test(`catchUp publishes every event a stopped instance left leased, with the relay's timer idle (publishing in the ${thread})`, async () => {
    const topic = uniqueName("executions");
    await createTopic(topic);
    const schema = uniqueName("t");
    // The first instance stores with publishing off and stops: its chunks stay leased to it for
    // 3 s, as a killed instance's would.
    const first = await startService(
      testConfig({ DB_SCHEMA: schema, OUTBOX_LEASE_MS: "3000" }),
      { logger: captureLogs("warn").logger },
    );
    const items = executions(1200);
    const response = await postBatch(first.url, items);
    assert.equal(response.status, 200);
    await response.body?.cancel();
    await first.stop();

    // The next instance's relay makes one pass at start (the chunks are still leased then) and
    // none for an hour after it: only the catch-up can take them.
    const { logger, lines } = captureLogs("info");
    const second = await startService(
      testConfig({
        DB_SCHEMA: schema,
        KAFKA_BROKERS: KAFKA_BROKERS.join(","),
        KAFKA_TOPIC: topic,
        PUBLISH_IN_WORKER: inWorker,
        OUTBOX_RELAY_INTERVAL_MS: "3600000",
      }),
      { logger },
    );
    try {
      const result = await second.catchUp({ stepMs: 100, budgetMs: 30_000 });
      assert.ok(result, "publishing is on, so the catch-up ran");
      assert.equal(result.handedOver, 1200, "the catch-up's own passes took every event");
      assert.equal(result.pendingLeft, 0);
      assert.ok(
        result.passes >= 2,
        "empty passes while the lease ran, then the one that took them",
      );
      assert.equal(await pendingEvents(schema), 0);
      assert.ok(lines.some((line) => line.includes('"msg":"Outbox catch-up done"')));

      const messages = await consumeTopic(topic, items.length, 20_000);
      const onTopic = new Set(messages.map((message) => message.headers.ce_id));
      assert.deepEqual([...onTopic].sort(), items.map((item) => item.id as string).sort());
    } finally {
      await second.stop();
      await dropSchema(schema);
    }
  });
}
