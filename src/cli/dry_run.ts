// --dry-run: every row judged locally by the server's own validation, nothing sent.
import { ItemErrorCode } from "../domain/errors.ts";
import { validateExecution } from "../domain/validate.ts";
import type { InputItem } from "./read_executions.ts";
import { failureOf, LocalErrorCode, type SubmitOutcome } from "./submit_batches.ts";

/**
 * The outcome a run would start from: unreadable rows UNPARSEABLE, rows the server would refuse
 * VALIDATION_FAILED with the server's details; nothing created (ids the server already holds,
 * duplicates and conflicts, only the server can tell).
 */
export function checkItems(items: readonly InputItem[]): SubmitOutcome {
  const failures = items.flatMap((item) => {
    if (item.problem !== undefined) {
      return [failureOf(item, { code: LocalErrorCode.UNPARSEABLE, message: item.problem })];
    }
    const checked = validateExecution(item.value);
    if (checked.ok) return [];
    const count = checked.details.length === 1 ? "1 problem" : `${checked.details.length} problems`;
    return [failureOf(item, {
      code: ItemErrorCode.VALIDATION_FAILED,
      message: `Cannot accept execution at index ${item.index}: ${count} (see details)`,
      details: checked.details,
    })];
  });
  return { total: items.length, created: 0, duplicates: 0, batches: 0, failures };
}
