// The metrics registry in-process: names, the Kafka-up gauge, the build gauge and initialised series.
import assert from "node:assert/strict";
import { ItemErrorCode } from "../../src/domain/errors.ts";
import { ApiErrorCode } from "../../src/http/errors.ts";
import { createMetrics, type KafkaState } from "../../src/metrics/metrics.ts";

function series(text: string, name: string): string[] {
  return text.split("\n").filter((line) =>
    line.startsWith(`${name} `) || line.startsWith(`${name}{`)
  );
}

Deno.test("every exported series starts with execution_ingest_", async () => {
  const metrics = createMetrics({ version: "1.2.3", kafkaClient: "kafkajs" });
  const names = (await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name);
  assert.ok(names.length >= 25, `${names.length} metrics`);
  for (const name of names) assert.match(name, /^execution_ingest_[a-z0-9_]+$/);
});

Deno.test("execution_ingest_kafka_up reads 1 when up, 0 when down, NaN when unknown or publishing is off", async () => {
  const metrics = createMetrics({ version: "1.2.3", kafkaClient: "kafkajs" });
  const expected: Record<KafkaState, string> = {
    up: "1",
    down: "0",
    unknown: "Nan",
    disabled: "Nan",
  };
  let state: KafkaState = "unknown";
  metrics.bind({ kafkaState: () => state });
  for (const [next, value] of Object.entries(expected)) {
    state = next as KafkaState;
    const text = await metrics.registry.metrics();
    assert.deepEqual(series(text, "execution_ingest_kafka_up"), [
      `execution_ingest_kafka_up ${value}`,
    ]);
  }
});

Deno.test("execution_ingest_build_info carries the version, Deno's version and the Kafka client", async () => {
  const metrics = createMetrics({ version: "1.2.3", kafkaClient: "@platformatic/kafka" });
  const text = await metrics.registry.metrics();
  assert.deepEqual(series(text, "execution_ingest_build_info"), [
    `execution_ingest_build_info{version="1.2.3",deno_version="${Deno.version.deno}",kafka_client="@platformatic/kafka"} 1`,
  ]);
  const [start] = series(text, "execution_ingest_process_start_time_seconds");
  const seconds = Number(start.split(" ")[1]);
  assert.ok(Math.abs(seconds - performance.timeOrigin / 1000) < 1);
});

Deno.test("every item and request error code has a series at zero before the first failure", async () => {
  const metrics = createMetrics({ version: "1.2.3", kafkaClient: "kafkajs" });
  let text = await metrics.registry.metrics();
  for (const code of Object.values(ItemErrorCode)) {
    assert.ok(text.includes(`execution_ingest_executions_failed_total{code="${code}"} 0\n`), code);
  }
  for (const code of Object.values(ApiErrorCode)) {
    assert.ok(text.includes(`execution_ingest_http_errors_total{code="${code}"} 0\n`), code);
  }
  metrics.observeError(ApiErrorCode.SERVICE_SATURATED);
  text = await metrics.registry.metrics();
  assert.ok(text.includes(`execution_ingest_http_errors_total{code="SERVICE_SATURATED"} 1\n`));
});
