// createApp(deps): the Hono app with its middleware and routes; no I/O of its own, no environment.
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import type { Logger } from "./domain/ports.ts";
import { type AdminRoutesDeps, createAdminRoutes } from "./http/admin_routes.ts";
import { type KeyRing, requireKey } from "./http/auth.ts";
import { type CliRoutesDeps, createCliRoutes } from "./http/cli_routes.ts";
import { createErrorHandler, notFound } from "./http/error_mapper.ts";
import { createExecutionRoutes, type ExecutionRoutesDeps } from "./http/execution_routes.ts";
import { type ConsoleDeps, createConsoleRoutes } from "./http/console/console_routes.tsx";
import { createImportRoutes } from "./http/import_routes.ts";
import { createOpenApiRoutes } from "./http/openapi.ts";
import { createOpsRoutes, type OpsRoutesDeps } from "./http/ops_routes.ts";
import type { Metrics } from "./metrics/metrics.ts";

/** Everything the app needs, built by main.ts (or by a test, with real clients or fakes). */
export interface AppDeps {
  executions: Omit<ExecutionRoutesDeps, "metrics" | "logger">;
  admin: AdminRoutesDeps;
  ops: Omit<OpsRoutesDeps, "registry">;
  keys: KeyRing;
  metrics: Metrics;
  logger: Logger;
  /** The operator console at /console (sessions and publishing); absent, no console. */
  console?: Pick<ConsoleDeps, "sessions" | "publishing" | "formMaxBytes">;
  /** GET /cli/submit.mjs, the built submit CLI; absent, no such route. */
  cli?: CliRoutesDeps;
}

/** Builds the app. */
export function createApp(deps: AppDeps) {
  const { metrics, logger } = deps;
  const app = new Hono();

  app.use(requestId({ limitLength: 128 }));
  app.use(async (c, next) => {
    const began = performance.now();
    await next();
    const seconds = (performance.now() - began) / 1000;
    // The route pattern, not the path, keeps the label's values few.
    const route = c.req.routePath === "/*" ? "unmatched" : c.req.routePath;
    metrics.observeHttp(c.req.method, route, c.res.status, seconds);
    const errorCode = c.get("errorCode");
    if (errorCode) metrics.observeError(errorCode);
    logger.debug({
      requestId: c.get("requestId"),
      method: c.req.method,
      route,
      status: c.res.status,
      durationMs: Math.round(seconds * 1000),
    }, "Request handled");
  });

  app.use("/v1/*", requireKey(deps.keys, "user"));
  app.use("/admin/*", requireKey(deps.keys, "admin"));

  const executions = { ...deps.executions, metrics, logger };
  app.route("/v1", createExecutionRoutes(executions));
  app.route("/v1", createImportRoutes(executions));
  app.route("/admin", createAdminRoutes(deps.admin));
  app.route("/", createOpsRoutes({ ...deps.ops, registry: metrics.registry }));
  app.route("/", createOpenApiRoutes());
  if (deps.cli) app.route("/cli", createCliRoutes(deps.cli));
  if (deps.console) {
    app.route(
      "/console",
      createConsoleRoutes({
        ...deps.console,
        keys: deps.keys,
        batch: executions,
        batches: executions.batches,
      }),
    );
  }

  app.notFound(notFound);
  app.onError(createErrorHandler(logger));
  return app;
}
