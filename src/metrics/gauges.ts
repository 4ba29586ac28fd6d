// The gauges read at scrape time (channel, pool, outbox, Kafka, memory) and the static build gauges.
import { Gauge, type Registry } from "prom-client";
import type { OutboxStats } from "../db/outbox_store.ts";

/** What the publisher last learnt of Kafka; `disabled` when no brokers are configured. */
export type KafkaState = "up" | "down" | "unknown" | "disabled";

/** Live sources read at scrape time; main.ts binds them once they exist. */
export interface MetricSources {
  channel?: { size: number; capacity: number };
  pool?: { active: number; waiting: number; size: number };
  outboxStats?: () => Promise<OutboxStats>;
  kafkaState?: () => KafkaState;
}

/** What the build gauge reports. */
export interface BuildInfo {
  /** The service's version (deno.json `version`). */
  version: string;
  /** The Kafka client library in use, for example `kafkajs`. */
  kafkaClient: string;
}

/** Registers the scrape-time and build gauges on `registry`, reading `sources` at each scrape. */
export function registerGauges(registry: Registry, sources: MetricSources, build: BuildInfo) {
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });

  new Gauge({
    name: "execution_ingest_build_info",
    help: "Always 1; the labels say which build runs",
    labelNames: ["version", "deno_version", "kafka_client"] as const,
    registers,
  }).set({
    version: build.version,
    deno_version: Deno.version.deno,
    kafka_client: build.kafkaClient,
  }, 1);
  // performance.timeOrigin is when this process started, in Unix milliseconds.
  new Gauge({
    name: "execution_ingest_process_start_time_seconds",
    help: "Start time of the process since the Unix epoch, in seconds",
    registers,
  }).set(Math.round(performance.timeOrigin) / 1000);
  gauge(
    "execution_ingest_process_resident_memory_bytes",
    "Resident memory of the service process",
    () => Deno.memoryUsage().rss,
  );
  gauge(
    "execution_ingest_process_heap_used_bytes",
    "JavaScript heap in use by the HTTP thread (the publishing worker has a heap of its own)",
    () => Deno.memoryUsage().heapUsed,
  );
  gauge(
    "execution_ingest_process_heap_total_bytes",
    "JavaScript heap reserved by the HTTP thread",
    () => Deno.memoryUsage().heapTotal,
  );

  // Unknown (no send since start) and disabled (no brokers) are NaN: neither up nor down, so an
  // alert on `== 0` stays silent and a dashboard shows no value rather than a false one.
  gauge(
    "execution_ingest_kafka_up",
    "1 while the publisher's circuit breaker is closed and sends succeed, 0 while it is open (Kafka unreachable), NaN before the first send or with publishing off",
    () => {
      const state = sources.kafkaState?.() ?? "disabled";
      return state === "up" ? 1 : state === "down" ? 0 : NaN;
    },
  );

  gauge(
    "execution_ingest_publish_channel_depth_events",
    "Events waiting in the in-memory publish channel",
    () => sources.channel?.size ?? 0,
  );
  gauge(
    "execution_ingest_publish_channel_capacity_events",
    "Capacity of the in-memory publish channel",
    () => sources.channel?.capacity ?? 0,
  );
  gauge(
    "execution_ingest_db_pool_active_connections",
    "Pool connections running a statement",
    () => sources.pool?.active ?? 0,
  );
  gauge(
    "execution_ingest_db_pool_waiting_queries",
    "Statements waiting for a pool connection",
    () => sources.pool?.waiting ?? 0,
  );
  gauge("execution_ingest_db_pool_max_connections", "Pool size", () => sources.pool?.size ?? 0);

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
  outboxGauge(
    "execution_ingest_outbox_pending_events",
    "Events not yet published",
    (stats) => stats.pending,
  );
  outboxGauge(
    "execution_ingest_outbox_dead_letter_events",
    "Dead letters kept",
    (stats) => stats.failed,
  );
  outboxGauge(
    "execution_ingest_outbox_oldest_pending_age_seconds",
    "Age of the oldest event not yet published",
    (stats) => stats.oldestPendingSeconds,
  );
}
