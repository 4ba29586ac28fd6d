// The validation rules an execution's fields are built from: bounded text, timestamps, attributes.
import { z } from "zod";

/** Largest serialised size of `attributes`, in bytes of UTF-8. */
export const ATTRIBUTES_MAX_BYTES = 16 * 1024;
/** Deepest nesting allowed inside `attributes`; bounds the work of checking and storing them. */
export const ATTRIBUTES_MAX_DEPTH = 32;

// PostgreSQL cannot store NUL in text or jsonb; other C0 controls in one-line fields are almost
// always an encoding accident, so they are refused where they would otherwise be stored silently.
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL_ONE_LINE = /[\u0000-\u001f\u007f]/;
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL_MULTI_LINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

// JSON can carry half a UTF-16 surrogate pair ("\ud800"), which UTF-8 cannot: PostgreSQL refuses
// it in jsonb and text would silently turn it into U+FFFD, so it is refused before any SQL.
const LONE_SURROGATE =
  "must not contain a lone UTF-16 surrogate (an unpaired \\ud800 to \\udfff escape)";

/** Text of at most `max` characters, without control characters (tab, CR, LF allowed when multiLine). */
export function text(max: number, { min = 0, multiLine = false } = {}) {
  const control = multiLine ? CONTROL_MULTI_LINE : CONTROL_ONE_LINE;
  let schema = z.string().max(max, `must be at most ${max} characters`);
  if (min > 0) schema = schema.min(min, `must be at least ${min} character${min > 1 ? "s" : ""}`);
  return schema.refine((value) => !control.test(value), {
    message: multiLine
      ? "must not contain control characters such as NUL (tab, CR and LF are allowed)"
      : "must not contain control characters such as NUL, tab or line breaks",
  }).refine((value) => value.isWellFormed(), { message: LONE_SURROGATE });
}

// Stored instants stay within years 0001 to 9999 in UTC: PostgreSQL has no year 0, and an ISO
// string (what reads and events carry) has four digits of year. Only a string that starts in
// year 0000, on 0001-01-01 or on 9999-12-31 can fall outside in UTC, so the common case needs no
// date parsing.
const EARLIEST = Date.parse("0001-01-01T00:00:00Z");
const LATEST = Date.parse("9999-12-31T23:59:59.999Z");

/** An RFC 3339 timestamp with an offset, within years 0001 to 9999 in UTC. */
export const timestamp = z.iso.datetime({
  offset: true,
  message: "must be an RFC 3339 timestamp with an offset, such as 2026-11-28T10:15:00Z",
}).refine(
  (value) =>
    !value.startsWith("0000-") && !(value.startsWith("0001-01-01") && Date.parse(value) < EARLIEST),
  { message: "must be in year 0001 or later" },
).refine(
  (value) => !(value.startsWith("9999-12-31") && Date.parse(value) > LATEST),
  { message: "must be in year 9999 or earlier in UTC" },
);

/** A free-form JSON object, checked as parsed from JSON (see checkAttributes). */
export const attributes = z.preprocess((value, ctx) => {
  // Checked before z.record copies it: the copy would lose a "__proto__" key.
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const problem = checkAttributes(value as Record<string, unknown>);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }
  return value;
}, z.record(z.string(), z.unknown()));

/** Walks a JSON value without recursion and reports the first rule or limit it breaks, if any. */
export function checkAttributes(value: Record<string, unknown>): string | undefined {
  const tooLarge = `must be at most ${ATTRIBUTES_MAX_BYTES} bytes when serialised as JSON`;
  // Bounds of the serialised size, kept without serialising: UTF-8 never takes fewer bytes than
  // UTF-16 code units, and no code unit takes more than 6 (an escape such as \u0001). Only a
  // value between the bounds is serialised to measure it exactly.
  let atLeast = 2, atMost = 2;
  // Depth counts containers: an object holding a scalar is one level, as it reads.
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node === "string") {
      if (node.includes("\u0000")) return "must not contain NUL characters";
      if (!node.isWellFormed()) return LONE_SURROGATE;
      atLeast += node.length + 2;
      atMost += 6 * node.length + 3;
    } else if (node !== null && typeof node === "object") {
      if (depth > ATTRIBUTES_MAX_DEPTH) {
        return `must not nest deeper than ${ATTRIBUTES_MAX_DEPTH} levels`;
      }
      if (Array.isArray(node)) {
        atLeast += node.length + 1;
        atMost += node.length + 2;
        for (const child of node) stack.push([child, depth + 1]);
      } else {
        atMost += 2;
        for (const [key, child] of Object.entries(node)) {
          if (key.includes("\u0000")) return "must not contain NUL characters";
          if (!key.isWellFormed()) return LONE_SURROGATE;
          // A JavaScript object cannot hold "__proto__" as a plain key (assigning it sets the
          // prototype), so any JavaScript consumer would silently lose it: refused, not dropped.
          if (key === "__proto__") return 'must not use "__proto__" as a key';
          atLeast += key.length + 3;
          atMost += 6 * key.length + 4;
          stack.push([child, depth + 1]);
        }
      }
    } else {
      if (typeof node === "number" && !Number.isFinite(node)) {
        return "must not hold a number beyond the range of a double, such as 1e400";
      }
      atLeast += 1;
      atMost += typeof node === "number" ? String(node).length + 1 : 6;
    }
    if (atLeast > ATTRIBUTES_MAX_BYTES) return tooLarge;
  }
  if (atMost <= ATTRIBUTES_MAX_BYTES) return undefined;
  // Depth is bounded now, so serialising cannot overflow the stack.
  if (new TextEncoder().encode(JSON.stringify(value)).length > ATTRIBUTES_MAX_BYTES) {
    return tooLarge;
  }
  return undefined;
}
