// The batch route in-process, over the fake store: its statuses (200, 207, 422, 503) and their
// bodies, the settings the ingest use case reads at each batch, the batch slots, and reading back.
import assert from "node:assert/strict";
import { EXECUTION_FIELDS } from "../../src/domain/execution.ts";
import { createTestApp, postBatch } from "../_app.ts";
import { execution, executions } from "../_fakes/fixtures.ts";

const outcomes = (body: { items: Array<{ status: string; error?: { code: string } }> }) =>
  body.items.map((item) => item.error?.code ?? item.status);

/** Yields to the event loop until `done` holds: the observable event, not a fixed wait. */
async function until(done: () => boolean) {
  for (let turns = 0; !done(); turns++) {
    if (turns > 1000) throw new Error("the awaited event never came");
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

Deno.test("a batch of valid items is 200, stored, and each stored chunk is handed to publishing", async () => {
  const test = createTestApp({ settings: { chunkSize: 2 } });
  const response = await postBatch(test, executions(3));
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  const body = await response.json();
  assert.deepEqual(outcomes(body), ["created", "created", "created"]);
  assert.deepEqual([body.total, body.created, body.duplicates, body.failed], [3, 3, 0, 0]);
  assert.equal(test.store.stored.size, 3);
  assert.deepEqual(test.offered, ["chunk-1", "chunk-2"], "one chunk of 2, one of 1");
});

Deno.test("the chunk size reaches the ingest use case from the settings in force at each batch", async () => {
  const test = createTestApp({ settings: { chunkSize: 4 } });
  assert.equal((await postBatch(test, executions(10))).status, 200);
  assert.deepEqual(test.store.inserts.map((call) => call.ids.length), [4, 4, 2]);
  test.settings.chunkSize = 3; // as a reload sets it, with no HTTP part in between
  assert.equal((await postBatch(test, executions(7))).status, 200);
  assert.deepEqual(
    test.store.inserts.map((call) => call.ids.length),
    [4, 4, 2, 3, 3, 1],
  );
});

Deno.test("a batch sent again is all duplicates; the same id with other content is ID_CONFLICT (207)", async () => {
  const test = createTestApp();
  const items = executions(3);
  assert.equal((await postBatch(test, items)).status, 200);
  const again = await postBatch(test, items);
  assert.equal(again.status, 200);
  assert.deepEqual(outcomes(await again.json()), ["duplicate", "duplicate", "duplicate"]);
  const changed = await postBatch(test, [items[0], { ...items[1], comment: "other" }]);
  assert.equal(changed.status, 207);
  assert.deepEqual(outcomes(await changed.json()), ["duplicate", "ID_CONFLICT"]);
});

Deno.test("every item refused by the database is 422 ITEMS_REJECTED, the batch's answer beside the envelope", async () => {
  const test = createTestApp();
  test.store.fail("rejected");
  const response = await postBatch(test, executions(2), { "x-request-id": "req-422" });
  assert.equal(response.status, 422);
  const body = await response.json();
  assert.deepEqual(body.error, {
    code: "ITEMS_REJECTED",
    message: "Every execution was rejected; see items[].error",
    requestId: "req-422",
  });
  assert.deepEqual(outcomes(body), ["STORAGE_FAILED", "STORAGE_FAILED"]);
  assert.deepEqual([body.total, body.failed], [2, 2]);
  assert.equal(typeof body.batchId, "string");
  assert.equal(response.headers.get("retry-after"), null);
});

Deno.test("a database that cannot be reached is 503 STORAGE_UNAVAILABLE with Retry-After 5, the envelope alone", async () => {
  const test = createTestApp();
  test.store.fail("unavailable");
  const response = await postBatch(test, executions(2));
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("retry-after"), "5");
  const body = await response.json();
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.equal(body.error.code, "STORAGE_UNAVAILABLE");
});

Deno.test("with every batch slot taken and no queue a batch is 503 SERVICE_SATURATED with Retry-After 2", async () => {
  const test = createTestApp({ batchConcurrency: 1, batchQueueMax: 0 });
  const release = test.store.hold();
  const first = postBatch(test, executions(2));
  await until(() => test.store.inserts.length === 1); // the first batch holds the slot now
  const refused = await postBatch(test, executions(2));
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("retry-after"), "2");
  assert.equal((await refused.json()).error.code, "SERVICE_SATURATED");
  release();
  assert.equal((await first).status, 200);
  assert.equal((await postBatch(test, executions(2))).status, 200, "the slot is free again");
});

Deno.test("a stored execution reads back as its public JSON, in the registry's order, absent fields left out", async () => {
  const test = createTestApp();
  const { comment: _, ...sent } = execution(1, { id: "0195F0E2-7B5C-7A4B-8C3D-1E2F3A4B5C6D" });
  assert.equal((await postBatch(test, [sent])).status, 200);
  const response = await test.request("/v1/executions/0195f0e2-7b5c-7a4b-8c3d-1e2f3a4b5c6d");
  assert.equal(response.status, 200);
  const body = await response.json();
  // What was sent, and what the server set: in the registry's order, nothing else.
  const shown = (name: string) => name in sent || name === "batchId" || name === "createdAt";
  assert.deepEqual(Object.keys(body), EXECUTION_FIELDS.map((field) => field.name).filter(shown));
  assert.equal(body.id, "0195f0e2-7b5c-7a4b-8c3d-1e2f3a4b5c6d");
});

Deno.test("a batch keeps its sender's key: another user key neither lists nor reads it, an admin key does", async () => {
  const test = createTestApp({
    userKeys: ["user-a-0123456789", "user-b-0123456789"],
    adminKeys: ["admin-0123456789"],
  });
  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  const sent = await postBatch(test, [execution(1), { status: "GREEN" }], as("user-a-0123456789"));
  assert.equal(sent.status, 207);
  const { batchId } = await sent.json();
  const list = async (key: string) =>
    (await (await test.request("/v1/batches", { headers: as(key) })).json()).batches
      .map((batch: { batchId: string }) => batch.batchId);
  assert.deepEqual(await list("user-a-0123456789"), [batchId]);
  assert.deepEqual(await list("user-b-0123456789"), []);
  assert.deepEqual(await list("admin-0123456789"), [batchId]);
  const other = await test.request(`/v1/batches/${batchId}`, { headers: as("user-b-0123456789") });
  assert.equal(other.status, 404);
  const own = await test.request(`/v1/batches/${batchId}`, { headers: as("user-a-0123456789") });
  assert.equal(own.status, 200);
  const body = await own.json();
  assert.equal(body.uploadedBy, undefined, "who sent it stays inside");
  assert.deepEqual(body.failures.items.map((f: { index: number }) => f.index), [1]);
});
