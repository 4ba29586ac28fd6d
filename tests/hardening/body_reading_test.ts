// Cases 4 and 5 of the hardening corpus: bodies are read before a batch slot, within a deadline
// and a budget of bytes in flight, and counted while they arrive; on the real service.
import assert from "node:assert/strict";
import { readPeakRss } from "../../bench/service_process.ts";
import {
  captureLogs,
  dropSchema,
  eventually,
  executions,
  postBatch,
  slowUpload,
  spawnService,
  startTestService,
  uniqueName,
} from "../_helpers.ts";

const encoder = new TextEncoder();

Deno.test("16 slow uploads hold no batch slot: a normal batch is answered at once, and each slow one gets 408", async () => {
  const { service, url, close } = await startTestService({
    BATCH_MAX_CONCURRENT: "16",
    BATCH_READ_TIMEOUT_MS: "1500",
  });
  const slow = await Promise.all(
    Array.from({ length: 16 }, (_, i) => slowUpload(service.port, i % 2 ? 100_000 : undefined)),
  );
  try {
    const began = performance.now();
    const response = await postBatch(url, executions(10));
    assert.equal(response.status, 200, "was 503 SERVICE_SATURATED after 15 s");
    await response.body?.cancel();
    assert.ok(performance.now() - began < 1000, "answered without waiting for the slow ones");
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    for (const client of slow) {
      const { status, body } = await client.response();
      assert.match(status, /^HTTP\/1\.1 408 /);
      assert.equal(JSON.parse(body).error.code, "BODY_READ_TIMEOUT");
    }
  } finally {
    for (const client of slow) client.close();
    await close();
  }
});

Deno.test("bodies past BATCH_BYTES_IN_FLIGHT get 503 SERVICE_SATURATED with Retry-After until bytes are given back", async () => {
  const { service, url, close } = await startTestService({
    BATCH_MAX_BYTES: "4096",
    BATCH_BYTES_IN_FLIGHT: "8192",
    BATCH_READ_TIMEOUT_MS: "1000",
  });
  // Two declared 4,096-byte bodies take the whole budget before a byte of them has arrived.
  const slow = [await slowUpload(service.port, 4096), await slowUpload(service.port, 4096)];
  try {
    await eventually(
      async () => {
        const response = await postBatch(url, executions(1));
        await response.body?.cancel();
        return response.status === 503;
      },
      2000,
      20,
    );
    const refused = await postBatch(url, executions(1));
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "2");
    const body = await refused.json();
    assert.equal(body.error.code, "SERVICE_SATURATED");
    assert.match(body.error.message, /bytes of request bodies/);
    for (const client of slow) assert.match((await client.response()).status, / 408 /);
    const later = await postBatch(url, executions(1));
    assert.equal(later.status, 200, "the timed-out uploads gave their bytes back");
    await later.body?.cancel();
  } finally {
    for (const client of slow) client.close();
    await close();
  }
});

Deno.test("a client that goes away mid-upload is logged at info and leaves no error line", async () => {
  const { logger, lines } = captureLogs("info");
  const { service, url, close } = await startTestService({}, { logger });
  try {
    const client = await slowUpload(service.port, 50_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    client.close();
    await eventually(() => lines.some((line) => line.includes("Upload interrupted")), 5000, 20);
    const line = JSON.parse(lines.find((line) => line.includes("Upload interrupted"))!);
    assert.deepEqual([line.level, line.reason], ["info", "client"]);
    assert.ok(!lines.some((line) => /"level":"(error|fatal)"/.test(line)), lines.join("\n"));
    assert.equal((await postBatch(url, executions(1))).status, 200);
  } finally {
    await close();
  }
});

Deno.test("16 MiB bodies of millions of items are refused with 413 while they are read, in bounded memory", async () => {
  const schema = uniqueName("t");
  const service = await spawnService({ DB_SCHEMA: schema });
  try {
    const before = readPeakRss(service.child.pid) / 2 ** 20;
    const lines = encoder.encode("1\n".repeat(8 * 1024 * 1024 - 10));
    const array = encoder.encode(`{"executions":[${"0,".repeat(8 * 1024 * 1024 - 20)}0]}`);
    const send = async (body: Uint8Array<ArrayBuffer>, type: string) => {
      const response = await fetch(`${service.url}/v1/executions/batch`, {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
      return { status: response.status, body: await response.json() };
    };
    // Four at once: the default budget (24 MiB) reads one, the others may get 503 for a moment.
    const answers = await Promise.all([
      send(lines, "application/x-ndjson"),
      send(lines, "application/x-ndjson"),
      send(array, "application/json"),
      send(array, "application/json"),
    ]);
    for (const { status, body } of answers) {
      assert.ok([413, 503].includes(status), `status ${status}`);
      if (status === 413) {
        assert.equal(body.error.code, "TOO_MANY_ITEMS");
        assert.match(body.error.message, /more than 10000 executions/);
      } else assert.equal(body.error.code, "SERVICE_SATURATED");
    }
    assert.ok(answers.some(({ status }) => status === 413));
    const growth = readPeakRss(service.child.pid) / 2 ** 20 - before;
    console.log(`four 16 MiB bodies: peak RSS grew ${growth.toFixed(0)} MB`);
    // Before: one such NDJSON body took the peak from 80 MB to 717 MB, four to 1,828 MB.
    assert.ok(growth < 200, `peak RSS grew ${growth.toFixed(0)} MB`);
  } finally {
    await service.stop();
    await dropSchema(schema);
  }
});
