// deno bench, no services: the per-item work around the insert (validate + toRecord, the insert's
// array literals, the row mapping), for 1,000 items each, to compare code paths without a database.
import { v7 as uuidv7 } from "uuid";
import { encodeColumns, rowToExecution } from "../src/db/execution_columns.ts";
import type { ExecutionRecord } from "../src/domain/execution.ts";
import { toRecord, validateExecution } from "../src/domain/validate.ts";
import { executions } from "../tests/_helpers.ts";

const N = 1000;
const items = executions(N);
const inputs = items.map((raw) => {
  const checked = validateExecution(raw);
  if (!checked.ok) throw new Error(`bench item is invalid: ${checked.details[0].message}`);
  return checked.value;
});
const records: ExecutionRecord[] = inputs.map((input) => toRecord(input, uuidv7));
// Rows as postgres.js hands them over from the store's select list, jsonb already parsed.
const rows = records.map((r) => ({
  ...r,
  batchId: "0190c5c2-6f3e-7a10-9d2e-3b4c5d6e7f80",
  createdAt: "2026-11-28T10:00:02.000Z",
}));

// Results are kept, so the optimiser cannot drop the work measured.
const sink: unknown[] = new Array(N);

Deno.bench({
  name: "validateExecution + toRecord, 1,000 items",
  group: "per item",
  fn() {
    for (let i = 0; i < N; i++) {
      const checked = validateExecution(items[i]);
      if (checked.ok) sink[i] = toRecord(checked.value, uuidv7);
    }
  },
});

Deno.bench({
  name: "toRecord alone, 1,000 validated items",
  group: "per item",
  fn() {
    for (let i = 0; i < N; i++) sink[i] = toRecord(inputs[i], uuidv7);
  },
});

Deno.bench({
  name: "encodeColumns: the insert's array literals for 1,000 records",
  group: "per item",
  fn() {
    sink[0] = encodeColumns(records);
  },
});

Deno.bench({
  name: "rowToExecution, 1,000 rows",
  group: "per item",
  fn() {
    for (let i = 0; i < N; i++) sink[i] = rowToExecution(rows[i]);
  },
});
