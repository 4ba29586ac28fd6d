// Deterministic execution ids (UUIDv5): the same execution posted again with the same API key gets
// the same id, so a re-upload answers "duplicate" instead of storing it twice; another key's ids
// cannot be foreseen, so no key can take the ids another key's uploads will derive.
import { createHash } from "node:crypto";
import { v5 as uuidv5 } from "uuid";

/** The UUIDv5 namespace of execution ids; changing it would change every derived id. */
export const EXECUTION_ID_NAMESPACE = "42b53704-eb77-4a60-a512-323ee2686d23";

/**
 * The id scope of an API key: the hex SHA-256 of "execution-ingest id scope", a NUL and the key.
 * Only a holder of the key can compute it (it is never stored or shown, and its label differs from
 * the fingerprint's), and the service and the submit CLI compute it alike.
 */
export function idScope(apiKey: string): string {
  return createHash("sha256").update("execution-ingest id scope\0").update(apiKey).digest("hex");
}

/** The fields that identify an execution (all but `testCaseKey` and `startedAt` may be absent). */
export interface IdentifyingFields {
  testCaseKey?: unknown;
  startedAt?: unknown;
  cycleKey?: unknown;
  environment?: unknown;
}

/**
 * The name hashed for an execution's id: the JSON array
 * `[scope, testCaseKey, startedAt in UTC as YYYY-MM-DDTHH:mm:ss.sssZ, cycleKey or null, environment or null, n]`,
 * where `scope` is the uploading key's idScope (left out, not null, for an upload without a key)
 * and `n` counts the earlier executions of the same upload with the same identifying values, from 0.
 * Undefined when the fields cannot identify anything (such a row fails validation anyway).
 */
export function idName(
  fields: IdentifyingFields,
  occurrence: number,
  scope?: string | null,
): string | undefined {
  const { testCaseKey, startedAt, cycleKey, environment } = fields;
  if (typeof testCaseKey !== "string" || typeof startedAt !== "string") return undefined;
  const instant = Date.parse(startedAt);
  if (Number.isNaN(instant)) return undefined;
  const optional = (value: unknown) => typeof value === "string" ? value : null;
  return JSON.stringify([
    ...(scope ? [scope] : []),
    testCaseKey,
    new Date(instant).toISOString(),
    optional(cycleKey),
    optional(environment),
    occurrence,
  ]);
}

/**
 * Creates the id rule of one upload (one report, one input file) sent with the key whose idScope is
 * `scope` (none without a key): each call gives the next execution's UUIDv5, counting repeats of
 * the same identifying fields, or undefined (see idName).
 */
export function createIdAssigner(
  scope?: string | null,
): (fields: IdentifyingFields) => string | undefined {
  const seen = new Map<string, number>();
  return (fields) => {
    const key = idName(fields, 0, scope);
    if (key === undefined) return undefined;
    const occurrence = seen.get(key) ?? 0;
    seen.set(key, occurrence + 1);
    const name = occurrence === 0 ? key : idName(fields, occurrence, scope)!;
    return uuidv5(name, EXECUTION_ID_NAMESPACE);
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
