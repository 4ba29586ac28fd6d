// The mutation check's own parts (scripts/mutants.ts): the list still applies to the code as it is,
// a mutant is applied only where its text is unique, and only a failing test counts as a catch.
import assert from "node:assert/strict";
import { classify, loadMutants, mutate } from "../../scripts/mutants.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("every mutant in scripts/mutants.json applies to its file exactly once and names test files that exist", async () => {
  const mutants = await loadMutants();
  assert.ok(mutants.length >= 10, `${mutants.length} mutants`);
  for (const mutant of mutants) {
    const text = await Deno.readTextFile(`${ROOT}${mutant.file}`);
    const mutated = mutate(text, mutant);
    assert.ok(mutated !== undefined, `${mutant.id}: its search text is in ${mutant.file} once`);
    assert.notEqual(mutated, text, `${mutant.id} changes something`);
    for (const test of mutant.tests) {
      assert.ok((await Deno.stat(`${ROOT}${test}`)).isFile, `${mutant.id}: ${test} exists`);
    }
  }
});

Deno.test("a mutant is applied only where its search text occurs exactly once", () => {
  assert.equal(mutate("a b c", { search: "b", replace: "x" }), "a x c");
  assert.equal(mutate("a b b", { search: "b", replace: "x" }), undefined, "twice");
  assert.equal(mutate("a c", { search: "b", replace: "x" }), undefined, "absent");
});

Deno.test("a run counts as caught only when a test failed; a load error is an error, exit 0 survived", () => {
  const failed = "FAILED | 2 passed | 1 failed (3s)\n";
  assert.equal(classify({ code: 1, timedOut: false, output: failed }), "caught");
  assert.equal(
    classify({ code: 1, timedOut: false, output: "error: Module not found\n" }),
    "error",
  );
  assert.equal(
    classify({ code: 0, timedOut: false, output: "ok | 3 passed | 0 failed\n" }),
    "survived",
  );
  assert.equal(classify({ code: 137, timedOut: true, output: "" }), "caught (timeout)");
});
