// The /v1 routes: post a batch, read one execution, read a batch's counts.
import { Hono } from "hono";
import { ApiError, ApiErrorCode } from "../domain/errors.ts";
import { type StoredExecution, toExecutionJson } from "../domain/execution.ts";
import type { BatchStatus } from "../domain/ports.ts";
import { answerBatch, type BatchAnswerDeps } from "./batch_answer.ts";
import { readBatch } from "./batch_body.ts";

/** What the /v1 routes need. */
export interface ExecutionRoutesDeps extends BatchAnswerDeps {
  getExecution(id: string): Promise<StoredExecution | undefined>;
  getBatch(id: string): Promise<BatchStatus | undefined>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function requireUuid(value: string, what: string) {
  if (!UUID.test(value)) {
    throw new ApiError(
      400,
      ApiErrorCode.INVALID_PARAMETER,
      `Cannot look up ${what} "${value.slice(0, 64)}": not a UUID`,
    );
  }
  return value.toLowerCase();
}

/** Creates the /v1 routes. */
export function createExecutionRoutes(deps: ExecutionRoutesDeps) {
  const app = new Hono();

  app.post(
    "/executions/batch",
    (c) =>
      answerBatch(
        c,
        deps,
        (limits) => readBatch(c, limits, { ...deps.bodies, logger: deps.logger }),
        (result) => result,
      ),
  );

  app.get("/executions/:id", async (c) => {
    const id = requireUuid(c.req.param("id"), "execution");
    const execution = await deps.getExecution(id);
    if (!execution) {
      throw new ApiError(404, ApiErrorCode.NOT_FOUND, `Cannot find execution "${id}"`);
    }
    return c.json(toExecutionJson(execution));
  });

  app.get("/batches/:batchId", async (c) => {
    const id = requireUuid(c.req.param("batchId"), "batch");
    const batch = await deps.getBatch(id);
    if (!batch) throw new ApiError(404, ApiErrorCode.NOT_FOUND, `Cannot find batch "${id}"`);
    return c.json(batch);
  });

  return app;
}
