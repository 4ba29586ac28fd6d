// Bad input, in-process, one row per case: every status the batch and read routes answer (except
// 503), each error in the one JSON envelope with a request id; plus hostile and deeply nested bodies.
import assert from "node:assert/strict";
import { createTestApp } from "../_app.ts";
import { execution } from "../_fakes/fixtures.ts";

interface Case {
  name: string;
  method?: "GET" | "POST";
  /** Defaults to the batch route. */
  path?: string;
  /** Omitted: no content-type header at all. */
  contentType?: string;
  /** A function when the body cannot be reused (streams). */
  body?: string | Uint8Array<ArrayBuffer> | (() => ReadableStream<Uint8Array>);
  status: number;
  /** The envelope's error.code; required for every status from 400 up. */
  code?: string;
  /** Further checks on the parsed body. */
  check?: (body: Record<string, unknown>) => void;
}

const BATCH = "/v1/executions/batch";
const JSON_TYPE = "application/json";
const NDJSON_TYPE = "application/x-ndjson";

const json = (items: unknown[]) => JSON.stringify({ executions: items });
const ndjson = (lines: unknown[]) =>
  lines.map((line) => typeof line === "string" ? line : JSON.stringify(line)).join("\n") + "\n";
const withoutId = (i: number) => {
  const { id: _id, ...rest } = execution(i);
  return rest;
};

type Item = { index: number; status: string; error?: { code: string; details?: unknown[] } };
const itemsOf = (body: Record<string, unknown>) => body.items as Item[];
const outcomes = (body: Record<string, unknown>) =>
  itemsOf(body).map((item) => item.error?.code ?? item.status);

/** A body streamed in `chunk`-byte pieces, so it is sent chunked, without a content-length. */
function streamOf(text: string, chunk: number): () => ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return () => {
    let offset = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(offset, offset + chunk));
        offset += chunk;
      },
    });
  };
}

type TestApp = ReturnType<typeof createTestApp>;

/** Sends one case and checks status, then content type, then the body; returns the body. */
async function send(test: TestApp, row: Case): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = {};
  if (row.contentType !== undefined) headers["content-type"] = row.contentType;
  const body = typeof row.body === "function" ? row.body() : row.body;
  // A client's fetch sends the length of a body it has whole; a stream goes chunked, without one.
  if (typeof body === "string") {
    headers["content-length"] = String(new TextEncoder().encode(body).length);
  }
  if (body instanceof Uint8Array) headers["content-length"] = String(body.length);
  const response = await test.request(row.path ?? BATCH, {
    method: row.method ?? "POST",
    headers,
    body,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
  const text = await response.text();
  assert.equal(response.status, row.status, `status; body: ${text.slice(0, 300)}`);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  const parsed = JSON.parse(text);
  const requestId = response.headers.get("x-request-id");
  assert.ok(requestId, "every response carries X-Request-Id");
  if (row.status >= 400) {
    assert.ok(row.code, "an error row names its code");
    assert.equal(typeof parsed.error, "object", "the error envelope is there");
    assert.deepEqual(Object.keys(parsed.error).sort(), ["code", "message", "requestId"]);
    assert.equal(parsed.error.code, row.code);
    assert.equal(typeof parsed.error.message, "string");
    assert.ok(parsed.error.message.length > 0);
    assert.equal(parsed.error.requestId, requestId);
  } else {
    assert.equal(parsed.error, undefined);
  }
  row.check?.(parsed);
  return parsed;
}

const INVALID_UTF8 = new Uint8Array([
  ...new TextEncoder().encode('{"executions":[{"testCaseKey":"'),
  0xff,
  0xfe,
  0xc3,
  ...new TextEncoder().encode('","status":"PASSED","startedAt":"2026-11-28T10:00:00Z"}]}'),
]);

const CASES: Case[] = [
  // 2xx and 422
  {
    name: "a valid JSON batch is 200 with every item created",
    contentType: JSON_TYPE,
    body: json([execution(1), execution(2), withoutId(3)]),
    status: 200,
    check: (body) => {
      assert.deepEqual(outcomes(body), ["created", "created", "created"]);
      assert.deepEqual([body.total, body.created, body.failed], [3, 3, 0]);
    },
  },
  {
    name: "a JSON batch with a charset parameter is read as JSON",
    contentType: "application/json; charset=utf-8",
    body: json([execution(1)]),
    status: 200,
  },
  {
    name: "a batch with one invalid item is 207 naming that item's index",
    contentType: JSON_TYPE,
    body: json([execution(1), execution(2, { status: "GREEN" }), execution(3)]),
    status: 207,
    check: (body) => {
      assert.deepEqual(outcomes(body), ["created", "VALIDATION_FAILED", "created"]);
      assert.deepEqual(itemsOf(body).map((item) => item.index), [0, 1, 2]);
      assert.deepEqual([body.created, body.failed], [2, 1]);
    },
  },
  {
    name: "a batch where every item is invalid is 422 with the items and VALIDATION_FAILED",
    contentType: JSON_TYPE,
    body: json([execution(1, { testCaseKey: "" }), null, "x", execution(4, { extra: 1 })]),
    status: 422,
    code: "VALIDATION_FAILED",
    check: (body) => {
      assert.deepEqual(outcomes(body), Array(4).fill("VALIDATION_FAILED"));
      assert.deepEqual([body.total, body.created, body.failed], [4, 0, 4]);
      assert.equal(typeof body.batchId, "string");
    },
  },
  {
    name: "an NDJSON batch with one line that is not JSON is 207 with that line's index",
    contentType: NDJSON_TYPE,
    body: ndjson([execution(1), '{"testCaseKey": "TC-2", status: PASSED', execution(3)]),
    status: 207,
    check: (body) => {
      assert.deepEqual(outcomes(body), ["created", "VALIDATION_FAILED", "created"]);
      const details = itemsOf(body)[1].error!.details as Array<{ path: string; message: string }>;
      assert.equal(details.length, 1);
      assert.equal(details[0].path, "");
      assert.match(details[0].message, /^line 2 is not valid JSON/);
    },
  },
  {
    name: "an NDJSON batch with one invalid execution is 207 with that line's index",
    contentType: "application/x-ndjson; charset=utf-8",
    body: ndjson([execution(1), execution(2), execution(3, { durationMs: -1 })]),
    status: 207,
    check: (body) => assert.deepEqual(outcomes(body), ["created", "created", "VALIDATION_FAILED"]),
  },
  {
    name: "an NDJSON batch whose lines are all unreadable is 422",
    contentType: NDJSON_TYPE,
    body: "not json\n{also not\n",
    status: 422,
    code: "VALIDATION_FAILED",
    check: (body) => assert.deepEqual(outcomes(body), ["VALIDATION_FAILED", "VALIDATION_FAILED"]),
  },

  // 400 INVALID_BODY
  {
    name: "a body that is not JSON is 400",
    contentType: JSON_TYPE,
    body: '{"executions": [',
    status: 400,
    code: "INVALID_BODY",
  },
  {
    name: "an empty JSON body is 400",
    contentType: JSON_TYPE,
    body: "",
    status: 400,
    code: "INVALID_BODY",
  },
  {
    name: "a JSON array instead of an object is 400",
    contentType: JSON_TYPE,
    body: JSON.stringify([execution(1)]),
    status: 400,
    code: "INVALID_BODY",
  },
  {
    name: "JSON null is 400",
    contentType: JSON_TYPE,
    body: "null",
    status: 400,
    code: "INVALID_BODY",
  },
  {
    name: "an object without executions is 400",
    contentType: JSON_TYPE,
    body: "{}",
    status: 400,
    code: "INVALID_BODY",
  },
  {
    name: "executions that is an object is 400",
    contentType: JSON_TYPE,
    body: JSON.stringify({ executions: { 0: execution(1) } }),
    status: 400,
    code: "INVALID_BODY",
  },
  {
    name: "executions that is a string is 400",
    contentType: JSON_TYPE,
    body: JSON.stringify({ executions: "[]" }),
    status: 400,
    code: "INVALID_BODY",
  },
  {
    name: "an empty executions array is 400",
    contentType: JSON_TYPE,
    body: json([]),
    status: 400,
    code: "INVALID_BODY",
  },
  {
    name: "an unknown top-level field is 400",
    contentType: JSON_TYPE,
    body: JSON.stringify({ executions: [execution(1)], dryRun: true }),
    status: 400,
    code: "INVALID_BODY",
    check: (body) => assert.match((body.error as { message: string }).message, /"dryRun"/),
  },
  {
    name: "a body that is not valid UTF-8 is 400",
    contentType: JSON_TYPE,
    body: INVALID_UTF8,
    status: 400,
    code: "INVALID_BODY",
  },
  {
    name: "an empty NDJSON body is 400",
    contentType: NDJSON_TYPE,
    body: "",
    status: 400,
    code: "INVALID_BODY",
  },
  {
    name: "an NDJSON body of blank lines only is 400",
    contentType: NDJSON_TYPE,
    body: "\n  \n\r\n\n",
    status: 400,
    code: "INVALID_BODY",
  },

  // 415
  {
    name: "a text/plain body is 415",
    contentType: "text/plain",
    body: json([execution(1)]),
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
  },
  {
    name: "a body without a content type is 415",
    body: new TextEncoder().encode(json([execution(1)])),
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
    check: (body) =>
      assert.match((body.error as { message: string }).message, /\(no content type\)/),
  },
  {
    name: "a form body is 415",
    contentType: "application/x-www-form-urlencoded",
    body: "executions=1",
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
  },

  // 404 and 400 INVALID_PARAMETER
  {
    name: "an unknown route is 404",
    method: "GET",
    path: "/v2/nothing-here",
    status: 404,
    code: "NOT_FOUND",
  },
  {
    name: "POST to the collection, which has no such route, is 404",
    path: "/v1/executions",
    contentType: JSON_TYPE,
    body: json([execution(1)]),
    status: 404,
    code: "NOT_FOUND",
  },
  {
    name: "an execution id that is not stored is 404",
    method: "GET",
    path: `/v1/executions/${crypto.randomUUID()}`,
    status: 404,
    code: "NOT_FOUND",
  },
  {
    name: "a batch id that is not stored is 404",
    method: "GET",
    path: `/v1/batches/${crypto.randomUUID()}`,
    status: 404,
    code: "NOT_FOUND",
  },
  {
    name: "an execution id that is not a UUID is 400 INVALID_PARAMETER",
    method: "GET",
    path: "/v1/executions/not-a-uuid",
    status: 400,
    code: "INVALID_PARAMETER",
  },
  {
    name: "a batch id that is not a UUID is 400 INVALID_PARAMETER",
    method: "GET",
    path: "/v1/batches/12345",
    status: 400,
    code: "INVALID_PARAMETER",
  },
];

Deno.test("POST /v1/executions/batch and the read routes answer bad input with the right status and envelope", async (t) => {
  const test = createTestApp();
  for (const row of CASES) await t.step(row.name, async () => void await send(test, row));

  await t.step(
    "attributes nested 10,000 levels deep fail that item alone, unread, without a crash",
    async () => {
      const deep = '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000);
      const item = JSON.stringify(execution(2)).replace(
        /"attributes":\{[^}]*\}/,
        `"attributes":${deep}`,
      );
      assert.ok(item.length > 60_000, "the deep attributes are in the item");
      const body = await send(test, {
        name: "deep",
        contentType: JSON_TYPE,
        body: `{"executions":[${JSON.stringify(execution(1))},${item}]}`,
        status: 207,
      });
      assert.deepEqual(outcomes(body), ["created", "VALIDATION_FAILED"]);
      const [detail] = itemsOf(body)[1].error!.details as Array<{ path: string; message: string }>;
      assert.equal(detail.path, "");
      assert.match(detail.message, /^nests deeper than 33 levels, which no valid execution does/);
      // The service still answers.
      await send(test, {
        name: "after",
        contentType: JSON_TYPE,
        body: json([execution(3)]),
        status: 200,
      });
    },
  );
});

const SMALL_ITEM = { testCaseKey: "T", status: "PASSED", startedAt: "2026-11-28T10:00:00Z" };

const LIMIT_CASES: Case[] = [
  {
    name: "5 items, exactly BATCH_MAX_ITEMS, are accepted",
    contentType: JSON_TYPE,
    body: json(Array(5).fill(SMALL_ITEM)),
    status: 200,
  },
  {
    name: "6 JSON items, one over BATCH_MAX_ITEMS, are 413 TOO_MANY_ITEMS",
    contentType: JSON_TYPE,
    body: json(Array(6).fill(SMALL_ITEM)),
    status: 413,
    code: "TOO_MANY_ITEMS",
  },
  {
    name: "6 NDJSON lines, one over BATCH_MAX_ITEMS, are 413 TOO_MANY_ITEMS",
    contentType: NDJSON_TYPE,
    body: ndjson(Array(6).fill(SMALL_ITEM)),
    status: 413,
    code: "TOO_MANY_ITEMS",
  },
  {
    name: "a body over BATCH_MAX_BYTES with a content-length is 413 PAYLOAD_TOO_LARGE",
    contentType: JSON_TYPE,
    body: json([{ ...SMALL_ITEM, comment: "c".repeat(3000) }]),
    status: 413,
    code: "PAYLOAD_TOO_LARGE",
  },
  {
    name: "a streamed body within BATCH_MAX_BYTES is read whole",
    contentType: JSON_TYPE,
    body: streamOf(json([{ ...SMALL_ITEM, comment: "c".repeat(1500) }]), 256),
    status: 200,
  },
  {
    name: "a streamed body over BATCH_MAX_BYTES without a content-length is 413 PAYLOAD_TOO_LARGE",
    contentType: JSON_TYPE,
    body: streamOf(json([{ ...SMALL_ITEM, comment: "c".repeat(3000) }]), 256),
    status: 413,
    code: "PAYLOAD_TOO_LARGE",
  },
  {
    name: "a streamed NDJSON body over BATCH_MAX_BYTES is 413 PAYLOAD_TOO_LARGE",
    contentType: NDJSON_TYPE,
    body: streamOf(ndjson(Array(4).fill({ ...SMALL_ITEM, comment: "c".repeat(700) })), 512),
    status: 413,
    code: "PAYLOAD_TOO_LARGE",
  },
];

Deno.test("POST /v1/executions/batch refuses batches over BATCH_MAX_ITEMS or BATCH_MAX_BYTES with 413", async (t) => {
  const test = createTestApp({ limits: { maxItems: 5, maxBytes: 2048 } });
  for (const row of LIMIT_CASES) await t.step(row.name, async () => void await send(test, row));
  assert.equal(test.store.stored.size, 5 + 1, "only the batches within the limits were stored");
});

Deno.test("a hostile batch of 10,000 items with 300 unknown fields each is 422 with exactly 20 details per item", async () => {
  // Interpretation: each item has 300 unknown fields and one 1,000-character garbage value (in
  // testCaseKey); a 1,000-character value in every unknown field would be a 3 GB body.
  const garbage = Array.from(
    { length: 1000 },
    (_, i) => ["\u0000", '"', "\\", "é", "😀", "\u001b", "x", "<", "\n"][i % 9],
  ).join("").slice(0, 1000);
  const unknown = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`junk${i}`, i]));
  const item = JSON.stringify({ ...SMALL_ITEM, testCaseKey: garbage, ...unknown });
  const body = `{"executions":[${Array(10_000).fill(item).join(",")}]}`;
  // 3 million values: over the default BATCH_MAX_VALUES, which would refuse it before parsing
  // (tests/hardening/item_shape_test.ts); raised here to test the cap on details.
  const test = createTestApp({
    limits: { maxBytes: 128 * 1024 * 1024, maxValues: 4_000_000 },
    bytesInFlight: 128 * 1024 * 1024,
  });
  const began = performance.now();
  const parsed = await send(test, {
    name: "hostile",
    contentType: JSON_TYPE,
    body,
    status: 422,
    code: "VALIDATION_FAILED",
  });
  const seconds = (performance.now() - began) / 1000;
  console.log(
    `hostile batch: ${(new TextEncoder().encode(body).length / 1e6).toFixed(1)} MB answered in ${
      seconds.toFixed(2)
    } s`,
  );
  const items = itemsOf(parsed);
  assert.equal(items.length, 10_000);
  assert.ok(items.every((item, i) => item.index === i));
  assert.ok(items.every((item) => item.error?.code === "VALIDATION_FAILED"));
  const counts = new Set(items.map((item) => item.error!.details!.length));
  assert.deepEqual([...counts], [20]);
  assert.deepEqual(test.store.inserts, [], "nothing reached the store");
});
