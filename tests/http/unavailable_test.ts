// 503 paths against the real PostgreSQL: the database going away, and the pool saturated (the
// service's batch slots saturated is in-process: tests/app/batch_route_test.ts).
import assert from "node:assert/strict";
import { DATABASE_URL, executions, postBatch, startTestService } from "../_helpers.ts";

/** A TCP proxy in front of the real PostgreSQL that the test can cut, as a network failure would. */
function startProxy(target: { hostname: string; port: number }) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let serving = true;
  (async () => {
    for await (const client of listener) {
      if (!serving) {
        client.close();
        continue;
      }
      const server = await Deno.connect(target);
      open.add(client).add(server);
      const pipe = (from: Deno.Conn, to: Deno.Conn) =>
        from.readable.pipeTo(to.writable).catch(() => {}).finally(() => {
          for (const conn of [from, to]) {
            if (open.delete(conn)) {
              try {
                conn.close();
              } catch {
                // Already closed by the other direction.
              }
            }
          }
        });
      pipe(client, server);
      pipe(server, client);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    /** Closes every connection; new ones are accepted and dropped at once (a half-open server). */
    cut() {
      serving = false;
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
      open.clear();
    },
    /** Closes every connection and the port: new ones are refused (a server that is down). */
    close() {
      this.cut();
      try {
        listener.close();
      } catch {
        // Already closed.
      }
    },
  };
}

/** The service on the real PostgreSQL through a proxy, after one batch went through it. */
async function startBehindProxy() {
  const real = new URL(DATABASE_URL);
  const proxy = startProxy({ hostname: real.hostname, port: Number(real.port || 5432) });
  const viaProxy = new URL(DATABASE_URL);
  viaProxy.port = String(proxy.port);
  const { url, close } = await startTestService({
    DATABASE_URL: viaProxy.toString(),
    DB_CONNECT_TIMEOUT_S: "1",
    DB_STATEMENT_TIMEOUT_MS: "1000",
  });
  assert.equal((await postBatch(url, executions(10))).status, 200);
  return { proxy, url, close };
}

Deno.test("when the database cannot be reached a batch is 503 STORAGE_UNAVAILABLE with Retry-After, never a 500", async () => {
  const { proxy, url, close } = await startBehindProxy();
  try {
    proxy.close();
    const response = await postBatch(url, executions(10));
    assert.equal(response.status, 503);
    assert.match(response.headers.get("content-type") ?? "", /application\/json/);
    assert.equal(response.headers.get("retry-after"), "5");
    const body = await response.json();
    assert.equal(body.error.code, "STORAGE_UNAVAILABLE");
    assert.ok(body.error.requestId);
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal((await ready.json()).database.status, "down");
    const read = await fetch(`${url}/v1/executions/${crypto.randomUUID()}`);
    assert.equal(read.status, 503);
    assert.equal((await read.json()).error.code, "STORAGE_UNAVAILABLE");
  } finally {
    // The service's pool closes against a dead proxy; the schema is dropped over a direct connection.
    await close();
    proxy.close();
  }
});

Deno.test("a database that accepts connections and drops them answers 503 within the deadline instead of hanging", async () => {
  const { proxy, url, close } = await startBehindProxy();
  try {
    proxy.cut();
    const began = performance.now();
    const response = await postBatch(url, executions(10));
    const ms = performance.now() - began;
    assert.equal(response.status, 503);
    assert.equal((await response.json()).error.code, "STORAGE_UNAVAILABLE");
    // Measured: about 10 ms. Each connection attempt is bounded by DB_CONNECT_TIMEOUT_S (1 s);
    // a 503 that waits longer than that (plus a margin for a busy machine) is a hang.
    assert.ok(ms < 1000 + 1000, `answered after ${Math.round(ms)} ms`);
  } finally {
    await close();
    proxy.close();
  }
});

Deno.test("a pool wait past DB_ACQUIRE_TIMEOUT_MS turns into STORAGE_UNAVAILABLE verdicts, not a pool error", async () => {
  const { url, close } = await startTestService({
    DB_POOL_MAX: "1",
    DB_ACQUIRE_TIMEOUT_MS: "1",
    BATCH_CHUNK_SIZE: "50",
  });
  try {
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => postBatch(url, executions(500))),
    );
    const bodies = await Promise.all(responses.map((response) => response.json()));
    const statuses = responses.map((response) => response.status);
    assert.ok(statuses.every((status) => [200, 207, 503].includes(status)), `statuses ${statuses}`);
    assert.ok(
      statuses.some((status) => status !== 200),
      "the one-connection pool could not serve them all",
    );
    for (const [i, body] of bodies.entries()) {
      if (statuses[i] === 503) {
        assert.equal(body.error.code, "STORAGE_UNAVAILABLE");
        continue;
      }
      for (const item of body.items) {
        if (item.status === "failed") {
          assert.equal(item.error.code, "STORAGE_UNAVAILABLE");
          assert.match(item.error.message, /database is busy/);
        }
      }
    }
  } finally {
    await close();
  }
});
