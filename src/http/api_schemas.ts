// Zod schemas of the bodies no route parses with zod (the batch envelope, every response), with
// typed examples; the OpenAPI document is generated from them.
import { z } from "zod";
import { ItemErrorCode } from "../domain/errors.ts";
import { ExecutionInputSchema } from "../domain/execution.ts";
import type { BatchResult } from "../domain/ingest.ts";
import type { BatchStatus, FailurePage } from "../domain/ports.ts";
import { MAX_DETAILS_PER_ITEM } from "../domain/validate.ts";
import type { DeadLetterView } from "./admin_routes.ts";
import { ApiErrorCode } from "./errors.ts";
import type { ReadinessReport } from "./ops_routes.ts";

/** A markdown table of codes for a description; typed so that a new code cannot go undocumented. */
function codeTable<Code extends string>(rows: Record<Code, [when: string, meaning: string]>) {
  const lines = Object.entries<[string, string]>(rows).map(([code, [when, meaning]]) =>
    `| \`${code}\` | ${when} | ${meaning} |`
  );
  return ["| Code | Where | Meaning |", "| --- | --- | --- |", ...lines].join("\n");
}

const count = () => z.int().min(0);

/** Body of POST /v1/executions/batch as JSON; read by batch_body.ts, each item by ExecutionInputSchema. */
export const BatchRequestSchema = z.strictObject({
  executions: z.array(ExecutionInputSchema).min(1).describe(
    "1 to BATCH_MAX_ITEMS (default 10,000) executions. Each item is validated on its own: an " +
      "invalid item fails in its verdict and does not fail the request.",
  ),
});

/** One problem with one field of an item. */
export const ValidationDetailSchema = z.strictObject({
  path: z.string().describe('Dotted path of the field, or "" for the item itself.'),
  message: z.string(),
});

/** Why one item failed. */
export const ItemErrorSchema = z.strictObject({
  code: z.enum(ItemErrorCode).describe(codeTable<ItemErrorCode>({
    VALIDATION_FAILED: ["item", "The item breaks a rule; `details` name the fields."],
    DUPLICATE_IN_BATCH: ["item", "The id appears earlier in the same request."],
    ID_CONFLICT: ["item", "The id is already stored with different content."],
    STORAGE_FAILED: ["item", "The database refused this item; the rest of its chunk is stored."],
    STORAGE_UNAVAILABLE: ["item", "The database could not be reached or was busy; retry later."],
  })),
  message: z.string(),
  details: z.array(ValidationDetailSchema).max(MAX_DETAILS_PER_ITEM).optional().describe(
    `For VALIDATION_FAILED: at most ${MAX_DETAILS_PER_ITEM} problems.`,
  ),
});

/** The verdict on one request item. */
export const ItemVerdictSchema = z.strictObject({
  index: z.int().min(0).describe("Position of the item in the request."),
  id: z.string().max(64).nullable().describe(
    "The id stored (sent, or a UUIDv7 the server assigned); for an invalid item the id it was " +
      "sent with, or null.",
  ),
  status: z.enum(["created", "duplicate", "failed"]),
  error: ItemErrorSchema.optional().describe("Present when status is failed."),
});

/** The answer to a batch: counts and one verdict per item, in request order. */
export const BatchResponseSchema = z.strictObject({
  batchId: z.uuid(),
  total: count(),
  created: count(),
  duplicates: count(),
  failed: count(),
  items: z.array(ItemVerdictSchema),
});

/** The error object inside every error envelope. */
export const ApiErrorSchema = z.strictObject({
  code: z.enum(ApiErrorCode).describe(codeTable<ApiErrorCode>({
    INVALID_BODY: [
      "400",
      "Not a batch: not JSON or UTF-8, no or empty `executions`, extra field; or not a JUnit " +
      "report: malformed XML (with line and column), a DOCTYPE or entity, no `<testcase>`.",
    ],
    INVALID_PARAMETER: [
      "400",
      "A path or query parameter is malformed (an id that is no UUID, a bad `startedAt`).",
    ],
    UNAUTHORIZED: ["401", "No API key, or one that is not configured."],
    FORBIDDEN: ["403", "A user key on an admin route."],
    NOT_FOUND: ["404", "No such route, execution or batch."],
    BODY_READ_TIMEOUT: ["408", "The body did not arrive within BATCH_READ_TIMEOUT_MS."],
    TOO_MANY_ITEMS: ["413", "More than BATCH_MAX_ITEMS executions or testcases; split the batch."],
    PAYLOAD_TOO_LARGE: [
      "413",
      "A body over BATCH_MAX_BYTES; split the batch. A JUnit report over 200,000 elements, with " +
      "an attribute value over 1,048,576 characters or an element with over 1,000 attributes.",
    ],
    TOO_MANY_VALUES: [
      "413",
      "More than BATCH_MAX_VALUES values (objects, arrays and their elements) in one body; split the batch.",
    ],
    UNSUPPORTED_MEDIA_TYPE: [
      "415",
      "Send application/json or application/x-ndjson (a JUnit report: application/xml, text/xml).",
    ],
    VALIDATION_FAILED: ["422", "Every item failed validation; see `items[].error`."],
    ITEMS_REJECTED: ["422", "Every item failed, not all by validation; see `items[].error`."],
    INTERNAL_ERROR: ["500", "A bug on our side; the request id finds it in the log."],
    STORAGE_UNAVAILABLE: ["503", "The database is unreachable or busy; retry after Retry-After."],
    SERVICE_SATURATED: [
      "503",
      "Too many batches, or bytes of bodies, at once; retry after Retry-After.",
    ],
    UPLOAD_INTERRUPTED: [
      "503",
      "The body stopped arriving (or shutdown cut it); nothing stored; retry after Retry-After.",
    ],
    CLI_NOT_BUILT: ["503", "GET /cli/submit.mjs: the server has no CLI bundle; run build:cli."],
  })),
  message: z.string(),
  requestId: z.string().describe("The X-Request-Id of the request (yours, if you sent one)."),
});

/** The body of every error response. */
export const ErrorEnvelopeSchema = z.strictObject({ error: ApiErrorSchema });

/** The 422 answer: the batch answer plus the error envelope's field. */
export const BatchRejectedSchema = BatchResponseSchema.extend({ error: ApiErrorSchema });

/** An execution as stored; fields that were not sent are left out. */
export const StoredExecutionSchema = z.strictObject({
  ...ExecutionInputSchema.shape,
  id: z.uuid(),
  batchId: z.uuid().describe("The batch that stored it."),
  createdAt: z.iso.datetime(),
}).describe("A stored execution; timestamps in UTC with milliseconds.");

/** A batch's counts and where its events stand. */
export const BatchSchema = z.strictObject({
  batchId: z.uuid(),
  total: count(),
  created: count(),
  duplicates: count(),
  failed: count(),
  failuresNotKept: count().describe(
    "Failed items counted but not kept with the batch: it keeps its first BATCH_FAILURES_KEPT.",
  ),
  receivedAt: z.iso.datetime(),
  completedAt: z.iso.datetime(),
  events: z.strictObject({
    published: count().describe("Acknowledged by Kafka."),
    pending: count().describe("Waiting in the outbox."),
    failed: count().describe("Dead letters: see /admin/dead-letters."),
  }).describe("The Kafka events of the executions this batch created."),
});

/** One failed item of a batch, as kept with the batch (never its payload). */
export const BatchFailureSchema = z.strictObject({
  index: ItemVerdictSchema.shape.index,
  id: ItemVerdictSchema.shape.id,
  code: ItemErrorSchema.shape.code,
  message: z.string(),
  details: ItemErrorSchema.shape.details,
});

/** GET /v1/batches/{batchId}: a batch, and a page of its failed items. */
export const BatchViewSchema = BatchSchema.extend({
  failures: z.strictObject({
    items: z.array(BatchFailureSchema).describe("Failed items in index order: at most `limit`."),
    nextAfter: z.int().min(0).nullable().describe(
      "Pass as `after` for the next page; null on the last page.",
    ),
  }).describe("The batch's failed items, paged."),
});

/** GET /v1/batches: recent batches, newest first. */
export const BatchListSchema = z.strictObject({
  batches: z.array(BatchSchema),
  nextBefore: z.uuid().nullable().describe(
    "Pass as `before` for the next page; null on the last page.",
  ),
});

/** The query of GET /v1/batches/{batchId}: which page of failed items. */
export const BatchQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe(
    "Most failed items to return.",
  ),
  // An item index is a PostgreSQL integer: a larger one is the client's mistake, not an outage.
  after: z.coerce.number().int().min(0).max(2_147_483_647).optional().describe(
    "Only failed items with an index above this one: the previous page's `nextAfter`.",
  ),
});

/** The query of GET /v1/batches: which page of recent batches. */
export const BatchListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe("Most batches to return."),
  before: z.uuid().optional().describe(
    "Only batches older than this one: the previous page's `nextBefore`.",
  ),
});

/** An event that failed its last publish attempt. */
export const DeadLetterSchema = z.strictObject({
  executionId: z.uuid(),
  batchId: z.uuid(),
  attempts: count(),
  lastError: z.string().nullable(),
  createdAt: z.iso.datetime(),
});

/** The answer to GET /admin/dead-letters, oldest first. */
export const DeadLettersSchema = z.strictObject({ deadLetters: z.array(DeadLetterSchema) });

/** The answer to POST /admin/dead-letters/requeue. */
export const RequeueResponseSchema = z.strictObject({
  requeued: count().describe("Dead letters made pending again."),
});

/** The answer to GET /healthz. */
export const HealthSchema = z.strictObject({ status: z.literal("ok") });

/** The answer to GET /readyz (200 when ready, 503 when not). */
export const ReadinessSchema = z.strictObject({
  status: z.enum(["ready", "not ready"]),
  ready: z.boolean().describe(
    "Database reachable (asked at most once a second), migrations applied (checked at " +
      "start-up), not shutting down.",
  ),
  database: z.strictObject({
    status: z.enum(["up", "down"]),
    migrations: z.enum(["applied", "pending", "unknown"]),
  }),
  kafka: z.strictObject({
    status: z.enum(["up", "down", "unknown", "disabled"]).describe(
      "Kafka being down does not make the service unready: events wait in the outbox.",
    ),
  }),
  shuttingDown: z.boolean(),
});

// Compile-time guards: every value the routes send must fit the schema documented for it.
type Assert<T extends true> = T;
type Fits<Value, Schema extends z.ZodType> = [Value] extends [z.output<Schema>] ? true : false;
type _RoutesSendWhatIsDocumented = [
  Assert<Fits<BatchResult, typeof BatchResponseSchema>>,
  Assert<Fits<BatchStatus, typeof BatchSchema>>,
  Assert<Fits<BatchStatus & { failures: FailurePage }, typeof BatchViewSchema>>,
  Assert<Fits<{ batches: BatchStatus[]; nextBefore: string | null }, typeof BatchListSchema>>,
  Assert<Fits<DeadLetterView, typeof DeadLetterSchema>>,
  Assert<Fits<ReadinessReport & { status: "ready" | "not ready" }, typeof ReadinessSchema>>,
];

/** The batch id of the examples. */
export const BATCH_ID = "01a224c2-c5b6-7307-9901-786faacb39f4";
const EXECUTION_ID = "0190c5c2-6f3e-7a10-9d2e-3b4c5d6e7f80";
/** The request id of the examples. */
export const REQUEST_ID = "9b6ac8e8-2375-48c4-bac6-5854851c70b7";

// The README's curl sends this execution too. Every request example that carries an id carries it
// with exactly this content, so that "Try it out" succeeds (created or duplicate, never ID_CONFLICT)
// whatever was sent before; the other items leave the id to the server.
const LOGIN_001 = {
  id: EXECUTION_ID,
  testCaseKey: "LOGIN-001",
  status: "PASSED",
  startedAt: "2026-11-28T10:15:00+01:00",
  finishedAt: "2026-11-28T10:15:02.250+01:00",
  durationMs: 2250,
  environment: "staging",
} as const;

// The second item of the README's curl: one verdict's error, and what its batch keeps of it.
const INVALID_ITEM_ERROR: z.input<typeof ItemErrorSchema> = {
  code: "VALIDATION_FAILED",
  message: "Cannot accept execution at index 1: 2 problems (see details)",
  details: [
    {
      path: "status",
      message: "must be one of PASSED, FAILED, BLOCKED, SKIPPED, IN_PROGRESS, NOT_EXECUTED",
    },
    {
      path: "startedAt",
      message: "must be an RFC 3339 timestamp with an offset, such as 2026-11-28T10:15:00Z",
    },
  ],
};

// One batch as both GET /v1/batches/{batchId} and GET /v1/batches show it.
const BATCH: z.input<typeof BatchSchema> = {
  batchId: BATCH_ID,
  total: 2,
  created: 1,
  duplicates: 0,
  failed: 1,
  failuresNotKept: 0,
  receivedAt: "2026-11-28T09:15:03.100Z",
  completedAt: "2026-11-28T09:15:03.120Z",
  events: { published: 1, pending: 0, failed: 0 },
};

/** Examples for the document, typed by their schemas (and checked against them by a test). */
export const examples = {
  batchRequest: {
    executions: [
      LOGIN_001,
      {
        testCaseKey: "LOGIN-002",
        status: "FAILED",
        startedAt: "2026-11-28T10:16:00Z",
        attributes: { build: 1842, browser: "firefox" },
      },
    ],
  },
  batchWithInvalidItem: {
    executions: [
      LOGIN_001,
      { testCaseKey: "LOGIN-002", status: "GREEN", startedAt: "yesterday" },
    ],
  },
  ndjsonRequest: [
    JSON.stringify(LOGIN_001),
    `{"testCaseKey":"LOGIN-002","status":"FAILED","startedAt":"2026-11-28T10:16:00Z"}`,
    "",
  ].join("\n"),
  batchCreated: {
    batchId: BATCH_ID,
    total: 2,
    created: 1,
    duplicates: 1,
    failed: 0,
    items: [
      { index: 0, id: EXECUTION_ID, status: "created" },
      { index: 1, id: "0190c5c2-6f3e-7a10-9d2e-3b4c5d6e7f81", status: "duplicate" },
    ],
  },
  batchMixed: {
    batchId: BATCH_ID,
    total: 2,
    created: 1,
    duplicates: 0,
    failed: 1,
    items: [
      { index: 0, id: EXECUTION_ID, status: "created" },
      {
        index: 1,
        id: null,
        status: "failed",
        error: INVALID_ITEM_ERROR,
      },
    ],
  },
  batchRejected: {
    batchId: BATCH_ID,
    total: 1,
    created: 0,
    duplicates: 0,
    failed: 1,
    items: [{
      index: 0,
      id: EXECUTION_ID,
      status: "failed",
      error: {
        code: "ID_CONFLICT",
        message:
          `Cannot store execution "${EXECUTION_ID}": that id is already stored with other content`,
      },
    }],
    error: {
      code: "ITEMS_REJECTED",
      message: "Every execution was rejected; see items[].error",
      requestId: REQUEST_ID,
    },
  },
  batchAllInvalid: {
    batchId: BATCH_ID,
    total: 1,
    created: 0,
    duplicates: 0,
    failed: 1,
    items: [{
      index: 0,
      id: null,
      status: "failed",
      error: {
        code: "VALIDATION_FAILED",
        message: "Cannot accept execution at index 0: 1 problem (see details)",
        details: [{ path: "testCaseKey", message: "is required" }],
      },
    }],
    error: {
      code: "VALIDATION_FAILED",
      message: "Every execution failed validation; see items[].error",
      requestId: REQUEST_ID,
    },
  },
  storedExecution: {
    id: EXECUTION_ID,
    batchId: BATCH_ID,
    testCaseKey: "LOGIN-001",
    status: "PASSED",
    startedAt: "2026-11-28T09:15:00.000Z",
    finishedAt: "2026-11-28T09:15:02.250Z",
    durationMs: 2250,
    environment: "staging",
    createdAt: "2026-11-28T09:15:03.104Z",
  },
  batchView: {
    ...BATCH,
    failures: { items: [{ index: 1, id: null, ...INVALID_ITEM_ERROR }], nextAfter: null },
  },
  batchList: { batches: [BATCH], nextBefore: null },
  deadLetters: {
    deadLetters: [{
      executionId: EXECUTION_ID,
      batchId: BATCH_ID,
      attempts: 4,
      lastError: "KafkaJSNumberOfRetriesExceeded: Connection timeout",
      createdAt: "2026-11-28T09:15:03.104Z",
    }],
  },
  readiness: {
    status: "ready",
    ready: true,
    database: { status: "up", migrations: "applied" },
    kafka: { status: "up" },
    shuttingDown: false,
  },
} satisfies {
  batchRequest: z.input<typeof BatchRequestSchema>;
  batchWithInvalidItem: unknown;
  ndjsonRequest: string;
  batchCreated: z.input<typeof BatchResponseSchema>;
  batchMixed: z.input<typeof BatchResponseSchema>;
  batchRejected: z.input<typeof BatchRejectedSchema>;
  batchAllInvalid: z.input<typeof BatchRejectedSchema>;
  storedExecution: z.input<typeof StoredExecutionSchema>;
  batchView: z.input<typeof BatchViewSchema>;
  batchList: z.input<typeof BatchListSchema>;
  deadLetters: z.input<typeof DeadLettersSchema>;
  readiness: z.input<typeof ReadinessSchema>;
};

/** An error envelope example. */
export function errorExample(
  code: ApiErrorCode,
  message: string,
): z.input<typeof ErrorEnvelopeSchema> {
  return { error: { code, message, requestId: REQUEST_ID } };
}
