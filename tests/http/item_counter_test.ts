// createJsonCounter and createNdjsonCounter: exact counts however the body is cut into chunks.
import assert from "node:assert/strict";
import { createJsonCounter, createNdjsonCounter } from "../../src/http/item_counter.ts";

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
