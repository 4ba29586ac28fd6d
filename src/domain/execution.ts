// An execution's fields, declared once (EXECUTION_FIELDS): the request schema, the record types,
// the public JSON, and through them the store's columns and the CLI's CSV cells derive from it.
import { z } from "zod";
import { attributes, ATTRIBUTES_MAX_BYTES, text, timestamp } from "./execution_rules.ts";

/** Statuses an execution can have; stored as text and checked by the database too. */
export const EXECUTION_STATUSES = [
  "PASSED",
  "FAILED",
  "BLOCKED",
  "SKIPPED",
  "IN_PROGRESS",
  "NOT_EXECUTED",
] as const;
export type ExecutionStatus = typeof EXECUTION_STATUSES[number];

/**
 * What a field holds. The kind decides the rest: how the client's value is normalised (an id in
 * lower case or assigned by the server, a timestamp in UTC with milliseconds), how two values
 * compare (JSON by content, key order aside; the id not at all: it is what is compared for), the
 * column's type and array literal (db/execution_columns.ts) and how a CSV cell is read (cli/).
 */
export type FieldKind = "id" | "uuid" | "text" | "enum" | "timestamp" | "integer" | "json";

/** One field of an execution. */
export interface FieldSpec {
  /** Its name in the API's JSON, in records and events, and as a CSV column. */
  readonly name: string;
  /** Its column in the executions table. */
  readonly column: string;
  readonly kind: FieldKind;
  /** Never null once stored (the column is NOT NULL); optional fields are null when absent. */
  readonly required: boolean;
  /** The rule a client's value must meet; absent for fields the server sets when it stores. */
  readonly input?: z.ZodType;
}

/** Every field of a stored execution, in the order of its public JSON. */
export const EXECUTION_FIELDS = [
  {
    name: "id",
    column: "id",
    kind: "id",
    required: true,
    input: z.uuid({ message: "must be a UUID" }).optional().describe(
      "Client-chosen idempotency key. When absent the server assigns a time-ordered UUIDv7.",
    ),
  },
  { name: "batchId", column: "batch_id", kind: "uuid", required: true },
  {
    name: "testCaseKey",
    column: "test_case_key",
    kind: "text",
    required: true,
    input: text(255, { min: 1 }).describe("Key of the test case that was executed."),
  },
  {
    name: "status",
    column: "status",
    kind: "enum",
    required: true,
    input: z.enum(EXECUTION_STATUSES, {
      message: `must be one of ${EXECUTION_STATUSES.join(", ")}`,
    }),
  },
  {
    name: "startedAt",
    column: "started_at",
    kind: "timestamp",
    required: true,
    input: timestamp.describe("RFC 3339 timestamp with offset; stored with millisecond precision."),
  },
  {
    name: "finishedAt",
    column: "finished_at",
    kind: "timestamp",
    required: false,
    input: timestamp.optional().describe("Not before startedAt."),
  },
  {
    name: "durationMs",
    column: "duration_ms",
    kind: "integer",
    required: false,
    input: z.number({ message: "must be a number (a finite one)" }).int("must be an integer")
      .min(0, "must be at least 0").max(2147483647, "must be at most 2147483647").optional(),
  },
  {
    name: "cycleKey",
    column: "cycle_key",
    kind: "text",
    required: false,
    input: text(255).optional(),
  },
  {
    name: "environment",
    column: "environment",
    kind: "text",
    required: false,
    input: text(100).optional(),
  },
  {
    name: "executedBy",
    column: "executed_by",
    kind: "text",
    required: false,
    input: text(255).optional().describe("Personal data: never logged."),
  },
  {
    name: "comment",
    column: "comment",
    kind: "text",
    required: false,
    input: text(4000, { multiLine: true }).optional().describe("May be sensitive: never logged."),
  },
  {
    name: "attributes",
    column: "attributes",
    kind: "json",
    required: false,
    input: attributes.optional().describe(
      `Free-form JSON object, at most ${ATTRIBUTES_MAX_BYTES} bytes serialised.`,
    ),
  },
  { name: "createdAt", column: "created_at", kind: "timestamp", required: true },
] as const satisfies readonly FieldSpec[];

type Field = typeof EXECUTION_FIELDS[number];
/** The fields a client sends: those with an input rule. */
type ClientField = Extract<Field, { input: z.ZodType }>;
type KindValue = { uuid: string; timestamp: string };
type ValueOf<F extends Field> = F extends ClientField ? Exclude<z.output<F["input"]>, undefined>
  : KindValue[Extract<F["kind"], keyof KindValue>];
type Shape<F extends Field> = {
  -readonly [K in F as K["name"]]: K["required"] extends true ? ValueOf<K> : ValueOf<K> | null;
};

/** A validated execution with its id decided and timestamps normalised to UTC, ready to store. */
export type ExecutionRecord = Shape<ClientField>;
/** An execution as stored: what GET returns and what the Kafka event carries. */
export type StoredExecution = Shape<Field>;

/** The fields a record carries, in order: what a client sends, and what the insert's arrays hold. */
export const RECORD_FIELDS: readonly ClientField[] = EXECUTION_FIELDS.filter(
  (field): field is ClientField => "input" in field,
);

const shape = Object.fromEntries(RECORD_FIELDS.map((field) => [field.name, field.input])) as {
  [F in ClientField as F["name"]]: F["input"];
};

/** One execution as a client sends it (validates requests and feeds the OpenAPI document). */
export const ExecutionInputSchema = z.strictObject(shape).superRefine((value, ctx) => {
  if (
    value.finishedAt !== undefined && value.startedAt !== undefined &&
    Date.parse(value.finishedAt) < Date.parse(value.startedAt)
  ) {
    ctx.addIssue({ code: "custom", path: ["finishedAt"], message: "must not be before startedAt" });
  }
}).describe("One test execution.");

/** An execution that passed validation, as the client sent it. */
export type ExecutionInput = z.infer<typeof ExecutionInputSchema>;

const PUBLIC_NAMES: ReadonlyArray<keyof StoredExecution> = EXECUTION_FIELDS.map((f) => f.name);

/** The public JSON form of a stored execution, in one field order; absent optional fields are left out. */
export function toExecutionJson(execution: StoredExecution): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const key of PUBLIC_NAMES) {
    const value = execution[key];
    if (value !== null && value !== undefined) json[key] = value;
  }
  return json;
}
