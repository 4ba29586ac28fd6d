// The ops routes in-process: liveness, readiness from its probes (Kafka down is still ready; the
// database down or a shutdown is not), and the Prometheus scrape, all without an API key.
import assert from "node:assert/strict";
import { createTestApp } from "../_app.ts";

Deno.test("/healthz answers ok and /metrics the Prometheus text, without a key", async () => {
  const test = createTestApp({ userKeys: ["user-key-0123456789"] });
  const health = await test.request("/healthz");
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: "ok" });
  const metrics = await test.request("/metrics");
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain/);
  assert.match(await metrics.text(), /^execution_ingest_build_info\{/m);
});

Deno.test("/readyz is ready with Kafka down, and not ready with the database down or once shutting down", async (t) => {
  await t.step("Kafka down: 200 ready, Kafka reported down", async () => {
    const test = createTestApp({ readiness: { kafkaStatus: () => "down" } });
    const response = await test.request("/readyz");
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      status: "ready",
      ready: true,
      database: { status: "up", migrations: "applied" },
      kafka: { status: "down" },
      shuttingDown: false,
    });
  });
  await t.step("the database down: 503 not ready", async () => {
    const test = createTestApp({ readiness: { ping: () => Promise.reject(new Error("down")) } });
    const response = await test.request("/readyz");
    assert.equal(response.status, 503);
    const body = await response.json();
    assert.deepEqual([body.status, body.database.status], ["not ready", "down"]);
  });
  await t.step("shutting down: 503 at once", async () => {
    const test = createTestApp();
    test.shutDown();
    const response = await test.request("/readyz");
    assert.equal(response.status, 503);
    assert.equal((await response.json()).shuttingDown, true);
  });
});
