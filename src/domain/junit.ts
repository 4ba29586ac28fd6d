// The one mapping from a JUnit XML report to executions, used by POST /v1/imports/junit, the CLI
// and the console: the reader's events walked suite by suite, each testcase mapped as it closes.
import {
  type Clock,
  cut,
  type Kept,
  mapCase,
  parseJunitTimestamp,
  type Walk,
} from "./junit_case.ts";
import { readXml, ReportError, type XmlVisitor } from "./junit_xml.ts";

/** What a report cannot say for itself; applies to every testcase. */
export interface JunitOptions {
  /** RFC 3339 start of the report, used only where neither a testcase nor its suite has a timestamp. */
  startedAt?: string;
  cycleKey?: string;
  environment?: string;
  /** Most testcases read; more is a ReportError of kind "too_many". @default 10000 */
  maxItems?: number;
  /** Most XML elements read; more is a ReportError of kind "too_large". @default MAX_XML_ELEMENTS */
  maxElements?: number;
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

/** Reads a JUnit XML report into one JunitCase per testcase, in document order. Throws ReportError. */
export function junitToExecutions(text: string, options: JunitOptions = {}): JunitReport {
  const walk: Walk = { options, elapsedMs: 0, cases: [], undated: 0 };
  if (options.startedAt !== undefined) walk.defaultStartMs = Date.parse(options.startedAt);
  readXml(text.startsWith("\uFEFF") ? text.slice(1) : text, createWalker(walk), {
    maxElements: options.maxElements,
  });
  if (walk.cases.length === 0) {
    throw new ReportError("empty", "Cannot import the report: it has no <testcase>");
  }
  return { cases: walk.cases, totalMs: walk.elapsedMs, undated: walk.undated };
}

// The elements kept inside a testcase, by parent; everything else is counted by the reader and
// dropped with its subtree. Memory then holds one testcase at a time, whatever the report holds.
const KEPT_CHILDREN: Record<string, ReadonlySet<string>> = {
  testcase: new Set(["properties", "failure", "error", "skipped", "system-out", "system-err"]),
  properties: new Set(["property"]),
};
const COUNTED = new Set(["system-out", "system-err"]);
const KEPT_TEXT_MAX = 65_536;
const SUITES = new Set(["testsuites", "testsuite"]);

type Frame =
  | { kind: "suite"; clock: boolean; suite: boolean }
  | { kind: "kept"; element: Kept }
  | { kind: "skipped" };

/** Walks the reader's events: suites give clocks, each testcase is mapped as it closes. */
function createWalker(walk: Walk): XmlVisitor {
  const frames: Frame[] = [];
  const clocks: Clock[] = [];
  const suites: Array<Record<string, string>> = [];
  const openSuite = (name: string, attributes: Record<string, string>) => {
    const stamp = attributes.timestamp;
    const clock = stamp !== undefined && stamp.trim() !== "";
    if (clock) {
      const startMs = parseJunitTimestamp(stamp);
      clocks.push(
        startMs === undefined
          ? { invalid: `the <${name}> timestamp "${cut(stamp, 40)}" is not a date and time` }
          : { startMs, elapsedAtStart: walk.elapsedMs },
      );
    }
    if (name === "testsuite") suites.push(attributes);
    frames.push({ kind: "suite", clock, suite: name === "testsuite" });
  };
  return {
    open(name, attributes) {
      const parent = frames.at(-1);
      if (parent === undefined) {
        if (!SUITES.has(name)) {
          throw new ReportError(
            "invalid",
            `Cannot read the report: its root element is <${name}>, not <testsuites> or <testsuite>`,
          );
        }
        openSuite(name, attributes);
        return false;
      }
      if (parent.kind === "suite" && SUITES.has(name)) {
        openSuite(name, attributes);
        return false;
      }
      const holder = parent.kind === "kept" ? parent.element : undefined;
      if (parent.kind === "suite" && name === "testcase") {
        const max = walk.options.maxItems ?? 10_000;
        if (walk.cases.length >= max) {
          throw new ReportError(
            "too_many",
            `Cannot import more than ${max} testcases in one report; split the report`,
          );
        }
      } else if (!holder || !KEPT_CHILDREN[holder.name]?.has(name)) {
        frames.push({ kind: "skipped" });
        return false;
      }
      const element: Kept = { name, attributes, children: [], text: "", bytes: 0 };
      holder?.children.push(element);
      frames.push({ kind: "kept", element });
      return name !== "testcase" && name !== "properties";
    },
    text(part) {
      const frame = frames.at(-1);
      if (frame?.kind !== "kept") return;
      const element = frame.element;
      if (COUNTED.has(element.name)) element.bytes += utf8Length(part);
      else if (element.text.length < KEPT_TEXT_MAX) {
        element.text += part.slice(0, KEPT_TEXT_MAX - element.text.length);
      }
    },
    close() {
      const frame = frames.pop()!;
      if (frame.kind === "suite") {
        if (frame.clock) clocks.pop();
        if (frame.suite) suites.pop();
      } else if (frame.kind === "kept" && frame.element.name === "testcase") {
        walk.cases.push(mapCase(frame.element, walk, clocks.at(-1), suites.at(-1)));
      }
    },
  };
}

/** Bytes of a string in UTF-8 (a lone surrogate counts as U+FFFD, as TextEncoder writes it). */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
