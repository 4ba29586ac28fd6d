// The executions table as the store writes and reads it, derived from the domain's EXECUTION_FIELDS:
// the insert's column list, casts and array literals, and the row mapping.
import {
  EXECUTION_FIELDS,
  type ExecutionRecord,
  type FieldKind,
  RECORD_FIELDS,
  type StoredExecution,
} from "../domain/execution.ts";
import { plainArray, textArray } from "./pg_array.ts";

/** The PostgreSQL type each kind of field is stored as. */
export const COLUMN_TYPES: Readonly<Record<FieldKind, string>> = {
  id: "uuid",
  uuid: "uuid",
  text: "text",
  enum: "text",
  timestamp: "timestamptz",
  integer: "int4",
  json: "jsonb",
};

type Values = ReadonlyArray<unknown>;

// uuids, ISO timestamps, enum words and integers never need quoting in an array literal; free text
// does, and jsonb goes in as JSON text, cast text[] -> jsonb[] by the server.
const plain = (values: Values) => plainArray(values as ReadonlyArray<string | number | null>);
const quoted = (values: Values) => textArray(values as ReadonlyArray<string | null>);
const json = (values: Values) =>
  textArray(values.map((value) => (value === null ? null : JSON.stringify(value))));
const LITERALS: Readonly<Record<FieldKind, (values: Values) => string>> = {
  id: plain,
  uuid: plain,
  enum: plain,
  timestamp: plain,
  integer: plain,
  text: quoted,
  json,
};
const arrayCast = (kind: FieldKind) =>
  kind === "json" ? "text[]::jsonb[]" : `${COLUMN_TYPES[kind]}[]`;

const NAMES = RECORD_FIELDS.map((field) => field.name);
const ENCODERS = RECORD_FIELDS.map((field) => LITERALS[field.kind]);

/** The columns an insert fills from a record, in RECORD_FIELDS order (batch_id and created_at aside). */
export const INSERT_COLUMNS: readonly string[] = RECORD_FIELDS.map((field) => field.column);

/**
 * `$first::uuid[], $next::text[], …`: the unnest arguments for the literals of encodeColumns, as
 * numbered parameters from `first` on.
 */
export function unnestArguments(first: number): string {
  return RECORD_FIELDS.map((field, i) => `$${first + i}::${arrayCast(field.kind)}`).join(", ");
}

/**
 * Bytes an event takes beyond its column values: field names, JSON punctuation, its batchId and
 * createdAt (set by the insert) and the CloudEvents headers; measured on small events, where it
 * matters most.
 * Added per event to the length of its column values, it estimates the encoded event's size.
 */
export const EVENT_OVERHEAD_BYTES = 400;

/**
 * The estimated size of the events of `records`, from their column literals (encodeColumns): the
 * characters of their values, which the insert sends anyway, plus EVENT_OVERHEAD_BYTES each. No
 * event is encoded to measure it; within a few percent of the JSON for ASCII text.
 */
export function estimateBytes(columns: readonly string[], rows: number): number {
  let bytes = rows * EVENT_OVERHEAD_BYTES;
  for (const column of columns) bytes += column.length;
  return bytes;
}

/** The insert's columns as PostgreSQL array literals, in INSERT_COLUMNS order; one pass over the records. */
export function encodeColumns(records: readonly ExecutionRecord[]): string[] {
  const n = records.length;
  const columns = NAMES.map(() => new Array<unknown>(n));
  for (let i = 0; i < n; i++) {
    const record = records[i] as Record<string, unknown>;
    for (let c = 0; c < NAMES.length; c++) columns[c][i] = record[NAMES[c]];
  }
  return columns.map((values, c) => ENCODERS[c](values));
}

/**
 * The column beside the fields: the fingerprint of the key that stored the row (migration 0006),
 * which decides who may read it and is never part of the execution's JSON or event.
 */
export const OWNER_COLUMN = { column: "uploaded_by", type: "text", nullable: true } as const;

/**
 * The select list that reads an executions row as a StoredExecution: each column under its field's
 * name (`test_case_key as "testCaseKey"`), so the row needs no mapping afterwards.
 */
export const EXECUTION_SELECT = EXECUTION_FIELDS.map((field) =>
  field.column === field.name ? field.column : `${field.column} as "${field.name}"`
).join(", ");

/**
 * A row read with EXECUTION_SELECT, as the domain's StoredExecution: timestamps arrive as exact ISO
 * strings (the pool's parser, db/timestamp.ts) and jsonb parsed, so it is taken as it is.
 */
export function rowToExecution(row: Record<string, unknown>): StoredExecution {
  return row as StoredExecution;
}
