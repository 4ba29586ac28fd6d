// The deterministic id rule: what it hashes, that equal instants give equal ids, and repeats.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { v5 as uuidv5 } from "uuid";
import {
  createIdAssigner,
  EXECUTION_ID_NAMESPACE,
  idName,
  idScope,
  withDerivedId,
} from "../../src/domain/execution_id.ts";

const fields = {
  testCaseKey: "LOGIN-001",
  startedAt: "2026-11-28T10:15:00+01:00",
  cycleKey: "CYCLE-1",
  environment: "staging",
};

Deno.test("the id is the UUIDv5 of [testCaseKey, startedAt in UTC, cycleKey, environment, n]", () => {
  assert.equal(
    idName(fields, 0),
    '["LOGIN-001","2026-11-28T09:15:00.000Z","CYCLE-1","staging",0]',
  );
  assert.equal(
    idName({ testCaseKey: "A", startedAt: "2026-11-28T09:15:00Z" }, 2),
    '["A","2026-11-28T09:15:00.000Z",null,null,2]',
  );
  const id = createIdAssigner()(fields);
  assert.equal(id, uuidv5(idName(fields, 0)!, EXECUTION_ID_NAMESPACE));
  // Pinned (Python's uuid.uuid5 gives the same): changing the rule or namespace changes every id.
  assert.equal(id, "4251fce8-792c-50e2-b1b7-62769042d3d5");
});

Deno.test("the same instant written with another offset gives the same id; another field another id", () => {
  const a = createIdAssigner()(fields);
  const b = createIdAssigner()({ ...fields, startedAt: "2026-11-28T09:15:00.000Z" });
  const c = createIdAssigner()({ ...fields, environment: "prod" });
  assert.equal(a, b);
  assert.notEqual(a, c);
});

Deno.test("repeats of the same fields in one upload get distinct ids, the same ones every time", () => {
  const first = createIdAssigner();
  const again = createIdAssigner();
  const ids = [first(fields), first(fields), first({ ...fields, testCaseKey: "X" }), first(fields)];
  assert.equal(new Set(ids).size, 4);
  assert.deepEqual([
    again(fields),
    again(fields),
    again({ ...fields, testCaseKey: "X" }),
    again(fields),
  ], ids);
});

Deno.test("rows with an id keep it; rows that cannot be identified get none", () => {
  // One assigner across the rows, as the CLI (per file) and the import route (per report) use it.
  const assign = createIdAssigner();
  const rows = ([
    { id: "11111111-1111-4111-8111-111111111111", ...fields },
    { ...fields },
    { testCaseKey: "A" },
    { testCaseKey: "A", startedAt: "not a date" },
    { testCaseKey: 42, startedAt: fields.startedAt },
  ] as Record<string, unknown>[]).map((row) => withDerivedId(row, assign));
  assert.equal(rows[0].id, "11111111-1111-4111-8111-111111111111");
  assert.equal(
    rows[1].id,
    createIdAssigner()(fields),
    "the explicit id does not count as a repeat",
  );
  assert.deepEqual(Object.keys(rows[1])[0], "id", "the id comes first");
  assert.deepEqual(rows.slice(2).map((row) => "id" in row), [false, false, false]);
});

Deno.test("with an API key the name starts with the key's id scope, so each key derives its own ids", () => {
  const scope = idScope("key-a");
  assert.equal(
    scope,
    createHash("sha256").update("execution-ingest id scope\0key-a").digest("hex"),
    "the documented formula",
  );
  assert.equal(
    idName(fields, 1, scope),
    `["${scope}","LOGIN-001","2026-11-28T09:15:00.000Z","CYCLE-1","staging",1]`,
  );
  const a = createIdAssigner(scope)(fields);
  assert.equal(a, uuidv5(idName(fields, 0, scope)!, EXECUTION_ID_NAMESPACE));
  assert.notEqual(a, createIdAssigner(idScope("key-b"))(fields), "another key, another id");
  assert.notEqual(a, createIdAssigner()(fields), "not the id of an upload without a key");
  assert.equal(createIdAssigner(null)(fields), "4251fce8-792c-50e2-b1b7-62769042d3d5");
  assert.equal(createIdAssigner(idScope("key-a"))(fields), a, "the same key, the same id");
});
