// Readies one input file's rows for sending: the command line's stamps, then deterministic ids.
import { createIdAssigner, withDerivedId } from "../domain/execution_id.ts";
import type { Stamps } from "./args.ts";
import type { InputItem } from "./read_executions.ts";

/** The command line's stamps, and the idScope of the API key the rows are sent with. */
export type RowStamps = Omit<Stamps, "startedAt"> & {
  /** Scopes the derived ids (see domain/execution_id.ts). @default none: the ids of an upload without a key */
  idScope?: string | null;
};

/**
 * Sets --cycle-key, --environment and --attribute on every readable row (replacing the row's own
 * values), then gives each row without an id its UUIDv5 (see domain/execution_id.ts), counting
 * repeats within this file, so that submitting the same file again stores nothing twice.
 */
export function prepareRows(
  items: readonly InputItem[],
  stamps: RowStamps,
  source: number,
): InputItem[] {
  const idOf = createIdAssigner(stamps.idScope);
  const extra = Object.keys(stamps.attributes).length > 0;
  return items.map((item) => {
    if (item.problem !== undefined) return { ...item, source };
    const row = { ...(item.value as Record<string, unknown>) };
    if (stamps.cycleKey !== undefined) row.cycleKey = stamps.cycleKey;
    if (stamps.environment !== undefined) row.environment = stamps.environment;
    if (extra) {
      const own = row.attributes;
      const base = own !== null && typeof own === "object" && !Array.isArray(own) ? own : {};
      // A row whose attributes are not an object keeps them, for the server to refuse.
      row.attributes = own === undefined || base === own ? { ...base, ...stamps.attributes } : own;
    }
    return { ...item, source, value: withDerivedId(row, idOf) };
  });
}
