// The console's bodies are bounded as the API's are: forms by CONSOLE_FORM_MAX_BYTES, uploads by the
// batch limits and the byte budget, all before parsing and within BATCH_READ_TIMEOUT_MS; bad forms
// are 400s. The hostile cases run against the service as its own process with the start task's heap.
import assert from "node:assert/strict";
import { captureLogs, dropSchema, startTestService, uniqueName } from "../../_helpers.ts";
import { codeOf, signIn, spawnWithStartFlags, tokenOf } from "./_console.ts";

const USER_KEY = "console-user-key-0123456789";
const ADMIN_KEY = "console-admin-key-0123456789";
const KEYS = { API_KEYS: USER_KEY, ADMIN_API_KEYS: ADMIN_KEY };
const FORM = "application/x-www-form-urlencoded";

/** A form body of `bytes` bytes of `a=1&`, sent as a stream (chunked, no length declared). */
function chunkedForm(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode("a=1&".repeat(16 * 1024));
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

/** Posts a body to a console form route; returns the status, the page's code and its type. */
async function post(url: string, path: string, body: BodyInit, headers: HeadersInit = {}) {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { origin: url, "content-type": FORM, ...headers },
    body,
    redirect: "manual",
  });
  const page = await response.text();
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    code: codeOf(page),
  };
}

Deno.test("a 12 MB or 2 MB sign-in form, declared or chunked, is refused 413 before it is read, and the service does not grow", async () => {
  const schema = uniqueName("bounds");
  const service = await spawnWithStartFlags({ ...KEYS, DB_SCHEMA: schema });
  try {
    const before = service.peakKb();
    const answers = [
      await post(service.url, "/console/sign-in", "a=1&".repeat(3_000_000)),
      await post(service.url, "/console/sign-in", "a=1&".repeat(500_000)),
      await post(service.url, "/console/sign-in", chunkedForm(12_000_000)),
    ];
    const grownKb = service.peakKb() - before;
    console.log(`peak RSS ${service.peakKb()} kB, grown by ${grownKb} kB over the three forms`);
    for (const answer of answers) {
      assert.equal(answer.status, 413);
      assert.match(answer.type ?? "", /^text\/html/);
      assert.equal(answer.code, "PAYLOAD_TOO_LARGE");
    }
    // Reading the 2 MB form whole (or parsing the 12 MB one) grew it by far more than this.
    assert.ok(grownKb < 4096, `the peak grew by ${grownKb} kB`);
    // The default bound lets a real sign-in through.
    assert.ok((await signIn(service.url, USER_KEY)).cookie.startsWith("ei_console="));
  } finally {
    await service.stop();
    await dropSchema(schema);
  }
});

Deno.test("sign-out and re-queue forms over CONSOLE_FORM_MAX_BYTES are refused 413, a smaller one goes through", async () => {
  const { url, close } = await startTestService({ ...KEYS, CONSOLE_FORM_MAX_BYTES: "2048" });
  try {
    const admin = await signIn(url, ADMIN_KEY);
    const padded = (fields: Record<string, string>, bytes: number) =>
      new URLSearchParams({ ...fields, pad: "x".repeat(bytes) }).toString();
    const headers = { cookie: admin.cookie };
    const requeue = await post(
      url,
      "/console/publishing/requeue",
      padded({ _csrf: admin.token, all: "1" }, 3000),
      headers,
    );
    assert.deepEqual([requeue.status, requeue.code], [413, "PAYLOAD_TOO_LARGE"]);
    const signOut = await post(
      url,
      "/console/sign-out",
      padded({ _csrf: admin.token }, 3000),
      headers,
    );
    assert.deepEqual([signOut.status, signOut.code], [413, "PAYLOAD_TOO_LARGE"]);
    const small = await post(
      url,
      "/console/publishing/requeue",
      padded({ _csrf: admin.token, all: "1" }, 1000),
      headers,
    );
    assert.equal(small.status, 303);
  } finally {
    await close();
  }
});

Deno.test("a sign-in form that stops arriving is cut at BATCH_READ_TIMEOUT_MS with 408 BODY_READ_TIMEOUT", async () => {
  const { service, close } = await startTestService({ ...KEYS, BATCH_READ_TIMEOUT_MS: "500" });
  const origin = `http://127.0.0.1:${service.port}`;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: service.port });
  try {
    const began = performance.now();
    await conn.write(new TextEncoder().encode(
      `POST /console/sign-in HTTP/1.1\r\nhost: 127.0.0.1:${service.port}\r\norigin: ${origin}\r\n` +
        `content-type: ${FORM}\r\ncontent-length: 100\r\n\r\nkey=abc`,
    ));
    let text = "";
    const buffer = new Uint8Array(8192);
    while (!text.includes("</html>")) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    const seconds = (performance.now() - began) / 1000;
    assert.match(text.split("\r\n")[0], /^HTTP\/1\.1 408/);
    assert.equal(codeOf(text), "BODY_READ_TIMEOUT");
    assert.ok(seconds >= 0.45 && seconds < 5, `answered after ${seconds} s`);
  } finally {
    conn.close();
    await close();
  }
});

Deno.test("a multipart sign-in with no boundary, a broken multipart body or a form that is not UTF-8 is a 400 INVALID_BODY, logged below error", async () => {
  const { logger, lines } = captureLogs("info");
  const { url, close } = await startTestService(KEYS, { logger });
  try {
    const cases: Array<[string, BodyInit]> = [
      ["multipart/form-data", "key=abc"],
      ["multipart/form-data; boundary=xyz", "key=abc, with no part at all"],
      [FORM, new Uint8Array([0x6b, 0x65, 0x79, 0x3d, 0xff, 0xfe])],
    ];
    for (const [type, body] of cases) {
      const answer = await post(url, "/console/sign-in", body, { "content-type": type });
      assert.equal(answer.status, 400, type);
      assert.match(answer.type ?? "", /^text\/html/);
      assert.equal(answer.code, "INVALID_BODY", type);
    }
    const unsupported = await post(url, "/console/sign-in", "key", {
      "content-type": "text/plain",
    });
    assert.deepEqual([unsupported.status, unsupported.code], [415, "UNSUPPORTED_MEDIA_TYPE"]);
    const errors = lines.filter((line) => JSON.parse(line).level === "error");
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

Deno.test("a 15 MB upload of 5 million {} rows is refused TOO_MANY_ITEMS before it is parsed, and the service stays up", async () => {
  const schema = uniqueName("bounds");
  const service = await spawnWithStartFlags({
    API_KEYS: USER_KEY,
    DB_SCHEMA: schema,
  });
  try {
    const session = await signIn(service.url, USER_KEY);
    const form = new FormData();
    form.set("_csrf", session.token);
    form.set("file", new File(["[" + Array(5_000_000).fill("{}").join(",") + "]"], "rows.json"));
    const before = service.rssKb();
    const response = await fetch(`${service.url}/console/upload`, {
      method: "POST",
      headers: { origin: service.url, cookie: session.cookie },
      body: form,
    });
    const page = await response.text();
    console.log(`RSS before ${before} kB, peak ${service.peakKb()} kB (start task heap flags)`);
    assert.equal(response.status, 413);
    assert.match(page, /Cannot accept 5000000 rows in one upload: the limit is 10000/);
    // Parsing the rows took the process past its heap limit; counting bytes costs a few copies.
    assert.ok(service.peakKb() - before < 200 * 1024, `peak ${service.peakKb()} kB`);
    assert.equal((await fetch(`${service.url}/healthz`)).status, 200);
  } finally {
    await service.stop();
    await dropSchema(schema);
  }
});

Deno.test("an upload is refused 503 SERVICE_SATURATED from its declared length when the byte budget cannot hold it, before its body is sent", async () => {
  // The form may exceed the file's limit by its fields and boundaries; the budget holds the file's.
  const limits = { BATCH_MAX_BYTES: "100000", BATCH_BYTES_IN_FLIGHT: "100000" };
  const { service, close } = await startTestService({ ...KEYS, ...limits });
  const origin = `http://127.0.0.1:${service.port}`;
  const session = await signIn(origin, USER_KEY);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: service.port });
  try {
    await conn.write(new TextEncoder().encode(
      `POST /console/upload HTTP/1.1\r\nhost: 127.0.0.1:${service.port}\r\norigin: ${origin}\r\n` +
        `cookie: ${session.cookie}\r\ncontent-type: multipart/form-data; boundary=b\r\n` +
        `content-length: 120000\r\n\r\n`,
    ));
    // Not a byte of the body was sent: the answer can only come from the declared length.
    const buffer = new Uint8Array(16384);
    let text = "";
    while (!text.includes("</html>")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    assert.match(text.split("\r\n")[0], /^HTTP\/1\.1 503/);
    assert.equal(codeOf(text), "SERVICE_SATURATED");
  } finally {
    conn.close();
    await close();
  }
});

Deno.test("an upload of JSON nested 10,000 levels deep is refused row by row, with a failure file that notes the depth", async () => {
  const { url, close } = await startTestService(KEYS);
  try {
    const session = await signIn(url, USER_KEY);
    const deep = "[".repeat(10_000) + "]".repeat(10_000);
    const form = new FormData();
    form.set("_csrf", session.token);
    form.set(
      "file",
      new File(
        [`[{"testCaseKey":"DEEP-1","status":"PASSED","attributes":{"a":${deep}}}]`],
        "d.json",
      ),
    );
    const response = await fetch(`${url}/console/upload`, {
      method: "POST",
      headers: { origin: url, cookie: session.cookie },
      body: form,
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
    const page = await response.text();
    assert.match(page, /VALIDATION_FAILED/);
    assert.match(page, /must not nest deeper than 32 levels/);
    const link = /href="data:application\/x-ndjson;charset=utf-8;base64,([^"]+)"/.exec(page);
    assert.ok(link, "the page links the failure file");
    const [row] = new TextDecoder().decode(
      Uint8Array.from(atob(link[1]), (char) => char.charCodeAt(0)),
    ).trim().split("\n").map((line) => JSON.parse(line));
    assert.equal(row.testCaseKey, "DEEP-1");
    assert.equal(row.attributes, "(not kept: nested deeper than 64 levels)");
    assert.equal(row._error.code, "VALIDATION_FAILED");
    // The session is still good for the next upload.
    assert.ok((await tokenOf(url, session.cookie)).length > 0);
  } finally {
    await close();
  }
});
