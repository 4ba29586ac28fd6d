// Case 9 of the hardening corpus: whatever method a client sends, /metrics keeps a bounded set of
// label values (standard methods, OTHER), on the real service over raw HTTP/1.1.
import assert from "node:assert/strict";
import { methodLabel, statusLabel } from "../../src/metrics/metrics.ts";
import { startTestService } from "../_helpers.ts";

/** Sends one request with any method over a raw connection; returns the status line. */
async function rawRequest(port: number, method: string, path: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = `${method} ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    let text = "";
    const buffer = new Uint8Array(4096);
    while (!text.includes("\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return text.split("\r\n")[0];
  } finally {
    conn.close();
  }
}

Deno.test("300 requests with random 4,000-character methods add one OTHER series, not 300", async () => {
  const { service, url, close } = await startTestService();
  try {
    await fetch(`${url}/healthz`).then((response) => response.body?.cancel());
    const before = (await (await fetch(`${url}/metrics`)).text()).length;
    const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (let i = 0; i < 300; i++) {
      const method = Array.from({ length: 4000 }, () => letters[Math.floor(Math.random() * 26)])
        .join("");
      const status = await rawRequest(service.port, method, i % 2 ? "/healthz" : "/v1/nothing");
      assert.match(status, /^HTTP\/1\.1 \d{3} /);
    }
    const text = await (await fetch(`${url}/metrics`)).text();
    const methods = new Set([...text.matchAll(/method="([^"]*)"/g)].map((match) => match[1]));
    assert.deepEqual([...methods].sort(), ["GET", "OTHER"]);
    assert.ok(
      text.length < before + 20_000,
      `/metrics grew from ${before} to ${text.length} bytes (was 131 KB to 21 MB)`,
    );
    assert.match(text, /http_request_duration_seconds_count\{method="OTHER",route="unmatched"/);
  } finally {
    await close();
  }
});

Deno.test("label helpers keep standard methods and real statuses, and fold everything else", () => {
  for (const method of ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
    assert.equal(methodLabel(method), method);
  }
  for (const method of ["get", "PROPFIND", "X".repeat(4000), ""]) {
    assert.equal(methodLabel(method), "OTHER");
  }
  assert.deepEqual([200, 207, 503, 599].map(statusLabel), ["200", "207", "503", "599"]);
  assert.deepEqual([0, 99, 600, 1e9, 200.5].map(statusLabel), Array(5).fill("other"));
});
