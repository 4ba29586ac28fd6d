// The service's Prometheus metrics, in a Registry of their own (the global one is never touched).
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { BatchResult } from "../domain/ingest.ts";
import type { PublishObserver } from "../publish/publisher.ts";

/** Outbox counts, as the outbox store reports them. */
interface OutboxStats {
  pending: number;
  failed: number;
  oldestPendingSeconds: number;
}

/** Live sources read at scrape time. */
export interface MetricSources {
  channel?: { size: number; capacity: number };
  pool?: { active: number; waiting: number; size: number };
  outboxStats?: () => Promise<OutboxStats>;
}

const SIZE_BUCKETS = [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];
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
export function createMetrics() {
  const registry = new Registry();
  const sources: MetricSources = {};
  const registers = [registry];

  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration by method, route pattern and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const received = new Counter({
    name: "executions_received_total",
    help: "Items received in batches",
    registers,
  });
  const created = new Counter({
    name: "executions_created_total",
    help: "Executions stored",
    registers,
  });
  const duplicates = new Counter({
    name: "executions_duplicate_total",
    help: "Items already stored with the same content",
    registers,
  });
  const failed = new Counter({
    name: "executions_failed_total",
    help: "Items that failed, by error code",
    labelNames: ["code"] as const,
    registers,
  });
  const batchSize = new Histogram({
    name: "batch_size_items",
    help: "Items per batch request",
    buckets: SIZE_BUCKETS,
    registers,
  });
  const batchDuration = new Histogram({
    name: "batch_duration_seconds",
    help: "Time to validate, store and judge one batch",
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const insertDuration = new Histogram({
    name: "db_insert_duration_seconds",
    help: "Duration of one bulk insert statement",
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const insertRows = new Histogram({
    name: "db_insert_rows",
    help: "Rows per bulk insert statement",
    buckets: SIZE_BUCKETS,
    registers,
  });
  const published = new Counter({
    name: "kafka_events_published_total",
    help: "Events acknowledged by Kafka",
    registers,
  });
  const publishDuration = new Histogram({
    name: "kafka_publish_duration_seconds",
    help: "Time from the first send of a batch of events to its acknowledgement, retries included",
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const publishLag = new Histogram({
    name: "kafka_publish_lag_seconds",
    help: "Time from an execution being stored to its event being acknowledged by Kafka",
    buckets: [...SECONDS_BUCKETS, 60, 300, 900, 3600],
    registers,
  });
  const retries = new Counter({
    name: "kafka_publish_retries_total",
    help: "Send retries",
    registers,
  });
  const deadLetters = new Counter({
    name: "kafka_dead_letters_total",
    help: "Events kept as dead letters after the last retry",
    registers,
  });
  const unavailable = new Counter({
    name: "kafka_unavailable_events_total",
    help: "Events handed back to the outbox because Kafka was unreachable after the last retry",
    registers,
  });
  new Gauge({
    name: "publish_channel_depth_events",
    help: "Events waiting in the in-memory publish channel",
    registers,
    collect() {
      this.set(sources.channel?.size ?? 0);
    },
  });
  new Gauge({
    name: "publish_channel_capacity_events",
    help: "Capacity of the in-memory publish channel",
    registers,
    collect() {
      this.set(sources.channel?.capacity ?? 0);
    },
  });
  new Gauge({
    name: "db_pool_connections_in_use",
    help: "Pool connections running a query",
    registers,
    collect() {
      this.set(sources.pool?.active ?? 0);
    },
  });
  new Gauge({
    name: "db_pool_waiters",
    help: "Queries waiting for a pool connection",
    registers,
    collect() {
      this.set(sources.pool?.waiting ?? 0);
    },
  });
  new Gauge({
    name: "db_pool_connections_max",
    help: "Pool size",
    registers,
    collect() {
      this.set(sources.pool?.size ?? 0);
    },
  });
  // The three outbox series come from one query; a scrape collects them one after another, so
  // the answer is shared for a moment instead of asked three times.
  let outboxAnswer: { at: number; stats: Promise<OutboxStats | undefined> } | undefined;
  const outboxStats = () => {
    if (!sources.outboxStats) return Promise.resolve(undefined);
    if (!outboxAnswer || performance.now() - outboxAnswer.at > 1000) {
      // The database being down leaves the series at their last values rather than failing the scrape.
      outboxAnswer = { at: performance.now(), stats: sources.outboxStats().catch(() => undefined) };
    }
    return outboxAnswer.stats;
  };
  const outboxGauge = (name: string, help: string, pick: (stats: OutboxStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const stats = await outboxStats();
        if (stats) this.set(pick(stats));
      },
    });
  outboxGauge("outbox_pending_events", "Events not yet published", (stats) => stats.pending);
  outboxGauge("outbox_dead_letter_events", "Dead letters kept", (stats) => stats.failed);
  outboxGauge(
    "outbox_oldest_pending_age_seconds",
    "Age of the oldest event not yet published",
    (stats) => stats.oldestPendingSeconds,
  );
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory of the service process",
    registers,
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });

  const publishObserver: PublishObserver = {
    published(count, sendSeconds, lagSeconds) {
      published.inc(count);
      publishDuration.observe(sendSeconds);
      for (const lag of lagSeconds) publishLag.observe(lag);
    },
    retried: (count) => retries.inc(count),
    deadLettered: (count) => deadLetters.inc(count),
    unavailable: (count) => unavailable.inc(count),
  };

  return {
    registry,
    publishObserver,
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
    observeInsert(rows: number, seconds: number) {
      insertRows.observe(rows);
      insertDuration.observe(seconds);
    },
  };
}

/** The metrics handle. */
export type Metrics = ReturnType<typeof createMetrics>;
