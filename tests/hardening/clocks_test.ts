// Case 11 of the hardening corpus: a batch's instants come from one clock (the database's), so a
// process clock set an hour ahead cannot make a batch end before it began; real PostgreSQL.
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { executions, postBatch, sqlFor, startTestService } from "../_helpers.ts";

Deno.test("with the process clock an hour ahead, received_at <= every created_at <= completed_at", async () => {
  const { url, config, close } = await startTestService({ BATCH_CHUNK_SIZE: "100" });
  const sql = sqlFor(config.DB_SCHEMA);
  // Only Date is faked: timers and the monotonic clock run as they do.
  const clock = FakeTimers.install({ toFake: ["Date"], now: Date.now() + 3_600_000 });
  let batchId: string;
  try {
    const response = await postBatch(url, executions(500));
    assert.equal(response.status, 200);
    batchId = (await response.json()).batchId;
  } finally {
    clock.uninstall();
  }
  try {
    const [row] = await sql`
      select b.received_at <= min(e.created_at) as received_first,
        b.completed_at >= max(e.created_at) as completed_last,
        extract(epoch from b.completed_at - b.received_at)::float8 as seconds
      from batches b join executions e on e.batch_id = b.id
      where b.id = ${batchId}
      group by b.id`;
    // Before: received_at came from the process clock, so this batch "took" -3,600 s.
    assert.ok(row.seconds >= 0 && row.seconds < 30, `completed - received = ${row.seconds} s`);
    assert.equal(row.received_first, true);
    assert.equal(row.completed_last, true);
    const view = await (await fetch(`${url}/v1/batches/${batchId}`)).json();
    assert.ok(view.receivedAt <= view.completedAt);
  } finally {
    await sql.end();
    await close();
  }
});
