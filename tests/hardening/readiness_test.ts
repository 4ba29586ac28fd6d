// Case 10 of the hardening corpus: /readyz on the real service is cheap and cached: a flood of
// probes costs one `select 1` per second, never a count of the outbox or a read of migrations.
import assert from "node:assert/strict";
import { executions, postBatch, startTestService } from "../_helpers.ts";

Deno.test("500 concurrent /readyz probes cost one database round trip and no outbox count", async () => {
  const statements: string[] = [];
  const { url, close } = await startTestService({}, {
    onQuery: (query) => void statements.push(query),
  });
  try {
    assert.equal((await postBatch(url, executions(100))).status, 200);
    statements.length = 0;
    const began = performance.now();
    const responses = await Promise.all(
      Array.from({ length: 500 }, () => fetch(`${url}/readyz`)),
    );
    const bodies = await Promise.all(responses.map((response) => response.json()));
    const ms = performance.now() - began;
    assert.ok(responses.every((response) => response.status === 200));
    assert.ok(bodies.every((body) => body.status === "ready" && body.outbox === undefined));
    const probes = statements.filter((query) => !/^\s*select 1\s*$/.test(query));
    assert.deepEqual(probes, [], "nothing but the ping: no outbox count, no migrations read");
    // Before: pending migrations read from disk and the outbox counted on every call (about
    // 160 to 250 ms each with a 2-million-row backlog).
    // At least one real ping reached the database (a no-op ping would send none), at most two.
    assert.ok(
      statements.length >= 1 && statements.length <= 2,
      `${statements.length} statements for 500 probes`,
    );
    console.log(`500 probes: ${statements.length} statement(s), ${Math.round(ms)} ms in all`);
  } finally {
    await close();
  }
});
