// An upload's rows counted from its bytes agree with what the submit CLI's readers then find, for
// each format the counter reads, so a file within BATCH_MAX_ITEMS is never refused by the count.
import assert from "node:assert/strict";
import { type InputFormat, parseExecutions } from "../../../src/cli/read_executions.ts";
import { countRows } from "../../../src/http/console/row_counter.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

const FILES: Array<[InputFormat, string]> = [
  ["json", '[{"testCaseKey":"A"}, {"testCaseKey":"B","attributes":{"x":[1,2,{"y":"]"}]}}, 3]'],
  ["json", '\uFEFF \n [ {"testCaseKey":"A,B"} ]'],
  ["json", '{"executions": [{"a": "{"}, {"b": "\\""}], "other": [1, 2, 3, 4]}'],
  ["json", "[]"],
  ["ndjson", '{"testCaseKey":"A"}\n\n  \r\n{"testCaseKey":"B"}\r\nnot json\n'],
  [
    "csv",
    'testCaseKey,status,comment\nA,PASSED,"two\nlines"\n,,\n\nB,FAILED,"say ""hi"", twice"\n',
  ],
  ["csv", "testCaseKey,status"],
];

Deno.test("the rows counted from an upload's bytes are the rows its reader finds, in JSON, NDJSON and CSV", () => {
  for (const [format, text] of FILES) {
    const read = parseExecutions(text, format);
    assert.equal(countRows(format, bytes(text)), read.items.length, `${format}: ${text}`);
  }
});

Deno.test("JUnit XML is left to its own reader's bounds", () => {
  assert.equal(countRows("junit", bytes("<testsuite/>")), undefined);
});
