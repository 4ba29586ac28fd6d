// createJsonCounter and createNdjsonCounter: exact counts however the body is cut into chunks.
import assert from "node:assert/strict";
import {
  createJsonCounter,
  createNdjsonCounter,
  type ItemLimit,
  type ShapeLimits,
} from "../../src/http/item_counter.ts";

const encode = (text: string) => new TextEncoder().encode(text);

/** Feeds `text` in pieces of `size` bytes and returns the final count. */
function countIn(make: typeof createJsonCounter, text: string, size: number): number {
  const counter = make();
  const bytes = encode(text);
  for (let i = 0; i < bytes.length; i += size) counter.push(bytes.subarray(i, i + size));
  return counter.count;
}

const JSON_CASES: Array<[name: string, body: string, count: number]> = [
  ["three objects", '{"executions":[{"a":1},{"b":[1,2,{"c":3}]},{}]}', 3],
  ["an empty array", '{"executions":[]}', 0],
  ["whitespace everywhere", ' {\n "executions" : [ 1 ,\r\n 2\t, 3 ] } ', 3],
  ["strings holding brackets, commas and quotes", '{"executions":["a,]", "b\\"[,", "c\\\\"]}', 3],
  ["a string ending in an escaped backslash", '{"executions":["x\\\\\\\\",{"k":"\\\\"}]}', 2],
  ["another key before, with an array of its own", '{"other":[1,2,3,4],"executions":[1]}', 1],
  ["another key after", '{"executions":[1,2],"other":[1,2,3,4]}', 2],
  ["nested arrays count as one element each", '{"executions":[[1,2,3],[4]]}', 2],
  ["a key that only looks like executions", '{"executionsX":[1,2,3]}', 0],
  ["a top-level array is not counted", "[1,2,3]", 0],
  ["non-ASCII strings", '{"executions":[{"k":"é😀,]"},{"k":"\\u0022"}]}', 2],
  ["the key repeated: the larger array", '{"executions":[1,2,3],"executions":[1]}', 3],
];

Deno.test("createJsonCounter counts the executions array's elements, whatever the chunk size", async (t) => {
  for (const [name, body, count] of JSON_CASES) {
    await t.step(name, () => {
      for (const size of [1, 2, 3, 7, 64, 1 << 20]) {
        assert.equal(countIn(createJsonCounter, body, size), count, `chunks of ${size}`);
      }
      // The expected counts are JSON.parse's own (which keeps the last of a repeated key).
      const parsed = (JSON.parse(body) as { executions?: unknown[] }).executions?.length ?? 0;
      if (!name.startsWith("the key repeated")) {
        assert.equal(Array.isArray(JSON.parse(body)) ? 0 : parsed, count);
      }
    });
  }
});

Deno.test("createJsonCounter's running count passes a limit as soon as the element past it starts", () => {
  const counter = createJsonCounter();
  assert.equal(counter.push(encode('{"executions":[{"a":1},{"a"')), 2);
  assert.equal(counter.push(encode(":2},")), 2);
  assert.equal(counter.push(encode("3")), 3);
});

const NDJSON_CASES: Array<[name: string, body: string, count: number]> = [
  ["three lines", '{"a":1}\n{"a":2}\n{"a":3}\n', 3],
  ["no newline at the end", '{"a":1}\n{"a":2}', 2],
  ["blank lines, CRLF, spaces and tabs", '\n{"a":1}\r\n\r\n  \t \n{"a":2}\n\n', 2],
  ["a line that is not JSON still counts", "not json\n{also not\n", 2],
  ["only blank lines", "\n  \n\r\n\n", 0],
  ["empty", "", 0],
];

Deno.test("createNdjsonCounter counts the lines holding anything but JSON whitespace", async (t) => {
  for (const [name, body, count] of NDJSON_CASES) {
    await t.step(name, () => {
      for (const size of [1, 2, 5, 1 << 20]) {
        assert.equal(countIn(createNdjsonCounter, body, size), count, `chunks of ${size}`);
      }
    });
  }
  await t.step("8 million one-byte lines are counted without splitting the text", () => {
    const counter = createNdjsonCounter();
    const chunk = encode("1\n".repeat(65_536));
    for (let i = 0; i < 128; i++) counter.push(chunk);
    assert.equal(counter.count, 8_388_608);
  });
});

/** Feeds `text` in pieces of `size` bytes to a counter with `limits`; returns what it found. */
function shapeIn(
  make: typeof createJsonCounter,
  limits: Partial<ShapeLimits>,
  text: string,
  size: number,
) {
  const counter = make(limits);
  const bytes = encode(text);
  for (let i = 0; i < bytes.length; i += size) counter.push(bytes.subarray(i, i + size));
  const decoder = new TextDecoder();
  return {
    problem: counter.problem,
    oversized: counter.oversized.map(({ index, limit, start, end }) => ({
      index,
      limit,
      text: decoder.decode(bytes.subarray(start, end === -1 ? bytes.length : end)),
    })),
  };
}

const nested = (levels: number) => "[".repeat(levels) + "]".repeat(levels);
const SHAPE_CASES: Array<
  [
    name: string,
    limits: Partial<ShapeLimits>,
    items: string[],
    oversized: Array<[number, ItemLimit]>,
  ]
> = [
  ["within every limit", { maxItemDepth: 3, maxItemValues: 4, maxItemBytes: 20 }, [
    '{"a":[1]}',
    '{"b":{"c":2}}',
  ], []],
  ["an item nested one level too deep", { maxItemDepth: 3 }, [
    "{}",
    `{"a":${nested(2)}}`,
    `{"a":${nested(3)}}`,
  ], [[2, "maxItemDepth"]]],
  ["items with too many values: brackets and commas outside strings", { maxItemValues: 4 }, [
    '{"a":"[,[,[,[,"}',
    '{"a":[{},{}]}',
    "[1,2,3]",
    "[[1,2],[3,4]]",
  ], [[1, "maxItemValues"], [3, "maxItemValues"]]],
  ["an item of too many bytes", { maxItemBytes: 20 }, [
    '{"a":"short"}',
    '{"a":"longer than twenty bytes"}',
  ], [[1, "maxItemBytes"]]],
  ["a scalar item of too many bytes", { maxItemBytes: 20 }, [
    "1",
    '"a string longer than twenty bytes"',
    "2",
  ], [[1, "maxItemBytes"]]],
];

Deno.test("createJsonCounter marks each item past a limit with its exact bytes, whatever the chunk size", async (t) => {
  for (const [name, limits, items, oversized] of SHAPE_CASES) {
    await t.step(name, () => {
      const body = `{"executions":[${items.join(",")}]}`;
      const expected = oversized.map(([index, limit]) => ({ index, limit, text: items[index] }));
      for (const size of [1, 2, 3, 7, 64, 1 << 20]) {
        assert.deepEqual(
          shapeIn(createJsonCounter, limits, body, size),
          { problem: undefined, oversized: expected },
          `chunks of ${size}`,
        );
      }
    });
  }
  await t.step("too many values in the whole body, spread over items", () => {
    // The body's object and array, four per item and the three commas between the items.
    const body = `{"executions":[${Array(4).fill("[{},{}]").join(",")}]}`;
    assert.equal(shapeIn(createJsonCounter, { maxValues: 21 }, body, 3).problem, undefined);
    assert.deepEqual(shapeIn(createJsonCounter, { maxValues: 20 }, body, 3).problem, {
      limit: "maxValues",
      index: 3,
    });
  });
  await t.step("the values of an oversized item do not count for the body", () => {
    const body = `{"executions":[[${"{},".repeat(100)}{}],[{}]]}`;
    const found = shapeIn(createJsonCounter, { maxValues: 20, maxItemValues: 10 }, body, 5);
    assert.equal(found.problem, undefined);
    assert.deepEqual(found.oversized.map((item) => item.index), [0]);
  });
  await t.step("values outside the executions array count for the body", () => {
    const body = `{"other":[${"{},".repeat(20)}{}],"executions":[{}]}`;
    assert.deepEqual(shapeIn(createJsonCounter, { maxValues: 10 }, body, 5).problem, {
      limit: "maxValues",
      index: -1,
    });
  });
});

Deno.test("createNdjsonCounter marks each line past a limit with its exact bytes, whatever the chunk size", async (t) => {
  for (const [name, limits, items, oversized] of SHAPE_CASES) {
    await t.step(name, () => {
      const body = items.join("\n") + "\n";
      const expected = oversized.map(([index, limit]) => ({ index, limit, text: items[index] }));
      for (const size of [1, 2, 3, 7, 64, 1 << 20]) {
        assert.deepEqual(
          shapeIn(createNdjsonCounter, limits, body, size),
          { problem: undefined, oversized: expected },
          `chunks of ${size}`,
        );
      }
    });
  }
  await t.step("too many values in the whole body, spread over lines", () => {
    const body = Array(4).fill("[{},{}]").join("\n");
    assert.equal(shapeIn(createNdjsonCounter, { maxValues: 16 }, body, 3).problem, undefined);
    assert.deepEqual(shapeIn(createNdjsonCounter, { maxValues: 15 }, body, 3).problem, {
      limit: "maxValues",
      index: 3,
    });
  });
  await t.step("a line that is not JSON still ends at its line break", () => {
    const body = '{"a":"unterminated\n{"b":[[]]}\n';
    assert.deepEqual(shapeIn(createNdjsonCounter, { maxItemDepth: 3 }, body, 3).oversized, []);
    assert.deepEqual(shapeIn(createNdjsonCounter, { maxItemDepth: 2 }, body, 3).oversized, [
      { index: 1, limit: "maxItemDepth", text: '{"b":[[]]}' },
    ]);
  });
});

Deno.test("one item of 4 million empty objects is marked within its first chunk and stops counting", () => {
  const counter = createJsonCounter({ maxItemValues: 8256, maxValues: 500_000 });
  const chunk = encode("{},".repeat(21_845));
  counter.push(encode('{"executions":[{"attributes":{"a":['));
  for (let i = 0; i < 183; i++) counter.push(chunk);
  counter.push(encode("{}]}}]}"));
  assert.equal(counter.problem, undefined, "its values do not count for the body");
  assert.deepEqual(counter.oversized.map(({ index, limit }) => ({ index, limit })), [
    { index: 0, limit: "maxItemValues" },
  ]);
});
