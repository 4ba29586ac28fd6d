// The hostile inputs of issue 21 in one place: bodies legal by size that cost the service far more
// memory (or work) than their bytes, and large valid batches for the Kafka outage.

const encoder = new TextEncoder();

/**
 * `head`, then `unit` `count` times, then `tail`, as bytes: written into one buffer of the final
 * size, so a 15 MB body costs the client 15 MB and no string of that size.
 */
export function repeated(head: string, unit: string, count: number, tail = ""): Uint8Array {
  const [h, u, t] = [encoder.encode(head), encoder.encode(unit), encoder.encode(tail)];
  const bytes = new Uint8Array(h.length + u.length * count + t.length);
  bytes.set(h, 0);
  // Doubling copies: log2(count) calls to copyWithin instead of `count` calls to set.
  let filled = u.length;
  bytes.set(u, h.length);
  const total = u.length * count;
  while (filled < total) {
    const step = Math.min(filled, total - filled);
    bytes.copyWithin(h.length + filled, h.length, h.length + step);
    filled += step;
  }
  bytes.set(t, h.length + total);
  return bytes;
}

/** Case 1: a sign-in form of about `bytes` bytes, `a=1&` over and over. */
export function signInForm(bytes: number): Uint8Array {
  return repeated("", "a=1&", Math.floor(bytes / 4), "key=x");
}

/** Case 2a: a `<testsuite>` holding `count` empty child elements (4 bytes each). */
export function junitEmptyElements(count: number): Uint8Array {
  return repeated('<testsuite name="s">', "<a/>", count, "</testsuite>");
}

/** Case 2b: a genuine one-testcase report whose `<system-out>` holds `bytes` bytes. */
export function junitLargeSystemOut(bytes: number): Uint8Array {
  return repeated(
    '<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="s" tests="1" ' +
      'timestamp="2026-11-28T10:00:00Z"><testcase classname="C" name="big output" time="1">' +
      "<system-out>",
    "x",
    bytes,
    "</system-out></testcase></testsuite>",
  );
}

/** Case 2c: a report with one attribute value of `bytes` bytes. */
export function junitLargeAttribute(bytes: number): Uint8Array {
  return repeated(
    '<testsuite name="',
    "n",
    bytes,
    '"><testcase classname="C" name="t"/></testsuite>',
  );
}

/** Case 7: a one-testcase report with time="9e15" (an hour count no Date can hold). */
export const JUNIT_HUGE_TIME = '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<testsuite name="s" timestamp="2026-11-28T10:00:00Z">' +
  '<testcase classname="C" name="forever" time="9e15"/></testsuite>';

/** The fields every valid execution below carries. */
function valid(i: number) {
  return {
    id: crypto.randomUUID(),
    testCaseKey: `TC-${i % 50}`,
    status: i % 3 === 0 ? "FAILED" : "PASSED",
    startedAt: "2026-11-28T10:00:00.000Z",
    durationMs: 1500,
    cycleKey: "CYCLE-1",
    environment: "ci",
  };
}

/** Case 3: one execution whose attributes are `{"a":[{},{},…]}` with `count` empty objects. */
export function oneItemManyValues(count: number): Uint8Array {
  const head = JSON.stringify({ executions: [{ ...valid(0), attributes: "@" }] });
  const [before, after] = head.split('"@"');
  return repeated(`${before}{"a":[{}`, ",{}", count - 1, `]}${after}`);
}

/** Case 4: a JSON file of `count` rows, each `{}`. */
export function jsonEmptyRows(count: number): Uint8Array {
  return repeated("[{}", ",{}", count - 1, "]");
}

/** Case 7: a JSON file of one row nested `depth` arrays deep. */
export function jsonNested(depth: number): Uint8Array {
  return encoder.encode(`[${"[".repeat(depth)}${"]".repeat(depth)}]`);
}

const COMMENT_CHARS = 3_990;
// About 15 KB serialised, under the 16 KiB bound on one item's attributes.
const ATTRIBUTE_VALUES = 50;
const ATTRIBUTE_VALUE_CHARS = 290;

/**
 * Case 5: a batch of `count` large valid executions (a 3,990-character comment and about 15 KB of
 * attributes each): 800 of them make a body of about 15 MB.
 */
export function largeValidBatch(count: number): Uint8Array {
  const comment = "c".repeat(COMMENT_CHARS);
  const attributes: Record<string, string> = {};
  for (let i = 0; i < ATTRIBUTE_VALUES; i++) {
    attributes[`key${i}`] = String(i % 10).repeat(ATTRIBUTE_VALUE_CHARS);
  }
  const items = Array.from({ length: count }, (_, i) => ({ ...valid(i), comment, attributes }));
  return encoder.encode(JSON.stringify({ executions: items }));
}

/** Case 6: one valid execution and `empty` items `{}`. */
export function oneValidManyEmpty(empty: number): Uint8Array {
  const head = JSON.stringify({ executions: [valid(0)] });
  return repeated(head.slice(0, -2), ",{}", empty, "]}");
}
