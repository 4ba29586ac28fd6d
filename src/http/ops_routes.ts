// Operational routes: liveness, readiness (the database asked at most once per interval, however
// often probes come) and the Prometheus scrape.
import { Hono } from "hono";
import type { Registry } from "prom-client";
import type { KafkaState } from "../metrics/metrics.ts";

/** What readiness reports on each dependency. */
export interface ReadinessReport {
  ready: boolean;
  database: { status: "up" | "down"; migrations: "applied" | "pending" | "unknown" };
  kafka: { status: KafkaState };
  shuttingDown: boolean;
}

/** What the ops routes need: the probes readiness is computed from, and the metrics registry. */
export interface OpsRoutesDeps {
  readiness: ReadinessDeps;
  registry: Registry;
}

/** Creates the ops routes. */
export function createOpsRoutes(deps: OpsRoutesDeps) {
  const app = new Hono();
  const readiness = createReadiness(deps.readiness);
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  // Kafka being down does not make the service unready: batches still succeed and wait in the outbox.
  app.get("/readyz", async (c) => {
    const report = await readiness();
    return c.json(
      { status: report.ready ? "ready" : "not ready", ...report },
      report.ready ? 200 : 503,
    );
  });
  app.get("/metrics", async (c) => {
    const body = await deps.registry.metrics();
    return c.body(body, 200, { "content-type": deps.registry.contentType });
  });
  return app;
}

/** What readiness is computed from. */
export interface ReadinessDeps {
  /** One cheap round trip to the database; rejects when it is down. */
  ping(): Promise<void>;
  /** What the publisher last saw of Kafka (read from memory, never a network call). */
  kafkaStatus(): ReadinessReport["kafka"]["status"];
  shuttingDown(): boolean;
}

/** Options of createReadiness. */
export interface ReadinessOptions {
  /** How long one database answer serves every probe, in milliseconds. @default 1000 */
  cacheMs?: number;
  /** A ping slower than this counts as the database being down, in milliseconds. @default 2000 */
  pingTimeoutMs?: number;
  /** A clock in milliseconds. @default performance.now */
  now?: () => number;
}

/**
 * Creates the readiness check. Migrations are not looked at here: the service does not start
 * until they are applied. The outbox is not counted either (that is a scan of a table that can
 * hold millions of rows); its gauges are on /metrics.
 */
export function createReadiness(deps: ReadinessDeps, options: ReadinessOptions = {}) {
  const cacheMs = options.cacheMs ?? 1000;
  const pingTimeoutMs = options.pingTimeoutMs ?? 2000;
  const now = options.now ?? (() => performance.now());
  let last: { at: number; up: Promise<boolean> } | undefined;

  function databaseUp(): Promise<boolean> {
    // Concurrent probes share the answer in flight, later ones the last answer for cacheMs.
    if (!last || now() - last.at >= cacheMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), pingTimeoutMs);
      });
      const up = Promise.race([deps.ping().then(() => true, () => false), timeout])
        .finally(() => clearTimeout(timer));
      last = { at: now(), up };
    }
    return last.up;
  }

  return async function readiness(): Promise<ReadinessReport> {
    const shuttingDown = deps.shuttingDown();
    const up = await databaseUp();
    return {
      ready: up && !shuttingDown,
      database: { status: up ? "up" : "down", migrations: "applied" },
      kafka: { status: deps.kafkaStatus() },
      shuttingDown,
    };
  };
}
