// What the CLI hands back: the summary on stdout and the failure file, NDJSON or CSV.
import { stringify } from "csv-stringify/sync";
import { formatCount } from "./progress.ts";
import { ERROR_FIELD } from "./read_executions.ts";
import type { Failure, SubmitOutcome } from "./submit_batches.ts";

/** Field of a failure row holding input that is not a JSON object (an unparseable line, CSV cells). */
export const RAW_FIELD = "_raw";

/** Failed rows by error code, most frequent first. */
export function countByCode(failures: readonly Failure[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const failure of failures) counts.set(failure.code, (counts.get(failure.code) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/**
 * The summary table: total, created, duplicates, failed (by code) and the time taken; for a dry
 * run, total, valid and failed.
 */
export function formatSummary(
  outcome: SubmitOutcome,
  elapsedMs: number,
  options: { dryRun?: boolean } = {},
): string {
  const failed = outcome.failures.length;
  const rows: Array<[string, string]> = options.dryRun
    ? [["total", formatCount(outcome.total)], ["valid", formatCount(outcome.total - failed)]]
    : [
      ["total", formatCount(outcome.total)],
      ["created", formatCount(outcome.created)],
      ["duplicates", formatCount(outcome.duplicates)],
    ];
  rows.push(["failed", formatCount(failed)]);
  const byCode = countByCode(outcome.failures).map(([code, count]) =>
    [`  ${code}`, formatCount(count)] as [string, string]
  );
  const time: [string, string] = ["time", `${(elapsedMs / 1000).toFixed(1)} s`];
  const all = [...rows, ...byCode, time];
  const labelWidth = Math.max(...all.map(([label]) => label.length)) + 2;
  const valueWidth = Math.max(...all.map(([, value]) => value.length));
  return all.map(([label, value]) => `${label.padEnd(labelWidth)}${value.padStart(valueWidth)}`)
    .join("\n") + "\n";
}

/** One failure as a row to fix and resubmit: the row as sent plus `_error`, or `_raw` plus `_error`. */
export function failureRow(failure: Failure): Record<string, unknown> {
  const error: Record<string, unknown> = { index: failure.index };
  if (failure.line !== undefined) error.line = failure.line;
  error.code = failure.code;
  error.message = failure.message;
  if (failure.details) error.details = failure.details;
  const { value } = failure;
  const isRow = value !== null && typeof value === "object" && !Array.isArray(value);
  return isRow ? { ...value, [ERROR_FIELD]: error } : { [RAW_FIELD]: value, [ERROR_FIELD]: error };
}

/** The failure file: one failure row per line, in input order. */
export function failureLines(failures: readonly Failure[]): string {
  return failures.map((failure) => JSON.stringify(failureRow(failure)) + "\n").join("");
}

/** The `_error` of a failure as one line of text, for a CSV cell. */
export function failureText(failure: Failure): string {
  const where = failure.line === undefined
    ? `index ${failure.index}`
    : `index ${failure.index}, line ${failure.line}`;
  const details = failure.details?.length
    ? ` (${failure.details.map((d) => `${d.path || "row"}: ${d.message}`).join("; ")})`
    : "";
  return `${failure.code} at ${where}: ${failure.message}${details}`;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * The failure file of a CSV input, as CSV: the input's columns (plus `id` first when the CLI gave
 * ids, and any column a stamp added), then `_error`. The CSV reader ignores `_error`.
 */
export function failureCsv(failures: readonly Failure[], header: readonly string[]): string {
  const columns = header.filter((name) => name !== ERROR_FIELD);
  for (const { value } of failures) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) continue;
    for (const key of Object.keys(value)) {
      if (columns.includes(key)) continue;
      if (key === "id") columns.unshift(key);
      else columns.push(key);
    }
  }
  const rows = failures.map((failure) => {
    const { value } = failure;
    const cells = Array.isArray(value)
      ? [...value.map(cell), ...new Array(Math.max(0, columns.length - value.length)).fill("")]
      : columns.map((name) => cell((value as Record<string, unknown>)[name]));
    return [...cells, failureText(failure)];
  });
  return stringify([[...columns, ERROR_FIELD], ...rows]);
}
