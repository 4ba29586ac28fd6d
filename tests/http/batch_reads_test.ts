// GET /v1/batches and /v1/batches/{batchId} on the real database: failed items kept with the batch
// and paged, never the payload; a user key sees only its own batches, an admin key all of them.
import assert from "node:assert/strict";
import { execution, executions, postBatch, sqlFor, startTestService } from "../_helpers.ts";

const KEYS = { API_KEYS: "user-a-key-0123,user-b-key-0123", ADMIN_API_KEYS: "admin-key-0123" };
const as = (key: string) => ({ authorization: `Bearer ${key}` });

Deno.test("a batch keeps its failed items (index, id, code, message, details), paged with limit and after", async () => {
  const { url, config, close } = await startTestService();
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    const items: unknown[] = executions(300);
    // Every other item from 50 on fails validation: 125 failed items, each naming its field.
    for (let i = 50; i < 300; i += 2) {
      items[i] = execution(i, { status: "GREEN", executedBy: "secret-person@example.com" });
    }
    const answer = await postBatch(url, items);
    assert.equal(answer.status, 207);
    const { batchId, failed } = await answer.json();
    assert.equal(failed, 125);

    const seen: number[] = [];
    let after: number | null = null;
    let pages = 0;
    do {
      const query: string = after === null ? "limit=50" : `limit=50&after=${after}`;
      const response = await fetch(`${url}/v1/batches/${batchId}?${query}`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      const view = await response.json();
      assert.equal(view.failed, 125);
      for (const item of view.failures.items) {
        assert.equal(item.code, "VALIDATION_FAILED");
        assert.equal(item.id, (items[item.index] as { id: string }).id);
        assert.deepEqual(item.details.map((d: { path: string }) => d.path), ["status"]);
        assert.match(item.message, new RegExp(`^Cannot accept execution at index ${item.index}:`));
        seen.push(item.index);
      }
      after = view.failures.nextAfter;
      pages++;
    } while (after !== null);
    assert.equal(pages, 3);
    assert.deepEqual(seen, Array.from({ length: 125 }, (_, i) => 50 + 2 * i));

    const kept = JSON.stringify(await sql`select * from batch_failures`);
    assert.doesNotMatch(kept, /secret-person/, "the payload is never kept with the failures");
  } finally {
    await sql.end();
    await close();
  }
});

Deno.test("a batch with no failed item answers an empty page; bad paging parameters are 400", async () => {
  const { url, close } = await startTestService();
  try {
    const { batchId } = await (await postBatch(url, executions(3))).json();
    const view = await (await fetch(`${url}/v1/batches/${batchId}`)).json();
    assert.deepEqual(view.failures, { items: [], nextAfter: null });
    // An index past PostgreSQL's integer is the client's mistake, never a 503 from the database.
    const bad = ["limit=0", "limit=1001", "after=-1", "after=x", "page=2", "after=2147483648"];
    for (const query of [...bad, "after=99999999999999999999", "limit=2147483648"]) {
      const response = await fetch(`${url}/v1/batches/${batchId}?${query}`);
      assert.equal(response.status, 400, query);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      assert.equal((await response.json()).error.code, "INVALID_PARAMETER", query);
    }
    const last = await fetch(`${url}/v1/batches/${batchId}?after=2147483647`);
    assert.equal(last.status, 200, "the largest index is still a valid cursor");
    assert.deepEqual((await last.json()).failures, { items: [], nextAfter: null });
    const list = await fetch(`${url}/v1/batches?before=not-a-uuid`);
    assert.equal(list.status, 400);
    assert.equal((await list.json()).error.code, "INVALID_PARAMETER");
  } finally {
    await close();
  }
});

Deno.test("a user key sees only the batches it sent; an admin key sees all, newest first, paged", async () => {
  const { url, close } = await startTestService(KEYS);
  try {
    const sent: Record<string, string[]> = { a: [], b: [] };
    for (const [who, key] of [["a", "user-a-key-0123"], ["b", "user-b-key-0123"]]) {
      for (let i = 0; i < 3; i++) {
        const answer = await postBatch(url, executions(2), as(key));
        assert.equal(answer.status, 200);
        sent[who].push((await answer.json()).batchId);
      }
    }
    const listed = async (key: string, query = "") => {
      const response = await fetch(`${url}/v1/batches${query}`, { headers: as(key) });
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      return await response.json();
    };
    const mine = await listed("user-a-key-0123");
    assert.deepEqual(
      mine.batches.map((b: { batchId: string }) => b.batchId),
      [...sent.a].reverse(),
    );
    assert.equal(mine.nextBefore, null);
    assert.equal(mine.batches[0].uploadedBy, undefined, "the key's fingerprint stays inside");

    const all = [...sent.a, ...sent.b].reverse();
    const first = await listed("admin-key-0123", "?limit=4");
    assert.deepEqual(first.batches.map((b: { batchId: string }) => b.batchId), all.slice(0, 4));
    const second = await listed("admin-key-0123", `?limit=4&before=${first.nextBefore}`);
    assert.deepEqual(second.batches.map((b: { batchId: string }) => b.batchId), all.slice(4));
    assert.equal(second.nextBefore, null);

    const other = await fetch(`${url}/v1/batches/${sent.b[0]}`, { headers: as("user-a-key-0123") });
    assert.equal(other.status, 404, "another key's batch is not there for this key");
    assert.equal((await other.json()).error.code, "NOT_FOUND");
    const own = await fetch(`${url}/v1/batches/${sent.b[0]}`, { headers: as("user-b-key-0123") });
    assert.equal(own.status, 200);
    await own.body?.cancel();
    const admin = await fetch(`${url}/v1/batches/${sent.b[0]}`, { headers: as("admin-key-0123") });
    assert.equal(admin.status, 200);
    await admin.body?.cancel();
  } finally {
    await close();
  }
});

Deno.test("an execution is read only by the key that stored it and admin keys; another key gets the 404 of an unknown id", async () => {
  const { url, close } = await startTestService(KEYS);
  try {
    const [item] = executions(1);
    const id = String(item.id);
    const stored = await postBatch(url, [item], as("user-a-key-0123"));
    assert.equal(stored.status, 200);
    await stored.body?.cancel();
    const read = (id: string, key: string) =>
      fetch(`${url}/v1/executions/${id}`, { headers: as(key) });

    for (const key of ["user-a-key-0123", "admin-key-0123"]) {
      const response = await read(id, key);
      assert.equal(response.status, 200, key);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      const body = await response.json();
      assert.equal(body.id, id);
      assert.equal(body.uploadedBy, undefined, "the key's fingerprint stays inside");
    }

    const other = await read(id, "user-b-key-0123");
    const unknownId = crypto.randomUUID();
    const unknown = await read(unknownId, "user-b-key-0123");
    assert.equal(other.status, 404, "another key's execution is not there for this key");
    assert.equal(unknown.status, 404);
    const [otherBody, unknownBody] = [await other.json(), await unknown.json()];
    assert.equal(otherBody.error.code, "NOT_FOUND");
    assert.equal(
      otherBody.error.message.replace(id, "ID"),
      unknownBody.error.message.replace(unknownId, "ID"),
      "the answer says nothing more than for an id never stored",
    );
    assert.doesNotMatch(JSON.stringify(otherBody), /executedBy|batchId/);
  } finally {
    await close();
  }
});
