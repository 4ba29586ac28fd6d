// The one mapping from a JUnit XML report to executions, used by POST /v1/imports/junit and the CLI.
import { ExecutionInputSchema, type ExecutionStatus } from "./execution.ts";
import { parseXml, ReportError, type XmlElement } from "./junit_xml.ts";

/** What a report cannot say for itself; applies to every testcase. */
export interface JunitOptions {
  /** RFC 3339 start of the report, used only where neither a testcase nor its suite has a timestamp. */
  startedAt?: string;
  cycleKey?: string;
  environment?: string;
  /** Most testcases read; more is a ReportError of kind "too_many". @default 10000 */
  maxItems?: number;
}

/** One testcase as an execution (without id), or the reason it cannot be one. */
export interface JunitCase {
  testCaseKey: string;
  /** The execution to validate and store; absent when `problem` is set. */
  execution?: Record<string, unknown>;
  problem?: { path: string; message: string };
}

/** A report read: its testcases in document order, and what dating them took. */
export interface JunitReport {
  cases: JunitCase[];
  /** Sum of the testcases' `time`, in milliseconds. */
  totalMs: number;
  /** Testcases with no timestamp of their own or of a suite: dated by `startedAt` (or failed). */
  undated: number;
}

/** Properties of a testcase that name the test case's key, in order of preference. */
export const KEY_PROPERTIES = ["testCaseKey", "test_key"] as const;

const COMMENT_MAX = ExecutionInputSchema.shape.comment.unwrap().maxLength ?? 4000;
const ATTRIBUTE_TEXT_MAX = 1000;
const DURATION_MAX_MS = ExecutionInputSchema.shape.durationMs.unwrap().maxValue ?? 2147483647;
// Measures system-out and system-err in UTF-8 bytes; one serves every testcase.
const encoder = new TextEncoder();

/** A timestamp as JUnit writers give it: RFC 3339, or ISO 8601 without an offset (read as UTC). */
const TIMESTAMP =
  /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?(Z|[+-]\d\d:?\d\d)?$/i;

/** Milliseconds since the epoch of a JUnit timestamp, or undefined when it is not one. */
export function parseJunitTimestamp(value: string): number | undefined {
  const match = TIMESTAMP.exec(value.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction = "0", zone = "Z"] = match;
  const ms = Number(fraction.slice(0, 3).padEnd(3, "0"));
  // Not Date.UTC: it reads years 0 to 99 as 1900 to 1999. setUTCFullYear keeps the year as sent.
  const check = new Date(0);
  check.setUTCFullYear(+y, +mo - 1, +d);
  const base = check.setUTCHours(+h, +mi, +s, ms);
  if (Number.isNaN(base) || check.getUTCDate() !== +d || check.getUTCMonth() !== +mo - 1) {
    return undefined;
  }
  if (zone.toUpperCase() === "Z") return base;
  const sign = zone[0] === "-" ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  return base - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}

/** An instant as an ISO string, or undefined beyond the dates JavaScript holds (about 275,000 years). */
function isoString(ms: number): string | undefined {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : undefined;
}

/** Seconds of a `time` attribute ("1.5", or "1,234.5" as some writers group thousands). */
function seconds(value: string | undefined): number | undefined | "invalid" {
  if (value === undefined || value.trim() === "") return undefined;
  const plain = /^\d{1,3}(,\d{3})+(\.\d+)?$/.test(value) ? value.replaceAll(",", "") : value;
  const number = Number(plain);
  return /^\s*\d*\.?\d+(e[+-]?\d+)?\s*$/i.test(plain) && Number.isFinite(number)
    ? number
    : "invalid";
}

/** Cuts text to `max` UTF-16 units, ending with "…" when cut, never inside a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end) + "…";
}

/** A suite's clock: its start, and how much testcase time had passed in the report when it began. */
type Clock = { startMs: number; elapsedAtStart: number } | { invalid: string };

interface Walk {
  options: JunitOptions;
  defaultStartMs?: number;
  /** Sum of the `time` of the testcases read so far, in document order, in milliseconds. */
  elapsedMs: number;
  cases: JunitCase[];
  undated: number;
}

/** Reads a JUnit XML report into one JunitCase per testcase, in document order. Throws ReportError. */
export function junitToExecutions(text: string, options: JunitOptions = {}): JunitReport {
  const root = parseXml(text.startsWith("\uFEFF") ? text.slice(1) : text);
  if (root.name !== "testsuites" && root.name !== "testsuite") {
    throw new ReportError(
      "invalid",
      `Cannot read the report: its root element is <${root.name}>, not <testsuites> or <testsuite>`,
    );
  }
  const walk: Walk = { options, elapsedMs: 0, cases: [], undated: 0 };
  if (options.startedAt !== undefined) walk.defaultStartMs = Date.parse(options.startedAt);
  visit(root, walk, [], undefined);
  if (walk.cases.length === 0) {
    throw new ReportError("empty", "Cannot import the report: it has no <testcase>");
  }
  return { cases: walk.cases, totalMs: walk.elapsedMs, undated: walk.undated };
}

function visit(element: XmlElement, walk: Walk, clocks: Clock[], suite?: XmlElement) {
  if (element.name === "testcase") {
    const max = walk.options.maxItems ?? 10_000;
    if (walk.cases.length >= max) {
      throw new ReportError(
        "too_many",
        `Cannot import more than ${max} testcases in one report; split the report`,
      );
    }
    walk.cases.push(mapCase(element, walk, clocks.at(-1), suite));
    return;
  }
  if (element.name !== "testsuite" && element.name !== "testsuites") return;
  const stamp = element.attributes.timestamp;
  let inner = clocks;
  if (stamp !== undefined && stamp.trim() !== "") {
    const startMs = parseJunitTimestamp(stamp);
    inner = [
      ...clocks,
      startMs === undefined
        ? { invalid: `the <${element.name}> timestamp "${cut(stamp, 40)}" is not a date and time` }
        : { startMs, elapsedAtStart: walk.elapsedMs },
    ];
  }
  const innerSuite = element.name === "testsuite" ? element : suite;
  for (const child of element.children) visit(child, walk, inner, innerSuite);
}

function mapCase(element: XmlElement, walk: Walk, clock: Clock | undefined, suite?: XmlElement) {
  const { attributes: a, children } = element;
  const property = (name: string) => {
    for (const list of children.filter((child) => child.name === "properties")) {
      const found = list.children.find((p) => p.name === "property" && p.attributes.name === name);
      if (found) return found.attributes.value ?? found.text.trim();
    }
    return undefined;
  };
  const named = KEY_PROPERTIES.map(property).find((value) => value !== undefined);
  const name = a.name ?? "", classname = a.classname ?? "";
  const testCaseKey = named ?? (classname && name ? `${classname}.${name}` : name || classname);

  const time = seconds(a.time);
  const durationMs = typeof time === "number" ? Math.round(time * 1000) : undefined;
  const elapsedBefore = walk.elapsedMs;
  if (time === "invalid") {
    return failed(
      testCaseKey,
      "durationMs",
      `the testcase time "${cut(a.time!, 40)}" is not seconds`,
    );
  }
  if (durationMs !== undefined && durationMs > DURATION_MAX_MS) {
    // Refused before it is added up: the testcases after it keep their own start.
    return failed(
      testCaseKey,
      "durationMs",
      `the testcase time "${cut(a.time!, 40)}" is over ${DURATION_MAX_MS / 1000} seconds`,
    );
  }
  walk.elapsedMs += durationMs ?? 0;

  let startMs: number | undefined;
  if (a.timestamp !== undefined && a.timestamp.trim() !== "") {
    startMs = parseJunitTimestamp(a.timestamp);
    if (startMs === undefined) {
      return failed(
        testCaseKey,
        "startedAt",
        `the testcase timestamp "${cut(a.timestamp, 40)}" is not a date and time`,
      );
    }
  } else if (clock && "invalid" in clock) {
    return failed(testCaseKey, "startedAt", clock.invalid);
  } else if (clock) {
    startMs = clock.startMs + (elapsedBefore - clock.elapsedAtStart);
  } else {
    walk.undated++;
    if (walk.defaultStartMs === undefined) {
      return failed(
        testCaseKey,
        "startedAt",
        "the report gives no timestamp for this testcase or its suite; send the startedAt parameter",
      );
    }
    startMs = walk.defaultStartMs + elapsedBefore;
  }

  const startedAt = isoString(startMs);
  const finishedAt = durationMs === undefined ? null : isoString(startMs + durationMs);
  if (startedAt === undefined || finishedAt === undefined) {
    return failed(
      testCaseKey,
      startedAt === undefined ? "startedAt" : "finishedAt",
      "the testcase's start plus the time of the testcases before it is past the latest date",
    );
  }
  const execution: Record<string, unknown> = {
    testCaseKey,
    status: "PASSED" satisfies ExecutionStatus,
    startedAt,
  };
  if (finishedAt !== null) {
    execution.finishedAt = finishedAt;
    execution.durationMs = durationMs;
  }
  if (walk.options.cycleKey !== undefined) execution.cycleKey = walk.options.cycleKey;
  if (walk.options.environment !== undefined) execution.environment = walk.options.environment;

  const attributes: Record<string, unknown> = {};
  const problem = children.find((child) => child.name === "failure" || child.name === "error");
  const skipped = children.find((child) => child.name === "skipped");
  const outcome = problem ?? skipped;
  if (outcome) {
    execution.status = (problem ? "FAILED" : "SKIPPED") satisfies ExecutionStatus;
    const { message = "", type = "" } = outcome.attributes;
    const said = message.trim() || outcome.text.trim();
    const comment = type && said ? `${type}: ${said}` : type || said;
    if (comment) execution.comment = cut(comment, COMMENT_MAX);
    if (problem) attributes.outcome = problem.name;
  }
  const suiteName = suite?.attributes.name;
  if (suiteName) attributes.suite = cut(suiteName, ATTRIBUTE_TEXT_MAX);
  const file = a.file ?? suite?.attributes.file;
  if (file) attributes.file = cut(file, ATTRIBUTE_TEXT_MAX);
  if (a.line !== undefined && /^\d{1,9}$/.test(a.line.trim())) attributes.line = Number(a.line);
  for (const [tag, key] of [["system-out", "systemOutBytes"], ["system-err", "systemErrBytes"]]) {
    const bytes = children.filter((child) => child.name === tag)
      .reduce((sum, child) => sum + encoder.encode(child.text).length, 0);
    if (bytes > 0) attributes[key] = bytes;
  }
  if (Object.keys(attributes).length > 0) execution.attributes = attributes;
  return { testCaseKey, execution };
}

function failed(testCaseKey: string, path: string, message: string): JunitCase {
  return { testCaseKey, problem: { path, message } };
}
