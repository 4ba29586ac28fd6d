// One testcase as an execution: its key, status, start (from its own timestamp or its suite's
// clock), duration, comment and attributes, or the reason it cannot be one.
import { ExecutionInputSchema, type ExecutionStatus } from "./execution.ts";
import type { JunitCase, JunitOptions } from "./junit.ts";

/** Properties of a testcase that name the test case's key, in order of preference. */
export const KEY_PROPERTIES = ["testCaseKey", "test_key"] as const;

const COMMENT_MAX = ExecutionInputSchema.shape.comment.unwrap().maxLength ?? 4000;
const ATTRIBUTE_TEXT_MAX = 1000;
const DURATION_MAX_MS = ExecutionInputSchema.shape.durationMs.unwrap().maxValue ?? 2147483647;

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
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end) + "…";
}

/** A suite's clock: its start, and how much testcase time had passed in the report when it began. */
export type Clock = { startMs: number; elapsedAtStart: number } | { invalid: string };

/** What reading the report so far has established; mapCase adds each testcase's time. */
export interface Walk {
  options: JunitOptions;
  defaultStartMs?: number;
  /** Sum of the `time` of the testcases read so far, in document order, in milliseconds. */
  elapsedMs: number;
  cases: JunitCase[];
  undated: number;
}

/** What the walker keeps of an element inside a testcase: only what mapCase reads. */
export interface Kept {
  name: string;
  attributes: Record<string, string>;
  children: Kept[];
  /** Its own text, up to its first 65,536 characters (for failure, error, skipped and property). */
  text: string;
  /** UTF-8 bytes of its own text, counted and not kept (for system-out and system-err). */
  bytes: number;
}

/** The testcase as an execution without id, or the reason it cannot be one. */
export function mapCase(
  element: Kept,
  walk: Walk,
  clock: Clock | undefined,
  suite?: Record<string, string>,
) {
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
  const suiteName = suite?.name;
  if (suiteName) attributes.suite = cut(suiteName, ATTRIBUTE_TEXT_MAX);
  const file = a.file ?? suite?.file;
  if (file) attributes.file = cut(file, ATTRIBUTE_TEXT_MAX);
  if (a.line !== undefined && /^\d{1,9}$/.test(a.line.trim())) attributes.line = Number(a.line);
  for (const [tag, key] of [["system-out", "systemOutBytes"], ["system-err", "systemErrBytes"]]) {
    const bytes = children.filter((child) => child.name === tag)
      .reduce((sum, child) => sum + child.bytes, 0);
    if (bytes > 0) attributes[key] = bytes;
  }
  if (Object.keys(attributes).length > 0) execution.attributes = attributes;
  return { testCaseKey, execution };
}

function failed(testCaseKey: string, path: string, message: string): JunitCase {
  return { testCaseKey, problem: { path, message } };
}
