// Reads a JUnit XML report file into CLI rows through the service's own mapping, dating undated
// reports (Surefire and `deno test` write no timestamp) from --started-at or the file's age.
import { type JunitReport, junitToExecutions } from "../domain/junit.ts";
import type { InputItem, ReadInput } from "./read_executions.ts";

/** How to read a report: how to date testcases it gives no timestamp, and its element bound. */
export interface JunitReading {
  /** --started-at, when given. */
  startedAt?: string;
  /** The report file's modification time: it was written when the last testcase ended. */
  modifiedAt?: Date;
  /**
   * Most XML elements read: the CLI reads its own files without this bound, the console's
   * uploads keep it. @default MAX_XML_ELEMENTS
   */
  maxElements?: number;
}

function read(text: string, dating: JunitReading, startedAt?: string): JunitReport {
  // Rows are sent in batches, so a report may hold any number of testcases.
  return junitToExecutions(text, {
    startedAt,
    maxItems: Number.POSITIVE_INFINITY,
    maxElements: dating.maxElements,
  });
}

/**
 * One item per testcase; a testcase that cannot be an execution is an UNPARSEABLE item.
 * Throws ReportError when the file is not a JUnit report that can be read safely.
 */
export function readJunitItems(text: string, dating: JunitReading): ReadInput {
  let report = read(text, dating, dating.startedAt);
  let note: string | undefined;
  if (dating.startedAt === undefined && report.undated > 0 && dating.modifiedAt) {
    const start = new Date(dating.modifiedAt.getTime() - report.totalMs).toISOString();
    report = read(text, dating, start);
    const count = report.undated === 1 ? "1 testcase carries" : `${report.undated} testcases carry`;
    note = `${count} no timestamp: dated from ${start}, the file's modification time minus ` +
      `the report's total time (${(report.totalMs / 1000).toFixed(3)} s); ` +
      "pass --started-at to choose";
  }
  const items = report.cases.map(({ testCaseKey, execution, problem }, index): InputItem => {
    if (!problem) return { index, value: execution };
    return {
      index,
      value: { testCaseKey },
      problem: `testcase ${index} ("${
        testCaseKey.slice(0, 100)
      }"): ${problem.path} ${problem.message}`,
    };
  });
  return { items, note };
}
