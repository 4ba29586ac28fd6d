// One item's shape is bounded before parsing: an item that nests, counts or weighs more than any
// valid one is left out of parsing and fails alone (207/422 naming its index), a body of too many
// values is refused with 413, the largest valid items still go in, and the service at the start
// task's heap limit stays up.
import assert from "node:assert/strict";
import { readRss, startServiceProcess } from "../../bench/service_process.ts";
import { ATTRIBUTES_MAX_DEPTH } from "../../src/domain/execution_rules.ts";
import { ITEM_MAX_BYTES, ITEM_MAX_DEPTH, ITEM_MAX_VALUES } from "../../src/http/batch_body.ts";
import { createTestApp } from "../_app.ts";
import { execution, uniqueName } from "../_helpers.ts";

/** `{"k":{"k":…1…}}`: an object `levels` deep. */
const deep = (levels: number) => '{"k":'.repeat(levels - 1) + '{"k":1' + "}".repeat(levels);

function post(test: ReturnType<typeof createTestApp>, body: string, type = "application/json") {
  return test.request("/v1/executions/batch", {
    method: "POST",
    headers: {
      "content-type": type,
      "content-length": String(new TextEncoder().encode(body).length),
    },
    body,
  });
}

/** An item with `attributes` written as raw JSON text. */
const withAttributes = (i: number, attributes: string) =>
  JSON.stringify(execution(i)).replace(/"attributes":\{[^}]*\}/, `"attributes":${attributes}`);

Deno.test("the deepest and the fullest valid attributes still go in", async () => {
  const test = createTestApp();
  // The most values 16,384 bytes of attributes can hold: 8,188 one-digit elements.
  const fullest = `{"a":[${Array(8188).fill("1").join(",")}]}`;
  assert.equal(fullest.length, 16_383);
  const body = `{"executions":[${withAttributes(0, deep(ATTRIBUTES_MAX_DEPTH))},${
    withAttributes(1, fullest)
  }]}`;
  const response = await post(test, body);
  assert.equal(response.status, 200, await response.clone().text());
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal((await response.json()).created, 2);
  assert.equal(ITEM_MAX_DEPTH, ATTRIBUTES_MAX_DEPTH + 1);
});

Deno.test("an item nested, counted or sized past any valid one fails alone, unread, and the rest of the batch goes in", async (t) => {
  const test = createTestApp();
  const cases: Array<[string, string, RegExp]> = [
    ["too deep", deep(ATTRIBUTES_MAX_DEPTH + 1), new RegExp(`deeper than ${ITEM_MAX_DEPTH}`)],
    [
      "too many values",
      `{"a":[${Array(ITEM_MAX_VALUES).fill("{}").join(",")}]}`,
      new RegExp(`more than ${ITEM_MAX_VALUES} values`),
    ],
    [
      "too many bytes",
      `{"a":"${"x".repeat(ITEM_MAX_BYTES)}"}`,
      new RegExp(`larger than ${ITEM_MAX_BYTES} bytes`),
    ],
  ];
  for (const [name, attributes, message] of cases) {
    await t.step(name, async () => {
      for (const type of ["application/json", "application/x-ndjson"]) {
        const items = [JSON.stringify(execution(0)), withAttributes(1, attributes)];
        const body = type === "application/json"
          ? `{"executions":[${items.join(",")}]}`
          : items.join("\n");
        const response = await post(test, body, type);
        assert.equal(response.status, 207, type);
        assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
        const answer = await response.json();
        assert.equal(answer.items[0].status, "created");
        const { error } = answer.items[1];
        assert.equal(error.code, "VALIDATION_FAILED");
        assert.match(error.message, /^Cannot accept execution at index 1: /);
        assert.equal(error.details.length, 1);
        assert.equal(error.details[0].path, "");
        assert.match(error.details[0].message, message);
        assert.match(error.details[0].message, /it was not read$/);
      }
    });
  }
});

Deno.test("a body of more values than BATCH_MAX_VALUES is 413 TOO_MANY_VALUES, however they are spread", async () => {
  const test = createTestApp({ limits: { maxValues: 50_000 } });
  // 100 items of 1,000 empty objects each: every item within its own limits.
  const item = withAttributes(0, `{"a":[${Array(1000).fill("{}").join(",")}]}`);
  const response = await post(test, `{"executions":[${Array(100).fill(item).join(",")}]}`);
  assert.equal(response.status, 413);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  const { error } = await response.json();
  assert.equal(error.code, "TOO_MANY_VALUES");
  assert.match(error.message, /more than 50000 values/);
});

Deno.test("at the start task's heap limit, 12 MB bodies of millions of empty objects are refused and the service stays up", async () => {
  const service = await startServiceProcess({ DB_SCHEMA: uniqueName("shape"), KAFKA_BROKERS: "" });
  try {
    const bodies = [
      // One execution whose attributes hold 4 million empty objects.
      `{"executions":[{"attributes":{"a":[${"{},".repeat(4_000_000)}{}]}}]}`,
      // The same objects spread over items that each stay within their own limits.
      `{"executions":[${Array(1000).fill(`{"attributes":{"a":[${"{},".repeat(3999)}{}]}}`)}]}`,
    ];
    let peak = 0;
    const sampler = setInterval(() => peak = Math.max(peak, readRss(service.pid)), 20);
    const answers = [];
    for (const body of bodies) {
      const response = await fetch(`${service.url}/v1/executions/batch`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      answers.push({ status: response.status, body: await response.json() });
    }
    assert.equal(answers[0].status, 422, "the one item fails, unread");
    assert.match(answers[0].body.items[0].error.details[0].message, /more than 8256 values/);
    assert.equal(answers[1].status, 413);
    assert.equal(answers[1].body.error.code, "TOO_MANY_VALUES");
    clearInterval(sampler);
    console.log(`peak RSS while refusing: ${(peak / 2 ** 20).toFixed(0)} MiB`);
    const health = await fetch(`${service.url}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    assert.equal(service.exitedEarly, undefined, service.tail.join("\n"));
  } finally {
    await service.stop();
  }
});
