// The service's Prometheus metrics, all named execution_ingest_…, in a Registry of their own.
import { Counter, Histogram, Registry } from "prom-client";
import { ItemErrorCode } from "../domain/errors.ts";
import type { BatchResult } from "../domain/ingest.ts";
import type { PublishObserver } from "../domain/ports.ts";
import { ApiErrorCode } from "../http/errors.ts";
import { type BuildInfo, type MetricSources, registerGauges } from "./gauges.ts";
import { createRateMeter } from "./rate_meter.ts";

export type { KafkaState } from "./gauges.ts";

const SIZE_BUCKETS = [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];
// The latency alerts' thresholds (10 s and 20 s for batches, 60 s for the publish lag) are bucket
// bounds: histogram_quantile interpolates inside a bucket, so a threshold inside one would fire on
// a guess (deploy/prometheus/alerts.yml).
const SECONDS_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  20,
  30,
];

// Label values are bounded: a method is one of these or OTHER (a client may send any token as a
// method, 4,000 characters long), a status a three-digit code; routes are patterns already.
const KNOWN_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "TRACE",
  "CONNECT",
]);

/** The method as a label value: a standard method as it is, anything else OTHER. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "OTHER";
}

/** The status as a label value: 100 to 599, anything else "other". */
export function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : "other";
}

/** Creates the registry and the recording functions the other layers call. */
export function createMetrics(build: BuildInfo) {
  const registry = new Registry();
  const sources: MetricSources = {};
  const registers = [registry];
  registerGauges(registry, sources, build);

  const httpDuration = new Histogram({
    name: "execution_ingest_http_request_duration_seconds",
    help: "HTTP request duration by method, route pattern and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const received = new Counter({
    name: "execution_ingest_executions_received_total",
    help: "Items received in batches",
    registers,
  });
  const created = new Counter({
    name: "execution_ingest_executions_created_total",
    help: "Executions stored",
    registers,
  });
  const duplicates = new Counter({
    name: "execution_ingest_executions_duplicate_total",
    help: "Items already stored with the same content",
    registers,
  });
  const failed = new Counter({
    name: "execution_ingest_executions_failed_total",
    help: "Items that failed, by error code",
    labelNames: ["code"] as const,
    registers,
  });
  const httpErrors = new Counter({
    name: "execution_ingest_http_errors_total",
    help: "Error responses, by the error code of their envelope",
    labelNames: ["code"] as const,
    registers,
  });
  // Every known code has a series from the start, so that a rate over it has something to read
  // before the first failure.
  for (const code of Object.values(ItemErrorCode)) failed.inc({ code }, 0);
  for (const code of Object.values(ApiErrorCode)) httpErrors.inc({ code }, 0);
  const batchSize = new Histogram({
    name: "execution_ingest_batch_size_items",
    help: "Items per batch request",
    buckets: SIZE_BUCKETS,
    registers,
  });
  const batchDuration = new Histogram({
    name: "execution_ingest_batch_duration_seconds",
    help: "Time to validate, store and judge one batch",
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const insertDuration = new Histogram({
    name: "execution_ingest_db_insert_duration_seconds",
    help: "Duration of one bulk insert statement",
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const insertRows = new Histogram({
    name: "execution_ingest_db_insert_rows",
    help: "Rows per bulk insert statement",
    buckets: SIZE_BUCKETS,
    registers,
  });
  const published = new Counter({
    name: "execution_ingest_kafka_events_published_total",
    help: "Events acknowledged by Kafka",
    registers,
  });
  const publishDuration = new Histogram({
    name: "execution_ingest_kafka_publish_duration_seconds",
    help: "Time from the first send of a batch of events to its acknowledgement, retries included",
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const publishLag = new Histogram({
    name: "execution_ingest_kafka_publish_lag_seconds",
    help: "Time from an execution being stored to its event being acknowledged by Kafka",
    buckets: [...SECONDS_BUCKETS, 60, 300, 900, 3600],
    registers,
  });
  const retries = new Counter({
    name: "execution_ingest_kafka_publish_retries_total",
    help: "Send retries",
    registers,
  });
  const deadLetters = new Counter({
    name: "execution_ingest_kafka_dead_letter_events_total",
    help: "Events kept as dead letters after the last retry",
    registers,
  });
  const unavailable = new Counter({
    name: "execution_ingest_kafka_unavailable_events_total",
    help: "Events handed back to the outbox because Kafka was unreachable after the last retry",
    registers,
  });
  const recordFailures = new Counter({
    name: "execution_ingest_batch_record_failures_total",
    help:
      "Batch records that could not be saved whole: part=failures (kept without its failed items) or part=batch (not kept)",
    labelNames: ["part"] as const,
    registers,
  });
  for (const part of ["failures", "batch"]) recordFailures.inc({ part }, 0);
  const publishRate = createRateMeter();
  const publishObserver: PublishObserver = {
    sent: (seconds) => publishDuration.observe(seconds),
    published(lagSeconds) {
      published.inc(lagSeconds.length);
      publishRate.add(lagSeconds.length);
      for (const lag of lagSeconds) publishLag.observe(lag);
    },
    retried: (count) => retries.inc(count),
    deadLettered: (count) => deadLetters.inc(count),
    unavailable: (count) => unavailable.inc(count),
  };

  return {
    registry,
    publishObserver,
    /** Events this instance published per second over the last minute (for the console). */
    publishRate: () => publishRate.perSecond(),
    /** Points the scrape-time gauges at the live objects. */
    bind(next: MetricSources) {
      Object.assign(sources, next);
    },
    observeHttp(method: string, route: string, status: number, seconds: number) {
      httpDuration.observe(
        { method: methodLabel(method), route, status: statusLabel(status) },
        seconds,
      );
    },
    /** Counts an error response by the code of its envelope. */
    observeError(code: ApiErrorCode) {
      httpErrors.inc({ code });
    },
    observeBatch(result: BatchResult, seconds: number) {
      received.inc(result.total);
      created.inc(result.created);
      duplicates.inc(result.duplicates);
      if (result.failed > 0) {
        const byCode = new Map<string, number>();
        for (const item of result.items) {
          if (item.error) byCode.set(item.error.code, (byCode.get(item.error.code) ?? 0) + 1);
        }
        for (const [code, count] of byCode) failed.inc({ code }, count);
      }
      batchSize.observe(result.total);
      batchDuration.observe(seconds);
    },
    /** A batch's record was saved without its failed items (`failures`) or not at all (`batch`). */
    observeRecordFailure(part: "failures" | "batch") {
      recordFailures.inc({ part });
    },
    observeInsert(rows: number, seconds: number) {
      insertRows.observe(rows);
      insertDuration.observe(seconds);
    },
  };
}

/** The metrics handle. */
export type Metrics = ReturnType<typeof createMetrics>;
