// The run's summary in Markdown, for a CI page: GitHub shows $GITHUB_STEP_SUMMARY on the run's page.
import { appendFile } from "node:fs/promises";
import { formatCount } from "./progress.ts";
import { countByCode } from "./report.ts";
import type { Failure, SubmitOutcome } from "./submit_batches.ts";

/** Failed rows listed one by one; the rest are counted (the failure files hold them all). */
export const MAX_ROWS_LISTED = 50;

/** What the summary tells. */
export interface SummaryFacts {
  outcome: SubmitOutcome;
  /** Each input file's name as given, by source. */
  files: readonly string[];
  /** The service's base URL. */
  url: string;
  dryRun: boolean;
  elapsedMs: number;
  /** Where each input's failed rows were written. */
  failureFiles: readonly string[];
}

/** Text safe in a Markdown table cell: one line, pipes escaped, at most `max` characters. */
function cell(text: string, max = 200): string {
  const line = text.replace(/\s+/g, " ").trim();
  const cut = line.length > max ? `${line.slice(0, max - 1)}…` : line;
  return cut.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/</g, "&lt;");
}

function testCaseKeyOf(failure: Failure): string {
  const value = failure.value as { testCaseKey?: unknown } | null;
  const key = value !== null && typeof value === "object" ? value.testCaseKey : undefined;
  return typeof key === "string" ? key : "";
}

function messageOf(failure: Failure): string {
  const details = failure.details?.map((d) => `${d.path || "row"}: ${d.message}`).join("; ");
  return details ? `${failure.message} (${details})` : failure.message;
}

/** The summary: a heading, the counts, why it stopped, the failed rows, where they were written. */
export function formatMarkdownSummary(facts: SummaryFacts): string {
  const { outcome } = facts;
  const failed = outcome.failures.length;
  const lines: string[] = [];
  if (facts.dryRun) {
    lines.push(
      `### execution-ingest: ${
        formatCount(outcome.total)
      } executions checked (dry run, nothing sent)`,
      "",
      "| total | valid | invalid |",
      "| ---: | ---: | ---: |",
      `| ${formatCount(outcome.total)} | ${formatCount(outcome.total - failed)} | ${
        formatCount(failed)
      } |`,
    );
  } else {
    lines.push(
      `### execution-ingest: ${formatCount(outcome.total)} executions submitted to ${
        cell(facts.url)
      }`,
      "",
      "| total | created | duplicates | failed | time |",
      "| ---: | ---: | ---: | ---: | ---: |",
      `| ${formatCount(outcome.total)} | ${formatCount(outcome.created)} | ${
        formatCount(outcome.duplicates)
      } | ${formatCount(failed)} | ${(facts.elapsedMs / 1000).toFixed(1)} s |`,
    );
  }
  if (outcome.stopped) lines.push("", `**Stopped:** ${cell(outcome.stopped.message, 500)}`);
  if (failed > 0) {
    const byCode = countByCode(outcome.failures).map(([code, count]) =>
      `\`${code}\` ${formatCount(count)}`
    );
    lines.push("", `Failed by code: ${byCode.join(", ")}`, "");
    lines.push("| file | index | test case | code | message |", "| --- | ---: | --- | --- | --- |");
    for (const failure of outcome.failures.slice(0, MAX_ROWS_LISTED)) {
      lines.push(
        `| ${cell(facts.files[failure.source ?? 0] ?? "")} | ${failure.index} | ${
          cell(testCaseKeyOf(failure), 120)
        } | ${failure.code} | ${cell(messageOf(failure), 300)} |`,
      );
    }
    if (failed > MAX_ROWS_LISTED) {
      lines.push("", `…and ${formatCount(failed - MAX_ROWS_LISTED)} more failed rows.`);
    }
  }
  if (facts.failureFiles.length > 0) {
    lines.push(
      "",
      `Rows not stored are in ${facts.failureFiles.map((f) => `\`${cell(f)}\``).join(", ")}.`,
    );
  }
  return lines.join("\n") + "\n\n";
}

/** Appends the summary to `path` (GitHub gathers a step's summary file by appending to it). */
export async function appendSummary(path: string, facts: SummaryFacts): Promise<void> {
  await appendFile(path, formatMarkdownSummary(facts));
}
