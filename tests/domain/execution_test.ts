// The field registry and what the domain derives from it: the request schema's fields, the record
// types, the public JSON's order, and the generated toRecord against the loop it stands in for.
import assert from "node:assert/strict";
import {
  EXECUTION_FIELDS,
  type ExecutionInput,
  ExecutionInputSchema,
  type ExecutionRecord,
  RECORD_FIELDS,
  type StoredExecution,
  toExecutionJson,
} from "../../src/domain/execution.ts";
import { toRecord, toRecordByLoop, validateExecution } from "../../src/domain/validate.ts";
import { execution } from "../_fakes/fixtures.ts";

// Compile-time (checked by `deno check`, not at run time): what a client sends and what a record
// holds name the same fields.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _sameFields: Same<keyof ExecutionInput, keyof ExecutionRecord> = true;

Deno.test("the request schema has exactly the registry's client fields, in its order", () => {
  assert.deepEqual(
    Object.keys(ExecutionInputSchema.shape),
    RECORD_FIELDS.map((field) => field.name),
  );
  // The server's own fields are never accepted from a client.
  for (const name of ["batchId", "createdAt"]) {
    assert.ok(EXECUTION_FIELDS.some((field) => field.name === name));
    assert.ok(!(name in ExecutionInputSchema.shape), name);
  }
});

Deno.test("every field has its own name and column, and the id comes first", () => {
  const names = EXECUTION_FIELDS.map((field) => field.name);
  const columns = EXECUTION_FIELDS.map((field) => field.column);
  assert.equal(new Set(names).size, names.length);
  assert.equal(new Set(columns).size, columns.length);
  assert.ok(columns.every((column) => /^[a-z][a-z0-9_]*$/.test(column)), "plain SQL names");
  assert.equal(EXECUTION_FIELDS[0].kind, "id");
  assert.equal(EXECUTION_FIELDS.filter((field) => field.kind === "id").length, 1);
});

Deno.test("toExecutionJson follows the registry's order and leaves out absent optional fields", () => {
  const stored = {
    ...toRecordByLoop(validInput({ ...execution(1), comment: undefined }), () => "unused"),
    batchId: "0190c5c2-6f3e-7a10-9d2e-3b4c5d6e7f80",
    createdAt: "2026-11-28T10:00:02.000Z",
  } as StoredExecution;
  const json = toExecutionJson(stored);
  const present = (name: string) => stored[name as keyof StoredExecution] !== null;
  assert.ok(!present("comment"));
  assert.deepEqual(Object.keys(json), EXECUTION_FIELDS.map((f) => f.name).filter(present));
});

Deno.test("the generated toRecord gives what the loop over the registry gives", async (t) => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ["every field set", execution(1)],
    ["only the required fields", {
      testCaseKey: "TC-1",
      status: "PASSED",
      startedAt: "2026-11-28T10:00:00Z",
    }],
    ["an upper-case id and offsets", {
      ...execution(2),
      id: "0195F0E2-7B5C-7A4B-8C3D-1E2F3A4B5C6D",
      startedAt: "2026-11-28T12:00:00.5+02:00",
      finishedAt: "2026-11-28T05:00:01-05:00",
    }],
    ["empty text and an empty object", { ...execution(3), comment: "", attributes: {} }],
  ];
  assert.notEqual(toRecord, toRecordByLoop, "code generation is allowed here");
  for (const [what, raw] of cases) {
    await t.step(what, () => {
      const input = validInput(raw);
      const ids = ["0195f0e2-0000-7000-8000-000000000001", "0195f0e2-0000-7000-8000-000000000001"];
      const generated = toRecord(input, () => ids.pop()!);
      const looped = toRecordByLoop(input, () => ids.pop()!);
      assert.deepEqual(Object.entries(generated), Object.entries(looped));
      assert.equal(ids.length, raw.id === undefined ? 0 : 2, "newId only for an item without id");
    });
  }
});

function validInput(raw: Record<string, unknown>): ExecutionInput {
  const { comment: _, ...rest } = raw;
  const result = validateExecution(raw.comment === undefined ? rest : raw);
  if (!result.ok) throw new Error(`fixture is invalid: ${JSON.stringify(result.details)}`);
  return result.value;
}
