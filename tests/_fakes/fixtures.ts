// Fixtures of the in-process and unit tests: valid executions as a client sends them, the records
// stored for them, and a logger that keeps its lines.
import type { ExecutionRecord } from "../../src/domain/execution.ts";
import type { Logger } from "../../src/domain/ports.ts";
import { toRecord, validateExecution } from "../../src/domain/validate.ts";

/** A valid execution as a client sends it; `i` makes it distinct. */
export function execution(
  i: number,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: crypto.randomUUID(),
    testCaseKey: `TC-${i % 50}`,
    status: i % 3 === 0 ? "FAILED" : "PASSED",
    startedAt: "2026-11-28T10:00:00.000Z",
    finishedAt: "2026-11-28T10:00:01.500Z",
    durationMs: 1500,
    cycleKey: "CYCLE-1",
    environment: "ci",
    executedBy: "someone@example.com",
    comment: `run ${i}`,
    attributes: { build: i, browser: "firefox" },
    ...overrides,
  };
}

/** `n` valid executions. */
export function executions(n: number, make = execution): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => make(i));
}

/**
 * The record the service stores for a valid item (what a repository holds); `newId` only names an
 * item that has no id of its own.
 */
export function recordOf(
  item: Record<string, unknown>,
  newId = () => crypto.randomUUID(),
): ExecutionRecord {
  const checked = validateExecution(item);
  if (!checked.ok) throw new Error("invalid fixture");
  return toRecord(checked.value, newId);
}

/** A logger that keeps every line, for assertions (pino's levels, without the JSON). */
export function recordingLogger() {
  const lines: Array<{ level: keyof Logger; fields: object; message: string }> = [];
  const at = (level: keyof Logger) => (fields: object, message: string) =>
    void lines.push({ level, fields, message });
  const logger: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  return { logger, lines };
}
