// The listener that binds the port before start-up: early requests wait for the app, a port in use
// is refused with the address named, and the URL it prints is one a browser can open.
import assert from "node:assert/strict";
import { bindListener, listenUrl } from "../../src/http/listener.ts";

/** Whether `pending` is still unsettled after a quiet window: the only way to see that something
 * does not happen (here: neither refused nor answered while there is no app). */
async function stillWaiting(pending: Promise<unknown>, windowMs = 150): Promise<boolean> {
  const outcome = await Promise.race([
    pending.then(() => "settled", () => "settled"),
    new Promise((resolve) => setTimeout(() => resolve("waiting"), windowMs)),
  ]);
  return outcome === "waiting";
}

Deno.test("a request sent before the app is ready waits for it and gets the app's answer", async () => {
  const listener = bindListener({ hostname: "127.0.0.1", port: 0 });
  try {
    let served = false;
    const early = fetch(`${listener.url}/healthz`);
    assert.equal(await stillWaiting(early), true);
    listener.serve(() => {
      served = true;
      return Response.json({ status: "ok" });
    });
    const response = await early;
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(await response.json(), { status: "ok" });
    assert.equal(served, true);
  } finally {
    await listener.shutdown();
  }
});

Deno.test("a request still waiting when start-up is abandoned gets 503 and the port is freed", async () => {
  const listener = bindListener({ hostname: "127.0.0.1", port: 0 });
  const waiting = fetch(`${listener.url}/healthz`);
  assert.equal(await stillWaiting(waiting), true);
  const [response] = await Promise.all([waiting, listener.shutdown()]);
  assert.equal(response.status, 503);
  await response.body?.cancel();
  const again = Deno.listen({ hostname: "127.0.0.1", port: listener.port });
  again.close();
});

Deno.test("binding a port in use fails at once with a message naming the address", () => {
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { port } = holder.addr as Deno.NetAddr;
    assert.throws(
      () => bindListener({ hostname: "127.0.0.1", port }),
      (error: Error) => {
        assert.equal(
          error.message,
          `Cannot listen on 127.0.0.1:${port}: the address is already in use; stop the ` +
            "process that holds it, or set PORT (or HOST)",
        );
        assert.ok(error.cause instanceof Deno.errors.AddrInUse);
        return true;
      },
    );
  } finally {
    holder.close();
  }
});

Deno.test("listenUrl shows a wildcard interface as loopback and brackets IPv6 hosts", () => {
  assert.equal(listenUrl("127.0.0.1", 8080), "http://127.0.0.1:8080");
  assert.equal(listenUrl("0.0.0.0", 8080), "http://127.0.0.1:8080");
  assert.equal(listenUrl("::", 8080), "http://[::1]:8080");
  assert.equal(listenUrl("::1", 80), "http://[::1]:80");
  assert.equal(listenUrl("localhost", 3000), "http://localhost:3000");
});
