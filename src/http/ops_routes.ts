// Operational routes: liveness, readiness and the Prometheus scrape.
import { Hono } from "hono";
import type { Registry } from "prom-client";

/** What readiness reports on each dependency. */
export interface ReadinessReport {
  ready: boolean;
  database: { status: "up" | "down"; migrations: "applied" | "pending" | "unknown" };
  kafka: { status: "up" | "down" | "unknown" | "disabled" };
  shuttingDown: boolean;
}

/** What the ops routes need. */
export interface OpsRoutesDeps {
  readiness(): Promise<ReadinessReport>;
  registry: Registry;
}

/** Creates the ops routes. */
export function createOpsRoutes(deps: OpsRoutesDeps) {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  // Kafka being down does not make the service unready: batches still succeed and wait in the outbox.
  app.get("/readyz", async (c) => {
    const report = await deps.readiness();
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
