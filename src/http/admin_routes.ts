// The /admin routes: inspect dead letters and put them back in the publishing queue.
import { Hono } from "hono";
import { z } from "zod";
import { ApiError, ApiErrorCode } from "./errors.ts";

/** A dead letter as the admin API shows it. */
export interface DeadLetterView {
  executionId: string;
  batchId: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

/** What the admin routes need. */
export interface AdminRoutesDeps {
  listDeadLetters(limit: number): Promise<DeadLetterView[]>;
  requeue(ids?: readonly string[]): Promise<number>;
}

/** Body of POST /admin/dead-letters/requeue: some ids, or none for all. */
export const RequeueRequestSchema = z.strictObject({
  ids: z.array(z.uuid()).min(1).max(10_000).optional().describe(
    "Execution ids; omit to re-queue every dead letter.",
  ),
});

/** Creates the /admin routes. */
export function createAdminRoutes(deps: AdminRoutesDeps) {
  const app = new Hono();

  app.get("/dead-letters", async (c) => {
    const limit = Number(c.req.query("limit") ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new ApiError(
        400,
        ApiErrorCode.INVALID_PARAMETER,
        "limit must be a whole number from 1 to 1000",
      );
    }
    return c.json({ deadLetters: await deps.listDeadLetters(limit) });
  });

  app.post("/dead-letters/requeue", async (c) => {
    const text = await c.req.text();
    let json: unknown = {};
    try {
      if (text.trim().length > 0) json = JSON.parse(text);
    } catch {
      throw new ApiError(400, ApiErrorCode.INVALID_BODY, "Cannot parse the body as JSON");
    }
    const parsed = RequeueRequestSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ApiError(
        400,
        ApiErrorCode.INVALID_BODY,
        `Invalid body at "${issue.path.join(".")}": ${issue.message}`,
      );
    }
    const requeued = await deps.requeue(parsed.data.ids);
    return c.json({ requeued });
  });

  return app;
}
