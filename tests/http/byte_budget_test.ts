// createByteBudget: takes what fits, refuses what does not without taking any, gives back.
import assert from "node:assert/strict";
import { createByteBudget } from "../../src/http/byte_budget.ts";

Deno.test("a byte budget takes bytes while they fit and refuses the rest without taking any", () => {
  const budget = createByteBudget(100);
  assert.equal(budget.take(60), true);
  assert.equal(budget.take(50), false, "60 + 50 is over 100");
  assert.equal(budget.inUse, 60, "a refused take takes nothing");
  assert.equal(budget.take(40), true);
  assert.equal(budget.inUse, 100);
  budget.give(60);
  assert.equal(budget.take(50), true);
  assert.equal(budget.inUse, 90);
  budget.give(1000);
  assert.equal(budget.inUse, 0, "never below zero");
  assert.equal(budget.capacity, 100);
});
