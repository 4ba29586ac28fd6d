// Validation of one raw item into a storable record, with a bounded list of field-level details.
import { type ExecutionInput, ExecutionInputSchema, type ExecutionRecord } from "./execution.ts";

/** At most this many details are reported for one item, however many problems it has. */
export const MAX_DETAILS_PER_ITEM = 20;

/** One problem with one field of an item. */
export interface ValidationDetail {
  /** Dotted path of the field, or "" for the item itself. */
  path: string;
  message: string;
}

/** The outcome of validating one item. */
export type Validated =
  | { ok: true; value: ExecutionInput }
  | { ok: false; details: ValidationDetail[] };

/** Validates one raw item; never throws, and never reports more than MAX_DETAILS_PER_ITEM details. */
export function validateExecution(raw: unknown): Validated {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    const got = raw === null ? "null" : Array.isArray(raw) ? "an array" : `a ${typeof raw}`;
    return { ok: false, details: [{ path: "", message: `must be a JSON object, got ${got}` }] };
  }
  const result = ExecutionInputSchema.safeParse(raw);
  if (result.success) return { ok: true, value: result.data };
  const details: ValidationDetail[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        if (details.length >= MAX_DETAILS_PER_ITEM) break;
        details.push({ path: joinPath([...issue.path, key]), message: "is not a known field" });
      }
    } else {
      // zod reports a missing field as a type error; the raw item tells "absent" from "wrong".
      const missing = issue.path.length === 1 && !Object.hasOwn(raw, issue.path[0] as string);
      details.push({
        path: joinPath(issue.path),
        message: missing ? "is required" : issue.message,
      });
    }
    if (details.length >= MAX_DETAILS_PER_ITEM) break;
  }
  return { ok: false, details };
}

function joinPath(path: PropertyKey[]): string {
  return path.map(String).join(".");
}

/** Turns a validated execution into the record to store: id decided, times in UTC. */
export function toRecord(input: ExecutionInput, newId: () => string): ExecutionRecord {
  return {
    id: input.id?.toLowerCase() ?? newId(),
    testCaseKey: input.testCaseKey,
    status: input.status,
    startedAt: utc(input.startedAt),
    finishedAt: input.finishedAt === undefined ? null : utc(input.finishedAt),
    durationMs: input.durationMs ?? null,
    cycleKey: input.cycleKey ?? null,
    environment: input.environment ?? null,
    executedBy: input.executedBy ?? null,
    comment: input.comment ?? null,
    attributes: input.attributes ?? null,
  };
}

// Most clients already send UTC with milliseconds; those strings are kept without a Date round trip.
const CANONICAL_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function utc(timestamp: string): string {
  return CANONICAL_UTC.test(timestamp) ? timestamp : new Date(timestamp).toISOString();
}

/**
 * True when two records hold the same execution, the id aside: a resubmission rather than a
 * conflict. Attributes compare as JSON with sorted keys, so their key order does not matter.
 */
export function sameContent(a: ExecutionRecord, b: ExecutionRecord): boolean {
  return a.testCaseKey === b.testCaseKey && a.status === b.status &&
    a.startedAt === b.startedAt && a.finishedAt === b.finishedAt &&
    a.durationMs === b.durationMs && a.cycleKey === b.cycleKey &&
    a.environment === b.environment && a.executedBy === b.executedBy &&
    a.comment === b.comment && canonicalJson(a.attributes) === canonicalJson(b.attributes);
}

/** JSON with object keys sorted at every level, so equal content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value).sort().map((key) =>
      `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`
    );
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
