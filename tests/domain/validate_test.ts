// validateExecution over every rule of ExecutionInputSchema, and toRecord's normalising and comparing.
import assert from "node:assert/strict";
import {
  type ExecutionInput,
  ExecutionInputSchema,
  type FieldKind,
  RECORD_FIELDS,
} from "../../src/domain/execution.ts";
import {
  MAX_DETAILS_PER_ITEM,
  sameContent,
  toRecord,
  validateExecution,
  type ValidationDetail,
} from "../../src/domain/validate.ts";

const RFC3339 = "must be an RFC 3339 timestamp with an offset, such as 2026-11-28T10:15:00Z";
const STATUS = "must be one of PASSED, FAILED, BLOCKED, SKIPPED, IN_PROGRESS, NOT_EXECUTED";
const ONE_LINE = "must not contain control characters such as NUL, tab or line breaks";
const MULTI_LINE = "must not contain control characters such as NUL (tab, CR and LF are allowed)";
const NUL = "must not contain NUL characters";
const TOO_DEEP = "must not nest deeper than 32 levels";
const TOO_BIG = "must be at most 16384 bytes when serialised as JSON";
const LONE_SURROGATE =
  "must not contain a lone UTF-16 surrogate (an unpaired \\ud800 to \\udfff escape)";
const AFTER_9999 = "must be in year 9999 or earlier in UTC";
/** A value of the wrong type is not a missing field: any message but "is required". */
const WRONG_TYPE = /^(?!is required$).+/;

/** An item with every field set and valid. */
const VALID = {
  id: "0195f0e2-7b5c-7a4b-8c3d-1e2f3a4b5c6d",
  testCaseKey: "TC-1",
  status: "PASSED",
  startedAt: "2026-11-28T10:00:00.000Z",
  finishedAt: "2026-11-28T10:00:01.500Z",
  durationMs: 1500,
  cycleKey: "CYCLE-1",
  environment: "ci",
  executedBy: "someone@example.com",
  comment: "first line\nsecond line",
  attributes: { build: 42, browser: "firefox", tags: ["smoke", "login"] },
};

/** VALID with some fields replaced (a value of `undefined` removes the field). */
function item(patch: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...VALID, ...patch };
  for (const [key, value] of Object.entries(patch)) if (value === undefined) delete result[key];
  return result;
}

/** `{a: {a: ... leaf}}` with `objects` nested objects around `leaf` (undefined: the innermost is `{}`). */
function nested(objects: number, leaf?: unknown): Record<string, unknown> {
  let value: unknown = leaf === undefined ? {} : { a: leaf };
  for (let i = 1; i < objects; i++) value = { a: value };
  return value as Record<string, unknown>;
}

/** An array of `count` zeros: many small values that make the size estimate run ahead of the real size. */
const zeros = (count: number) => new Array(count).fill(0);

interface Row {
  name: string;
  item: unknown;
  /** Omitted: the item is valid. Otherwise the one detail the item must produce. */
  expect?: { path: string; message: string | RegExp };
}

const ROWS: Row[] = [
  // id
  { name: "a lower-case UUID id is accepted", item: item({}) },
  {
    name: "an upper-case UUID id is accepted",
    item: item({ id: "0195F0E2-7B5C-7A4B-8C3D-1E2F3A4B5C6D" }),
  },
  { name: "an item without an id is accepted", item: item({ id: undefined }) },
  {
    name: "an id that is not a UUID is refused",
    item: item({ id: "not-a-uuid" }),
    expect: { path: "id", message: "must be a UUID" },
  },
  {
    name: "an id that is a number is a type error",
    item: item({ id: 5 }),
    expect: { path: "id", message: WRONG_TYPE },
  },

  // testCaseKey
  {
    name: "a testCaseKey of 255 characters is accepted",
    item: item({ testCaseKey: "k".repeat(255) }),
  },
  {
    name: "a testCaseKey of 256 characters is refused",
    item: item({ testCaseKey: "k".repeat(256) }),
    expect: { path: "testCaseKey", message: "must be at most 255 characters" },
  },
  {
    name: "an empty testCaseKey is refused",
    item: item({ testCaseKey: "" }),
    expect: { path: "testCaseKey", message: "must be at least 1 character" },
  },
  {
    name: "a missing testCaseKey is required",
    item: item({ testCaseKey: undefined }),
    expect: { path: "testCaseKey", message: "is required" },
  },
  {
    name: "a testCaseKey that is a number is a type error, not a missing field",
    item: item({ testCaseKey: 5 }),
    expect: { path: "testCaseKey", message: WRONG_TYPE },
  },
  {
    name: "a testCaseKey that is null is a type error, not a missing field",
    item: item({ testCaseKey: null }),
    expect: { path: "testCaseKey", message: WRONG_TYPE },
  },

  // status
  ...["PASSED", "FAILED", "BLOCKED", "SKIPPED", "IN_PROGRESS", "NOT_EXECUTED"].map((status) => ({
    name: `status ${status} is accepted`,
    item: item({ status }),
  })),
  {
    name: "an unknown status is refused with the list of statuses",
    item: item({ status: "GREEN" }),
    expect: { path: "status", message: STATUS },
  },
  {
    name: "a status in lower case is refused",
    item: item({ status: "passed" }),
    expect: { path: "status", message: STATUS },
  },
  {
    name: "a status that is a number is refused",
    item: item({ status: 1 }),
    expect: { path: "status", message: WRONG_TYPE },
  },
  {
    name: "a missing status is required",
    item: item({ status: undefined }),
    expect: { path: "status", message: "is required" },
  },

  // startedAt and finishedAt
  { name: "a startedAt in UTC (Z) is accepted", item: item({ startedAt: "2026-11-28T10:00:00Z" }) },
  {
    name: "a startedAt with a positive offset is accepted",
    item: item({ startedAt: "2026-11-28T11:00:00+01:00", finishedAt: undefined }),
  },
  {
    name: "a startedAt with a negative offset and fractional seconds is accepted",
    item: item({ startedAt: "2026-11-28T04:30:00.123456-05:30", finishedAt: undefined }),
  },
  {
    name: "a startedAt without an offset is refused",
    item: item({ startedAt: "2026-11-28T10:00:00" }),
    expect: { path: "startedAt", message: RFC3339 },
  },
  {
    name: "a startedAt that is only a date is refused",
    item: item({ startedAt: "2026-11-28" }),
    expect: { path: "startedAt", message: RFC3339 },
  },
  {
    name: "a startedAt that is not a timestamp at all gets only the format message",
    item: item({ startedAt: "yesterday" }),
    expect: { path: "startedAt", message: RFC3339 },
  },
  {
    name: "a startedAt that is a number is a type error, not a missing field",
    item: item({ startedAt: 1764324000000 }),
    expect: { path: "startedAt", message: WRONG_TYPE },
  },
  {
    name: "a missing startedAt is required",
    item: item({ startedAt: undefined }),
    expect: { path: "startedAt", message: "is required" },
  },
  {
    name: "a startedAt in year 0000 is refused",
    item: item({ startedAt: "0000-06-01T00:00:00Z", finishedAt: undefined }),
    expect: { path: "startedAt", message: "must be in year 0001 or later" },
  },
  {
    name: "a startedAt in year 0001 that is year 0000 in UTC is refused",
    item: item({ startedAt: "0001-01-01T00:30:00+01:00", finishedAt: undefined }),
    expect: { path: "startedAt", message: "must be in year 0001 or later" },
  },
  {
    name: "a startedAt at the very start of year 0001 is accepted",
    item: item({ startedAt: "0001-01-01T00:00:00Z", finishedAt: undefined }),
  },
  {
    name: "a startedAt at the very end of year 9999 in UTC is accepted",
    item: item({ startedAt: "9999-12-31T23:59:59.999Z", finishedAt: undefined }),
  },
  {
    name: "a startedAt in year 9999 that is year 10000 in UTC is refused",
    item: item({ startedAt: "9999-12-31T23:30:00-01:00", finishedAt: undefined }),
    expect: { path: "startedAt", message: AFTER_9999 },
  },
  {
    name: "a finishedAt in year 9999 that is year 10000 in UTC is refused",
    item: item({ finishedAt: "9999-12-31T23:59:59.999-00:01" }),
    expect: { path: "finishedAt", message: AFTER_9999 },
  },
  {
    name: "a finishedAt without an offset is refused",
    item: item({ finishedAt: "2026-11-28T10:00:01" }),
    expect: { path: "finishedAt", message: RFC3339 },
  },
  {
    name: "a finishedAt that is null is a type error, not a missing field",
    item: item({ finishedAt: null }),
    expect: { path: "finishedAt", message: WRONG_TYPE },
  },
  {
    name: "a finishedAt before startedAt is refused",
    item: item({ finishedAt: "2026-11-28T09:59:59.999Z" }),
    expect: { path: "finishedAt", message: "must not be before startedAt" },
  },
  {
    name: "a finishedAt later on the wall clock but earlier in UTC is refused",
    item: item({ finishedAt: "2026-11-28T11:30:00+02:00" }),
    expect: { path: "finishedAt", message: "must not be before startedAt" },
  },
  {
    name: "a finishedAt earlier on the wall clock but later in UTC is accepted",
    item: item({ finishedAt: "2026-11-28T09:30:00-02:00" }),
  },
  {
    name: "a finishedAt equal to startedAt is accepted",
    item: item({ finishedAt: VALID.startedAt }),
  },

  // durationMs
  { name: "a durationMs of 0 is accepted", item: item({ durationMs: 0 }) },
  { name: "a durationMs of 2147483647 is accepted", item: item({ durationMs: 2147483647 }) },
  {
    name: "a negative durationMs is refused",
    item: item({ durationMs: -1 }),
    expect: { path: "durationMs", message: "must be at least 0" },
  },
  {
    name: "a fractional durationMs is refused as not an integer",
    item: item({ durationMs: 1.5 }),
    expect: { path: "durationMs", message: "must be an integer" },
  },
  {
    name: "a durationMs of 2147483648 is refused",
    item: item({ durationMs: 2147483648 }),
    expect: { path: "durationMs", message: "must be at most 2147483647" },
  },
  {
    name: "a durationMs sent as a string is a type error, not a missing field",
    item: item({ durationMs: "1500" }),
    expect: { path: "durationMs", message: WRONG_TYPE },
  },

  // The other text fields
  { name: "a cycleKey of 255 characters is accepted", item: item({ cycleKey: "c".repeat(255) }) },
  {
    name: "a cycleKey of 256 characters is refused",
    item: item({ cycleKey: "c".repeat(256) }),
    expect: { path: "cycleKey", message: "must be at most 255 characters" },
  },
  {
    name: "a cycleKey that is a number is a type error, not a missing field",
    item: item({ cycleKey: 7 }),
    expect: { path: "cycleKey", message: WRONG_TYPE },
  },
  {
    name: "an environment of 100 characters is accepted",
    item: item({ environment: "e".repeat(100) }),
  },
  {
    name: "an environment of 101 characters is refused",
    item: item({ environment: "e".repeat(101) }),
    expect: { path: "environment", message: "must be at most 100 characters" },
  },
  {
    name: "an environment that is an object is a type error, not a missing field",
    item: item({ environment: { name: "ci" } }),
    expect: { path: "environment", message: WRONG_TYPE },
  },
  {
    name: "an executedBy of 255 characters is accepted",
    item: item({ executedBy: "x".repeat(255) }),
  },
  {
    name: "an executedBy of 256 characters is refused",
    item: item({ executedBy: "x".repeat(256) }),
    expect: { path: "executedBy", message: "must be at most 255 characters" },
  },
  {
    name: "an executedBy that is a boolean is a type error, not a missing field",
    item: item({ executedBy: true }),
    expect: { path: "executedBy", message: WRONG_TYPE },
  },
  { name: "a comment of 4000 characters is accepted", item: item({ comment: "c".repeat(4000) }) },
  {
    name: "a comment of 4001 characters is refused",
    item: item({ comment: "c".repeat(4001) }),
    expect: { path: "comment", message: "must be at most 4000 characters" },
  },
  {
    name: "a comment that is an array is a type error, not a missing field",
    item: item({ comment: ["a", "b"] }),
    expect: { path: "comment", message: WRONG_TYPE },
  },
  {
    name: "a minimal item with only the required fields is accepted",
    item: { testCaseKey: "TC-1", status: "PASSED", startedAt: "2026-11-28T10:00:00Z" },
  },

  // Lone UTF-16 surrogates: UTF-8 cannot hold them (text would store U+FFFD, jsonb refuses them).
  ...(["testCaseKey", "cycleKey", "environment", "executedBy", "comment"] as const).flatMap((
    field,
  ) => [
    {
      name: `a lone high surrogate in ${field} is refused`,
      item: item({ [field]: "a\ud800b" }),
      expect: { path: field, message: LONE_SURROGATE },
    },
    {
      name: `a lone low surrogate at the end of ${field} is refused`,
      item: item({ [field]: "ab\udc00" }),
      expect: { path: field, message: LONE_SURROGATE },
    },
    {
      name: `a surrogate pair (an emoji) in ${field} is accepted`,
      item: item({ [field]: "ok \u{1F600}" }),
    },
  ]),
  {
    name: "a lone surrogate in an attributes value is refused",
    item: item({ attributes: { note: "x\udfff" } }),
    expect: { path: "attributes", message: LONE_SURROGATE },
  },
  {
    name: "a lone surrogate in a nested attributes key is refused",
    item: item({ attributes: { a: [{ ["\ud83d"]: 1 }] } }),
    expect: { path: "attributes", message: LONE_SURROGATE },
  },

  // Control characters
  ...["testCaseKey", "cycleKey", "environment", "executedBy"].flatMap((field) =>
    [
      ["NUL", "\u0000"],
      ["a tab", "\t"],
      ["a line feed", "\n"],
      ["a carriage return", "\r"],
      ["an escape", "\u001b"],
      ["a unit separator", "\u001f"],
      ["a DEL", "\u007f"],
    ].map(([what, char]) => ({
      name: `${what} in ${field} is refused`,
      item: item({ [field]: `before${char}after` }),
      expect: { path: field, message: ONE_LINE },
    }))
  ),
  {
    name: "tab, CR and LF in a comment are accepted",
    item: item({ comment: "line 1\r\nline 2\tindented\nline 3\r" }),
  },
  ...[
    ["NUL", "\u0000"],
    ["a start-of-heading", "\u0001"],
    ["a vertical tab", "\u000b"],
    ["a form feed", "\u000c"],
    ["an escape", "\u001b"],
    ["a unit separator", "\u001f"],
    ["a DEL", "\u007f"],
  ].map(([what, char]) => ({
    name: `${what} in a comment is refused`,
    item: item({ comment: `before${char}after` }),
    expect: { path: "comment", message: MULTI_LINE },
  })),

  // attributes
  { name: "empty attributes are accepted", item: item({ attributes: {} }) },
  {
    name: "attributes that are an array are a type error, not a missing field",
    item: item({ attributes: [1, 2] }),
    expect: { path: "attributes", message: WRONG_TYPE },
  },
  {
    name: "attributes that are null are a type error, not a missing field",
    item: item({ attributes: null }),
    expect: { path: "attributes", message: WRONG_TYPE },
  },
  {
    name: "attributes that are a string are a type error, not a missing field",
    item: item({ attributes: "{}" }),
    expect: { path: "attributes", message: WRONG_TYPE },
  },
  {
    name: "attributes of exactly 16384 bytes serialised are accepted",
    item: item({ attributes: { a: "x".repeat(16384 - '{"a":""}'.length) } }),
  },
  {
    name: "attributes of 16385 bytes serialised are refused",
    item: item({ attributes: { a: "x".repeat(16385 - '{"a":""}'.length) } }),
    expect: { path: "attributes", message: TOO_BIG },
  },
  {
    name: "attributes are measured in UTF-8 bytes, not characters",
    // 8189 two-byte characters: 16386 bytes, though only 8197 characters.
    item: item({ attributes: { a: "é".repeat(8189) } }),
    expect: { path: "attributes", message: TOO_BIG },
  },
  {
    name: "attributes whose JSON escapes make them over 16 KiB are refused",
    // 8000 characters, but each serialises as the six bytes \u0001: about 48 KB.
    item: item({ attributes: { a: "\u0001".repeat(8000) } }),
    expect: { path: "attributes", message: TOO_BIG },
  },
  {
    name: "attributes nested 32 levels deep are accepted",
    item: item({ attributes: nested(32) }),
  },
  {
    name: "attributes nested 33 levels deep are refused",
    item: item({ attributes: nested(33) }),
    expect: { path: "attributes", message: TOO_DEEP },
  },
  {
    name: "attributes nested 500 levels deep are refused",
    item: item({ attributes: nested(500, "deep") }),
    expect: { path: "attributes", message: TOO_DEEP },
  },
  {
    name: "attributes too deep are refused even behind many small values",
    // Many small values lift the running size estimate past its early stop, under the real size.
    item: item({ attributes: { a: [nested(40), ...zeros(8000)] } }),
    expect: { path: "attributes", message: TOO_DEEP },
  },
  {
    name: "NUL in an attribute value is refused",
    item: item({ attributes: { note: "a\u0000b" } }),
    expect: { path: "attributes", message: NUL },
  },
  {
    name: "NUL in an attribute key is refused",
    item: item({ attributes: { "a\u0000b": 1 } }),
    expect: { path: "attributes", message: NUL },
  },
  {
    name: "NUL in a nested attribute key is refused",
    item: item({ attributes: { outer: [{ inner: { "k\u0000": true } }] } }),
    expect: { path: "attributes", message: NUL },
  },
  {
    name: "NUL in an attribute value is refused even behind many small values",
    item: item({ attributes: { a: ["bad\u0000", ...zeros(8000)] } }),
    expect: { path: "attributes", message: NUL },
  },
  {
    name: "other control characters in attribute values are accepted",
    item: item({ attributes: { note: "tab\there\u0001" } }),
  },

  {
    name: "a number beyond a double's range in attributes (1e400 parses as Infinity) is refused",
    item: JSON.parse(JSON.stringify(item({})).replace('"build":42', '"build":1e400')),
    expect: {
      path: "attributes",
      message: "must not hold a number beyond the range of a double, such as 1e400",
    },
  },
  {
    name: "-1e400 deep inside attributes is refused",
    item: item({ attributes: { a: { b: [-Infinity] } } }),
    expect: { path: "attributes", message: /beyond the range of a double/ },
  },
  {
    name: 'an attributes key "__proto__" at the top is refused, not silently dropped',
    item: JSON.parse(JSON.stringify(item({})).replace('"build":42', '"__proto__":{"x":1}')),
    expect: { path: "attributes", message: 'must not use "__proto__" as a key' },
  },
  {
    name: 'a nested attributes key "__proto__" is refused',
    item: JSON.parse(JSON.stringify(item({})).replace('"build":42', '"a":{"__proto__":1}')),
    expect: { path: "attributes", message: 'must not use "__proto__" as a key' },
  },
  {
    name: "a durationMs of 1e400 (Infinity) is refused",
    item: JSON.parse(JSON.stringify(item({})).replace('"durationMs":1500', '"durationMs":1e400')),
    expect: { path: "durationMs", message: "must be a number (a finite one)" },
  },

  // Unknown fields
  {
    name: "an unknown field is refused with its name as the path",
    item: item({ colour: "blue" }),
    expect: { path: "colour", message: "is not a known field" },
  },
  {
    name: "a __proto__ field from JSON is an unknown field",
    item: JSON.parse(JSON.stringify(VALID).replace(/^\{/, '{"__proto__":{"x":1},')),
    expect: { path: "__proto__", message: "is not a known field" },
  },

  // Items that are not objects
  ...[["null", null], ["a number", 42], ["an array", [VALID]], ["a string", "TC-1"], [
    "a boolean",
    true,
  ]].map(([what, value]) => ({
    name: `an item that is ${what} is refused as a whole, not as a missing field`,
    item: value,
    expect: { path: "", message: WRONG_TYPE },
  })),
];

function assertOne(details: ValidationDetail[], expected: NonNullable<Row["expect"]>) {
  assert.equal(details.length, 1, `expected one detail, got ${JSON.stringify(details)}`);
  assert.equal(details[0].path, expected.path);
  if (typeof expected.message === "string") assert.equal(details[0].message, expected.message);
  else assert.match(details[0].message, expected.message);
}

Deno.test("validateExecution applies every rule of the execution schema", async (t) => {
  for (const row of ROWS) {
    await t.step(row.name, () => {
      const result = validateExecution(row.item);
      if (!row.expect) {
        assert.equal(result.ok, true, JSON.stringify(result.ok ? "" : result.details));
        return;
      }
      assert.equal(result.ok, false, "the item should be refused");
      if (!result.ok) assertOne(result.details, row.expect);
    });
  }
});

Deno.test("validateExecution reports each missing required field as required", () => {
  const result = validateExecution({});
  assert.equal(result.ok, false);
  assert.deepEqual(!result.ok && result.details, [
    { path: "testCaseKey", message: "is required" },
    { path: "status", message: "is required" },
    { path: "startedAt", message: "is required" },
  ]);
});

Deno.test("validateExecution reports one detail per unknown field, each with the field as its path", () => {
  const result = validateExecution(item({ colour: "blue", size: 3, "a.b": null }));
  assert.equal(result.ok, false);
  assert.deepEqual(!result.ok && result.details, [
    { path: "colour", message: "is not a known field" },
    { path: "size", message: "is not a known field" },
    { path: "a.b", message: "is not a known field" },
  ]);
});

Deno.test("validateExecution reports at most 20 details however many problems an item has", async (t) => {
  await t.step("300 unknown fields give exactly 20 details", () => {
    const unknown = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`extra${i}`, i]));
    const result = validateExecution(item(unknown));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.details.length, MAX_DETAILS_PER_ITEM);
    assert.equal(MAX_DETAILS_PER_ITEM, 20);
    assert.deepEqual(
      result.details.map((detail) => detail.path),
      Array.from({ length: 20 }, (_, i) => `extra${i}`),
    );
  });

  await t.step("every field wrong plus 30 unknown fields give exactly 20 details", () => {
    const result = validateExecution({
      id: "x",
      testCaseKey: "",
      status: "x",
      startedAt: "x",
      finishedAt: "x",
      durationMs: -1,
      cycleKey: 1,
      environment: 1,
      executedBy: 1,
      comment: 1,
      attributes: 1,
      ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`extra${i}`, i])),
    });
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.details.length, 20);
    assert.ok(result.details.some((detail) => detail.path === "testCaseKey"));
  });

  await t.step("exactly 20 problems give all 20 details", () => {
    const unknown = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`extra${i}`, i]));
    const result = validateExecution(item(unknown));
    assert.equal(!result.ok && result.details.length, 20);
  });
});

/** Validates an item that must be valid and returns the validated value. */
function validInput(raw: Record<string, unknown>): ExecutionInput {
  const result = validateExecution(raw);
  if (!result.ok) throw new Error(`fixture is invalid: ${JSON.stringify(result.details)}`);
  return result.value;
}

const noNewId = () => {
  throw new Error("newId must not be called when the item has an id");
};

Deno.test("toRecord normalises timestamps to UTC ISO strings with milliseconds", () => {
  const record = toRecord(
    validInput(item({
      startedAt: "2026-11-28T12:00:00.5+02:00",
      finishedAt: "2026-11-28T05:00:01-05:00",
    })),
    noNewId,
  );
  assert.equal(record.startedAt, "2026-11-28T10:00:00.500Z");
  assert.equal(record.finishedAt, "2026-11-28T10:00:01.000Z");
});

Deno.test("toRecord sets absent optional fields to null", () => {
  const record = toRecord(
    validInput({ id: VALID.id, testCaseKey: "TC-1", status: "PASSED", startedAt: VALID.startedAt }),
    noNewId,
  );
  const sent: Record<string, unknown> = {
    id: VALID.id,
    testCaseKey: "TC-1",
    status: "PASSED",
    startedAt: VALID.startedAt,
  };
  // Every other field of the registry is null, in the registry's order.
  assert.deepEqual(
    Object.entries(record),
    RECORD_FIELDS.map((field) => [field.name, sent[field.name] ?? null]),
  );
});

Deno.test("sameContent holds for the same execution written differently", async (t) => {
  const record = (raw: Record<string, unknown>) => toRecord(validInput(raw), noNewId);
  const same = (a: Record<string, unknown>, b: Record<string, unknown>) =>
    sameContent(record(a), record(b));

  await t.step("whatever the order of attribute keys, at every level", () => {
    const a = item({ attributes: { x: 1, y: { p: [1, { m: 1, n: 2 }], q: null }, z: "s" } });
    const b = item({ attributes: { z: "s", y: { q: null, p: [1, { n: 2, m: 1 }] }, x: 1 } });
    assert.ok(same(a, b));
  });

  await t.step("whatever the order of the item's fields", () => {
    const reversed = Object.fromEntries(Object.entries(VALID).reverse());
    assert.ok(same(reversed, item({})));
  });

  await t.step("whatever the offset the same instants are written with", () => {
    const other = item({
      startedAt: "2026-11-28T11:00:00+01:00",
      finishedAt: "2026-11-28T05:00:01.5-05:00",
    });
    assert.ok(same(other, item({})));
  });

  await t.step("whatever the id, which is not content", () => {
    assert.ok(same(item({ id: crypto.randomUUID() }), item({})));
  });
});

Deno.test("sameContent fails when any stored field differs", async (t) => {
  const base = toRecord(validInput(item({})), noNewId);
  const changes: Array<[string, Record<string, unknown>]> = [
    ["testCaseKey", { testCaseKey: "TC-2" }],
    ["status", { status: "FAILED" }],
    ["startedAt", { startedAt: "2026-11-28T10:00:00.001Z" }],
    ["finishedAt", { finishedAt: "2026-11-28T10:00:01.501Z" }],
    ["finishedAt left out", { finishedAt: undefined }],
    ["durationMs", { durationMs: 1501 }],
    ["cycleKey", { cycleKey: "CYCLE-2" }],
    ["environment", { environment: "staging" }],
    ["executedBy", { executedBy: "other@example.com" }],
    ["comment", { comment: "first line\nsecond line." }],
    ["an attribute value", { attributes: { ...VALID.attributes, build: 43 } }],
    ["an attribute's type", { attributes: { ...VALID.attributes, build: "42" } }],
    ["an attribute array's order", {
      attributes: { ...VALID.attributes, tags: ["login", "smoke"] },
    }],
    ["attributes left out", { attributes: undefined }],
    ["an empty comment instead of none", { comment: "" }],
  ];
  for (const [what, patch] of changes) {
    await t.step(`when ${what} changes`, () => {
      assert.equal(sameContent(toRecord(validInput(item(patch)), noNewId), base), false);
    });
  }
  // Every field of the registry but the id, changed as its kind allows: a field sameContent
  // missed would turn a changed item into a silent duplicate, and a new field is covered at once.
  const shape = ExecutionInputSchema.shape as Record<string, unknown>;
  const other: Record<FieldKind, (value: unknown, name: string) => unknown> = {
    id: (value) => value,
    uuid: () => crypto.randomUUID(),
    text: (value) => `${value ?? ""}, changed`,
    enum: (value, name) =>
      (shape[name] as { options: string[] }).options.find((option) => option !== value),
    timestamp: (value) =>
      new Date(Date.parse((value ?? VALID.startedAt) as string) + 1).toISOString(),
    integer: (value) => ((value ?? 0) as number) + 1,
    json: (value) => ({ ...(value ?? {}) as object, changed: true }),
  };
  for (const field of RECORD_FIELDS.filter((field) => field.kind !== "id")) {
    await t.step(`when ${field.name} (${field.kind}) changes`, () => {
      const patch = {
        [field.name]: other[field.kind](VALID[field.name as keyof typeof VALID], field.name),
      };
      assert.equal(sameContent(toRecord(validInput(item(patch)), noNewId), base), false);
    });
  }
});

Deno.test("toRecord lower-cases the id the client sent", () => {
  const record = toRecord(
    validInput(item({ id: "0195F0E2-7B5C-7A4B-8C3D-1E2F3A4B5C6D" })),
    noNewId,
  );
  assert.equal(record.id, "0195f0e2-7b5c-7a4b-8c3d-1e2f3a4b5c6d");
});

Deno.test("toRecord takes an id from newId when the item has none", () => {
  let calls = 0;
  const record = toRecord(validInput(item({ id: undefined })), () => {
    calls++;
    return "0195f0e2-0000-7000-8000-000000000001";
  });
  assert.equal(calls, 1);
  assert.equal(record.id, "0195f0e2-0000-7000-8000-000000000001");
});
