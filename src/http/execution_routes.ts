// The /v1 routes: post a batch, read one execution, list batches, read a batch and its failed items.
import { type Context, Hono } from "hono";
import type { z } from "zod";
import { toExecutionJson } from "../domain/execution.ts";
import type { BatchReader, OwnedBatch, OwnedExecution } from "../domain/ports.ts";
import { BatchListQuerySchema, BatchQuerySchema } from "./api_schemas.ts";
import { listedUploader, mayRead } from "./auth.ts";
import { answerBatch, type BatchAnswerDeps } from "./batch_answer.ts";
import { readBatch } from "./batch_body.ts";
import { ApiError, ApiErrorCode } from "./errors.ts";
import { parseQuery, UUID_PATTERN } from "./query_params.ts";

/** What the /v1 routes need. */
export interface ExecutionRoutesDeps extends BatchAnswerDeps {
  getExecution(id: string): Promise<OwnedExecution | undefined>;
  batches: BatchReader;
}

/** A batch as the API shows it: who sent it stays inside. */
export function batchView({ uploadedBy: _, ...batch }: OwnedBatch) {
  return batch;
}

function readQuery<T extends z.ZodType>(c: Context, schema: T): z.infer<T> {
  return parseQuery(schema, c.req.query(), "it is not known here");
}

function requireUuid(value: string, what: string) {
  if (!UUID_PATTERN.test(value)) {
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
    // Another key's execution is answered as its batch is: as if it did not exist.
    if (!execution || !mayRead(c.get("caller"), execution)) {
      throw new ApiError(404, ApiErrorCode.NOT_FOUND, `Cannot find execution "${id}"`);
    }
    return c.json(toExecutionJson(execution));
  });

  app.get("/batches", async (c) => {
    const query = readQuery(c, BatchListQuerySchema);
    const caller = c.get("caller");
    const page = await deps.batches.listBatches({
      limit: query.limit,
      before: query.before?.toLowerCase(),
      uploadedBy: listedUploader(caller),
    });
    return c.json({ batches: page.batches.map(batchView), nextBefore: page.nextBefore });
  });

  app.get("/batches/:batchId", async (c) => {
    const id = requireUuid(c.req.param("batchId"), "batch");
    const query = readQuery(c, BatchQuerySchema);
    const batch = await deps.batches.getBatch(id);
    // Another key's batch is answered as if it did not exist: its id says nothing.
    if (!batch || !mayRead(c.get("caller"), batch)) {
      throw new ApiError(404, ApiErrorCode.NOT_FOUND, `Cannot find batch "${id}"`);
    }
    const failures = await deps.batches.listFailures(id, query);
    return c.json({ ...batchView(batch), failures });
  });

  return app;
}
