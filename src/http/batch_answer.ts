// How every batch-shaped request is answered (JSON, NDJSON, JUnit XML): one slot of the batch
// limiter, the ingest use case, then 200, 207, 422 or 503 with the same bodies and codes.
import type { Context } from "hono";
import { ItemErrorCode } from "../domain/errors.ts";
import type { BatchResult } from "../domain/ingest.ts";
import type { Logger } from "../domain/ports.ts";
import { type Limiter, SaturatedError } from "../limiter.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { BatchLimits, BodyReaderDeps } from "./batch_body.ts";
import { ApiError, ApiErrorCode } from "./errors.ts";

/** What answering a batch needs. */
export interface BatchAnswerDeps {
  /** The ingest use case; it reads its own settings (chunk size, chunks side by side). */
  ingest(items: readonly unknown[], options: { uploadedBy: string | null }): Promise<BatchResult>;
  /** Bounds the batches handled at once; the rest wait in its queue or get 503. */
  batchLimiter: Limiter;
  /** Holds a batch back a little while publishing is behind (PUBLISH_BACKLOG_MAX). */
  pace?: { wait(): Promise<number> };
  /** Bytes of bodies held across requests, and whether shutdown began (see batch_body.ts). */
  bodies: Omit<BodyReaderDeps, "logger">;
  /** The limits of one request's body. */
  limits: BatchLimits;
  metrics: Metrics;
  logger: Logger;
}

/** The HTTP status of a batch answer: 200 all fine, 207 mixed, 422 all rejected, 503 nothing storable now. */
export function batchStatus(result: BatchResult): 200 | 207 | 422 | 503 {
  if (result.failed === 0) return 200;
  if (result.created + result.duplicates > 0) return 207;
  const unavailable = result.items.some((item) =>
    item.error?.code === ItemErrorCode.STORAGE_UNAVAILABLE
  );
  return unavailable ? 503 : 422;
}

/**
 * Takes a limiter slot, ingests the items read from the request and counts and logs the batch;
 * the `bytes` they hold in the budget are given back once it is stored. Throws ApiError 503 when
 * the service is saturated or nothing could be stored. The API routes and the console share it.
 */
export async function ingestBatch(
  c: Context,
  deps: BatchAnswerDeps,
  read: { items: readonly unknown[]; bytes: number },
): Promise<BatchResult> {
  const { items, bytes } = read;
  let answer: { result: BatchResult; seconds: number };
  try {
    // Before a slot is taken: a batch held back for publishing to catch up holds no slot.
    await deps.pace?.wait();
    answer = await deps.batchLimiter.run(async () => {
      const began = performance.now();
      const result = await deps.ingest(items, { uploadedBy: c.get("caller").keyId });
      return { result, seconds: (performance.now() - began) / 1000 };
    });
  } catch (error) {
    if (!(error instanceof SaturatedError)) throw error;
    throw new ApiError(
      503,
      ApiErrorCode.SERVICE_SATURATED,
      "The service is busy with other batches; retry later",
    );
  } finally {
    // The parsed items live as long as the batch: their bytes are held until it is stored.
    deps.bodies.budget.give(bytes);
  }
  const { result, seconds } = answer;
  deps.metrics.observeBatch(result, seconds);
  const status = batchStatus(result);
  deps.logger.info({
    requestId: c.get("requestId"),
    route: c.req.routePath,
    batchId: result.batchId,
    total: result.total,
    created: result.created,
    duplicates: result.duplicates,
    failed: result.failed,
    durationMs: Math.round(seconds * 1000),
    status,
  }, "Batch handled");
  if (status === 503) {
    throw new ApiError(
      503,
      ApiErrorCode.STORAGE_UNAVAILABLE,
      "The database is unavailable or busy; nothing was stored. Retry the whole batch later",
    );
  }
  return result;
}

/**
 * Reads the request's items with `read`, then ingests them (ingestBatch) and answers.
 * `read` returns the body's bytes it took from the budget. `present` turns the result into the
 * body (the JUnit import adds each testCaseKey).
 */
export async function answerBatch<Body extends BatchResult>(
  c: Context,
  deps: BatchAnswerDeps,
  read: (limits: BatchLimits) => Promise<{ items: readonly unknown[]; bytes: number }>,
  present: (result: BatchResult) => Body,
): Promise<Response> {
  // The body is read before a slot is taken: a slow client holds bytes of the budget and its
  // own deadline, never one of the BATCH_MAX_CONCURRENT slots that storing needs.
  const result = await ingestBatch(c, deps, await read(deps.limits));
  const status = batchStatus(result);
  const body = present(result);
  if (status !== 422) return c.json(body, status as 200 | 207);
  // Every item rejected: the error mapper answers, with the batch's answer beside the envelope.
  const allValidation = result.items.every((item) =>
    item.error?.code === ItemErrorCode.VALIDATION_FAILED
  );
  throw allValidation
    ? new ApiError(
      422,
      ApiErrorCode.VALIDATION_FAILED,
      "Every execution failed validation; see items[].error",
      { body },
    )
    : new ApiError(
      422,
      ApiErrorCode.ITEMS_REJECTED,
      "Every execution was rejected; see items[].error",
      { body },
    );
}
