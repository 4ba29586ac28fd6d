// validateExecution runs zod's compiled parser of ExecutionInputSchema: it must answer exactly as
// the runtime parser does, for items that pass and for items that do not; the test calls both.
import assert from "node:assert/strict";
import { z } from "zod";
import { ExecutionInputSchema } from "../../src/domain/execution.ts";
import { validateExecution } from "../../src/domain/validate.ts";
import { execution } from "../_helpers.ts";

const compiled = z.compile(ExecutionInputSchema);

const VARIANTS: Array<[string, (i: number) => unknown]> = [
  ["the tests' fixture", (i) => execution(i)],
  ["only the required fields", (i) => ({
    testCaseKey: `K-${i}`,
    status: "SKIPPED",
    startedAt: "2026-11-28T10:00:00Z",
  })],
  ["offsets, fractions and unicode", (i) =>
    execution(i, {
      startedAt: "2026-11-28T10:00:00.123456+05:30",
      finishedAt: "2026-11-28T06:00:01-04:00",
      comment: "ünïcødé 🚀\nline two\ttab",
      attributes: { nested: { deep: [1, "two", null, true] }, "key with space": 1.5 },
    })],
  ["years at the edges", (i) => execution(i, { startedAt: "0001-01-01T00:00:00Z" })],
  ["refused: year 0000", (i) => execution(i, { startedAt: "0000-12-31T23:00:00Z" })],
  ["refused: past 9999 in UTC", (i) => execution(i, { startedAt: "9999-12-31T23:30:00-01:00" })],
  ["refused: a lone surrogate", (i) => execution(i, { testCaseKey: "a\ud800b" })],
  ["refused: a control character", (i) => execution(i, { cycleKey: "a\u0001" })],
  [
    "refused: finished before started",
    (i) => execution(i, { finishedAt: "2026-11-28T09:59:59.999Z" }),
  ],
  [
    "refused: unknown field and wrong types",
    (i) => execution(i, { extra: 1, durationMs: -1, status: "GREEN", id: "not-a-uuid" }),
  ],
  [
    "refused: attributes not an object, or too deep",
    (i) => execution(i, { attributes: i % 2 ? [1] : JSON.parse("[".repeat(40) + "]".repeat(40)) }),
  ],
  [
    "refused: a __proto__ key",
    (i) => execution(i, { attributes: JSON.parse('{"__proto__": {"x": 1}}') }),
  ],
];

Deno.test("the compiled parser answers as the runtime parser does, data and issues alike", async (t) => {
  for (const [name, make] of VARIANTS) {
    await t.step(name, () => {
      for (let i = 0; i < 20; i++) {
        const item = make(i);
        const runtime = ExecutionInputSchema.safeParse(item);
        const fast = compiled.safeParse(item);
        assert.equal(runtime.success, !name.startsWith("refused"), "the case is what it says");
        assert.equal(fast.success, runtime.success);
        if (runtime.success && fast.success) assert.deepEqual(fast.data, runtime.data);
        else assert.deepEqual(fast.error?.issues, runtime.error?.issues);
        // What the service runs: the same verdict, the same value, a detail at each issue's path.
        const checked = validateExecution(item);
        assert.equal(checked.ok, runtime.success);
        if (checked.ok) assert.deepEqual(checked.value, runtime.data);
        else {
          const paths = runtime.error!.issues.flatMap((issue) =>
            issue.code === "unrecognized_keys"
              ? issue.keys.map((key) => [...issue.path, key].join("."))
              : [issue.path.join(".")]
          );
          assert.deepEqual(checked.details.map((detail) => detail.path), paths);
        }
      }
    });
  }
});
