// Deterministic execution ids (UUIDv5): the same execution posted again gets the same id, so a
// re-upload answers "duplicate" instead of storing it twice.
import { v5 as uuidv5 } from "uuid";

/** The UUIDv5 namespace of execution ids; changing it would change every derived id. */
export const EXECUTION_ID_NAMESPACE = "42b53704-eb77-4a60-a512-323ee2686d23";

/** The fields that identify an execution (all but `testCaseKey` and `startedAt` may be absent). */
export interface IdentifyingFields {
  testCaseKey?: unknown;
  startedAt?: unknown;
  cycleKey?: unknown;
  environment?: unknown;
}

/**
 * The name hashed for an execution's id: the JSON array
 * `[testCaseKey, startedAt in UTC as YYYY-MM-DDTHH:mm:ss.sssZ, cycleKey or null, environment or null, n]`,
 * where `n` counts the earlier executions of the same upload with the same four values, from 0.
 * Undefined when the fields cannot identify anything (such a row fails validation anyway).
 */
export function idName(fields: IdentifyingFields, occurrence: number): string | undefined {
  const { testCaseKey, startedAt, cycleKey, environment } = fields;
  if (typeof testCaseKey !== "string" || typeof startedAt !== "string") return undefined;
  const instant = Date.parse(startedAt);
  if (Number.isNaN(instant)) return undefined;
  const optional = (value: unknown) => typeof value === "string" ? value : null;
  return JSON.stringify([
    testCaseKey,
    new Date(instant).toISOString(),
    optional(cycleKey),
    optional(environment),
    occurrence,
  ]);
}

/**
 * Creates the id rule of one upload (one report, one input file): each call gives the next
 * execution's UUIDv5, counting repeats of the same identifying fields, or undefined (see idName).
 */
export function createIdAssigner(): (fields: IdentifyingFields) => string | undefined {
  const seen = new Map<string, number>();
  return (fields) => {
    const key = idName(fields, 0);
    if (key === undefined) return undefined;
    const occurrence = seen.get(key) ?? 0;
    seen.set(key, occurrence + 1);
    return uuidv5(occurrence === 0 ? key : idName(fields, occurrence)!, EXECUTION_ID_NAMESPACE);
  };
}

/**
 * The row with its deterministic id (first, as in the public JSON) from `assign`; a row that has an
 * id keeps it, and one that cannot be named stays as it is, for validation to refuse.
 */
export function withDerivedId<Row extends Record<string, unknown>>(
  row: Row,
  assign: ReturnType<typeof createIdAssigner>,
): Row {
  if (row.id !== undefined) return row;
  const id = assign(row);
  return id === undefined ? row : { id, ...row };
}
