// createIngestor against an in-memory repository and sink: verdicts, chunking, bisection, storage failures.
import assert from "node:assert/strict";
import {
  createIngestor,
  type IngestOptions,
  type IngestSettings,
  type ItemVerdict,
  MAX_SPLIT_STATEMENTS,
  UnparseableItem,
} from "../../src/domain/ingest.ts";
import { recordOf } from "../_fakes/fixtures.ts";
import { fakeSink, fakeStore, type FakeStoreOptions } from "../_fakes/store.ts";

const CREATED_AT = "2026-11-28T12:00:00.000Z";

/** Deterministic UUIDv7-shaped ids; the first one a batch takes is its batchId. */
function idSequence() {
  let n = 0;
  return () => `0195f0e2-0000-7000-8000-${(++n).toString(16).padStart(12, "0")}`;
}

/** A valid raw item with a client id derived from `i`. */
function raw(i: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`,
    testCaseKey: `TC-${i}`,
    status: "PASSED",
    startedAt: "2026-11-28T10:00:00.000Z",
    attributes: { i },
    ...overrides,
  };
}

const raws = (n: number) => Array.from({ length: n }, (_, i) => raw(i));

function setup(options: Omit<FakeStoreOptions, "createdAt"> = {}) {
  const repo = fakeStore({ ...options, createdAt: CREATED_AT });
  const events = fakeSink();
  let settings: IngestSettings = { chunkSize: 500 };
  const ingestor = createIngestor({
    repository: repo.repository,
    sink: events.sink,
    newId: idSequence(),
    settings: () => settings,
    // Each reading 250 ms after the one before: a batch reads it at its start and its end.
    monotonicMs: (() => {
      let ms = 1000;
      return () => (ms += 250);
    })(),
  });
  /** The ids of every execution offered, in order, checked against what each chunk stored. */
  const offered = () => {
    events.chunkIds.forEach((id, i) =>
      assert.deepEqual(events.offers[i].map((e) => e.id), repo.chunks.get(id))
    );
    return events.offers.flat().map((execution) => execution.id);
  };
  /** Ingests one batch under the given settings (as a reload would set them) and options. */
  const ingest = (
    items: readonly unknown[],
    { uploadedBy, ...next }: IngestSettings & IngestOptions,
  ) => {
    settings = next;
    return ingestor.ingest(items, { uploadedBy });
  };
  return { ...repo, ...events, offered, ingest };
}

const codes = (items: ItemVerdict[]) => items.map((item) => item.error?.code ?? item.status);

Deno.test("later copies of an id in the same batch fail with DUPLICATE_IN_BATCH and the first is stored", async () => {
  const { ingest, inserts } = setup();
  const first = raw(1);
  const items = [
    first,
    raw(2),
    { ...first, comment: "other content" },
    { ...first, id: (first.id as string).toUpperCase() },
  ];
  const result = await ingest(items, { chunkSize: 100 });
  assert.deepEqual(codes(result.items), [
    "created",
    "created",
    "DUPLICATE_IN_BATCH",
    "DUPLICATE_IN_BATCH",
  ]);
  assert.equal(result.items[2].id, first.id);
  assert.equal(result.items[3].id, first.id, "the id is reported lower-cased");
  assert.match(result.items[2].error!.message, /already at index 0/);
  assert.deepEqual(inserts.map((call) => call.ids), [[first.id, raw(2).id]]);
  assert.deepEqual([result.total, result.created, result.duplicates, result.failed], [4, 2, 0, 2]);
});

Deno.test("valid items are inserted in ceil(n / chunkSize) calls of chunkSize items, the last holding the rest", async (t) => {
  const cases: Array<[number, number, number[]]> = [
    [23, 5, [5, 5, 5, 5, 3]],
    [20, 5, [5, 5, 5, 5]],
    [7, 1, [1, 1, 1, 1, 1, 1, 1]],
    [7, 1000, [7]],
    [1, 500, [1]],
    [10, 2.7, [2, 2, 2, 2, 2]],
    [3, 0, [1, 1, 1]],
  ];
  for (const [n, chunkSize, sizes] of cases) {
    await t.step(`${n} items in chunks of ${chunkSize}`, async () => {
      const { ingest, inserts } = setup();
      const result = await ingest(raws(n), { chunkSize });
      assert.deepEqual(inserts.map((call) => call.ids.length), sizes);
      assert.deepEqual(
        inserts.flatMap((call) => call.ids),
        raws(n).map((item) => item.id),
        "every item once, in request order",
      );
      assert.ok(inserts.every((call) => call.batchId === result.batchId));
      assert.equal(result.created, n);
    });
  }
});

Deno.test("a chunk the database rejects is bisected until only the culprit fails with STORAGE_FAILED", async (t) => {
  for (const culprit of [0, 5, 13, 19]) {
    await t.step(`culprit at index ${culprit} of 20 in chunks of 8`, async () => {
      const items = raws(20);
      const culpritId = items[culprit].id as string;
      const { ingest, inserts, stored } = setup({ rejectIds: [culpritId] });
      const result = await ingest(items, { chunkSize: 8 });
      const expected = items.map((_, i) => i === culprit ? "STORAGE_FAILED" : "created");
      assert.deepEqual(codes(result.items), expected);
      assert.equal(result.items[culprit].id, culpritId);
      assert.match(result.items[culprit].error!.message, /a database rule refused it/);
      assert.deepEqual([result.created, result.failed], [19, 1]);
      assert.equal(stored.size, 19);
      assert.ok(!stored.has(culpritId));
      assert.ok(
        inserts.some((call) => call.ids.length === 1 && call.ids[0] === culpritId),
        "the culprit is tried on its own",
      );
      // Bisecting 8 items costs at most 2·log2(8) extra calls beyond the 3 chunks.
      assert.ok(inserts.length <= 3 + 6, `${inserts.length} insert calls`);
    });
  }

  await t.step("two culprits in the same chunk both fail and nothing else does", async () => {
    const items = raws(16);
    const { ingest } = setup({ rejectIds: [items[2].id as string, items[6].id as string] });
    const result = await ingest(items, { chunkSize: 16 });
    assert.deepEqual(
      result.items.filter((item) => item.status === "failed").map((item) => item.index),
      [2, 6],
    );
    assert.equal(result.created, 14);
  });
});

Deno.test("a batch whose every item is refused costs its chunks plus at most maxSplitStatements inserts", async (t) => {
  await t.step(
    "10,000 refused items in chunks of 500: 20 + 32 inserts, every item STORAGE_FAILED",
    async () => {
      const items = raws(10_000);
      const { ingest, inserts, stored } = setup({
        rejectIds: items.map((item) => item.id as string),
      });
      const result = await ingest(items, { chunkSize: 500 });
      assert.equal(inserts.length, 20 + MAX_SPLIT_STATEMENTS, `${inserts.length} insert calls`);
      assert.equal(stored.size, 0);
      assert.equal(result.failed, 10_000);
      assert.ok(result.items.every((item) => item.error?.code === "STORAGE_FAILED"));
      const grouped = result.items.filter((item) =>
        /refused the group of \d+/.test(item.error!.message)
      );
      assert.ok(grouped.length > 9_000, "most fail as part of a group, not one by one");
      assert.match(
        grouped.at(-1)!.error!.message,
        /group of 500 executions .*a database rule refused it/,
      );
    },
  );

  await t.step(
    "the budget is shared by the batch: a culprit found first is still isolated exactly",
    async () => {
      const items = raws(40);
      const reject = [items[3].id as string, ...items.slice(20).map((item) => item.id as string)];
      const { ingest, inserts } = setup({ rejectIds: reject });
      const result = await ingest(items, { chunkSize: 20, maxSplitStatements: 10 });
      assert.deepEqual(
        codes(result.items).slice(0, 20),
        items.slice(0, 20).map((_, i) => i === 3 ? "STORAGE_FAILED" : "created"),
      );
      assert.ok(result.items.slice(20).every((item) => item.error?.code === "STORAGE_FAILED"));
      assert.ok(inserts.length <= 2 + 10, `${inserts.length} insert calls`);
    },
  );

  await t.step("maxSplitStatements 0 fails a refused chunk whole, in one statement", async () => {
    const items = raws(10);
    const { ingest, inserts } = setup({ rejectIds: [items[4].id as string] });
    const result = await ingest(items, { chunkSize: 10, maxSplitStatements: 0 });
    assert.equal(inserts.length, 1);
    assert.equal(result.failed, 10);
  });
});

Deno.test("an unavailable database on the 2nd chunk keeps the 1st chunk and fails every later item with STORAGE_UNAVAILABLE", async () => {
  const { ingest, inserts, stored, offered } = setup({
    failCalls: new Map([[2, "unavailable"]]),
  });
  const items = raws(17);
  const result = await ingest(items, { chunkSize: 5 });
  assert.equal(inserts.length, 2, "no insert after the database went away");
  assert.deepEqual(
    codes(result.items),
    items.map((_, i) => i < 5 ? "created" : "STORAGE_UNAVAILABLE"),
  );
  assert.match(result.items[5].error!.message, /the database is away; retry later/);
  assert.deepEqual([result.created, result.duplicates, result.failed], [5, 0, 12]);
  assert.equal(stored.size, 5);
  assert.deepEqual(
    offered(),
    items.slice(0, 5).map((i) => i.id),
  );
});

Deno.test("an unavailable database while bisecting a rejected chunk stops the batch there", async () => {
  const items = raws(8);
  // Call 1 (the whole chunk) is rejected; call 2 (its first half) finds the database gone.
  const { ingest, inserts } = setup({
    rejectIds: [items[1].id as string],
    failCalls: new Map([[2, "unavailable"]]),
  });
  const result = await ingest(items, { chunkSize: 8 });
  assert.equal(inserts.length, 2);
  assert.deepEqual(codes(result.items), items.map(() => "STORAGE_UNAVAILABLE"));
});

Deno.test("ids the insert skipped are duplicates with the same content and ID_CONFLICT with other content", async () => {
  const same = raw(1);
  const changed = raw(2);
  const stored = new Map([
    [same.id as string, recordOf(same)],
    [changed.id as string, recordOf({ ...changed, comment: "stored earlier" })],
  ]);
  const { ingest, lookups, offered } = setup({ stored });
  const result = await ingest([raw(0), same, changed, raw(3)], { chunkSize: 10 });
  assert.deepEqual(codes(result.items), ["created", "duplicate", "ID_CONFLICT", "created"]);
  assert.equal(result.items[1].error, undefined);
  assert.equal(result.items[2].status, "failed");
  assert.match(result.items[2].error!.message, /already stored with other content/);
  assert.deepEqual(lookups, [[same.id, changed.id]], "only the skipped ids are looked up");
  assert.deepEqual([result.created, result.duplicates, result.failed], [2, 1, 1]);
  assert.deepEqual(offered(), [raw(0).id, raw(3).id]);
});

Deno.test("the sink gets each chunk that stored something, with exactly its created executions, batchId and createdAt", async () => {
  const items = raws(6);
  const stored = new Map([[items[4].id as string, recordOf(items[4])]]);
  const { ingest, offered, chunkIds, offers } = setup({
    stored,
    rejectIds: [items[1].id as string],
  });
  items[3] = raw(3, { status: "GREEN" });
  const result = await ingest(items, { chunkSize: 2 });
  assert.deepEqual(codes(result.items), [
    "created",
    "STORAGE_FAILED",
    "created",
    "VALIDATION_FAILED",
    "duplicate",
    "created",
  ]);
  assert.deepEqual(chunkIds, ["chunk-2", "chunk-4", "chunk-5"], "one per insert that stored");
  assert.deepEqual(offered(), [items[0].id, items[2].id, items[5].id]);
  for (const execution of offers.flat()) {
    assert.equal(execution.batchId, result.batchId);
    assert.equal(execution.createdAt, CREATED_AT);
  }
  assert.deepEqual(offers[0][0], {
    ...recordOf(items[0]),
    batchId: result.batchId,
    createdAt: CREATED_AT,
  });
});

Deno.test("an UnparseableItem fails with VALIDATION_FAILED and its reason as the only detail", async () => {
  const { ingest } = setup();
  const reason = "line 2 is not valid JSON: Unexpected token";
  const result = await ingest([raw(0), new UnparseableItem(reason), raw(2)], { chunkSize: 10 });
  assert.deepEqual(codes(result.items), ["created", "VALIDATION_FAILED", "created"]);
  assert.deepEqual(result.items[1], {
    index: 1,
    id: null,
    status: "failed",
    error: {
      code: "VALIDATION_FAILED",
      message: "Cannot accept execution at index 1: 1 problem (see details)",
      details: [{ path: "", message: reason }],
    },
  });
});

Deno.test("verdicts come back in request order, each with its own index", async () => {
  const items: unknown[] = raws(12);
  const stored = new Map([[raw(4).id as string, recordOf(raw(4))]]);
  const { ingest } = setup({ stored, rejectIds: [raw(9).id as string] });
  items[1] = raw(1, { testCaseKey: "" });
  items[2] = null;
  items[6] = raw(0);
  items[7] = new UnparseableItem("line 8 is not valid JSON");
  const result = await ingest(items, { chunkSize: 3 });
  assert.equal(result.items.length, 12);
  assert.deepEqual(result.items.map((item) => item.index), items.map((_, i) => i));
  assert.deepEqual(codes(result.items), [
    "created",
    "VALIDATION_FAILED",
    "VALIDATION_FAILED",
    "created",
    "duplicate",
    "created",
    "DUPLICATE_IN_BATCH",
    "VALIDATION_FAILED",
    "created",
    "STORAGE_FAILED",
    "created",
    "created",
  ]);
  assert.equal(result.items[1].id, raw(1).id, "an invalid item echoes the id it was sent with");
  assert.equal(result.items[2].id, null);
  assert.deepEqual([result.total, result.created, result.duplicates, result.failed], [12, 6, 1, 5]);
});

Deno.test("items without an id get one from newId after the batchId", async () => {
  const { ingest } = setup();
  const { id: _id, ...noId } = raw(1);
  const result = await ingest([noId, noId], { chunkSize: 10 });
  assert.equal(result.batchId, "0195f0e2-0000-7000-8000-000000000001");
  assert.deepEqual(result.items.map((item) => item.id), [
    "0195f0e2-0000-7000-8000-000000000002",
    "0195f0e2-0000-7000-8000-000000000003",
  ]);
  assert.deepEqual(codes(result.items), ["created", "created"]);
});

Deno.test("the batch summary is saved with the counts when something was stored, and not otherwise", async (t) => {
  await t.step("a batch with stored items saves its counts", async () => {
    const { ingest, summaries } = setup();
    const items: unknown[] = raws(3);
    items[1] = null;
    const result = await ingest(items, { chunkSize: 10 });
    assert.equal(summaries.length, 1);
    assert.equal(summaries[0].batchId, result.batchId);
    assert.deepEqual(
      [summaries[0].total, summaries[0].created, summaries[0].duplicates, summaries[0].failed],
      [3, 2, 0, 1],
    );
    assert.equal(summaries[0].durationMs, 250, "the span of the monotonic clock, not a wall time");
    assert.equal(summaries[0].uploadedBy, null);
    assert.deepEqual(summaries[0].failures.map((f) => [f.index, f.id, f.code]), [
      [1, null, "VALIDATION_FAILED"],
    ]);
    assert.deepEqual(summaries[0].failures[0].details, [
      { path: "", message: "must be a JSON object, got null" },
    ]);
  });

  await t.step("the summary names the key that sent the batch", async () => {
    const { ingest, summaries } = setup();
    await ingest(raws(1), { chunkSize: 10, uploadedBy: "0123456789abcdef" });
    assert.equal(summaries[0].uploadedBy, "0123456789abcdef");
    assert.deepEqual(summaries[0].failures, []);
  });

  await t.step("a batch where every item failed validation saves nothing", async () => {
    const { ingest, summaries, inserts } = setup();
    const result = await ingest([null, 42], { chunkSize: 10 });
    assert.equal(result.failed, 2);
    assert.equal(inserts.length, 0);
    assert.deepEqual(summaries, []);
  });
});
