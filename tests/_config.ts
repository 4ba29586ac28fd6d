// Shared by the configuration tests (tests/config_test.ts, tests/deno_deploy/): kept apart from
// tests/_helpers.ts so these unit tests load no database, broker or service code.
import assert from "node:assert/strict";
import { ConfigError } from "../src/config.ts";

/** Asserts that `run` throws a ConfigError and returns its problems. */
export function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.problems;
  }
  assert.fail("expected a ConfigError, but nothing was thrown");
}
