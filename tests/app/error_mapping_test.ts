// The one error mapper, in-process: every error response's envelope, request id and headers, what an
// unexpected error shows and logs, the count of each code, and describeError's decisions.
import assert from "node:assert/strict";
import { HTTPException } from "hono/http-exception";
import { StorageError } from "../../src/domain/errors.ts";
import { describeError } from "../../src/http/error_mapper.ts";
import { ApiError } from "../../src/http/errors.ts";
import { createTestApp, postBatch } from "../_app.ts";
import { executions } from "../_fakes/fixtures.ts";

const USER = "user-key-0123456789";
const ADMIN = "admin-key-0123456789";

/** Checks status, then content type, then the envelope and its request id; returns the response. */
async function expectError(response: Response, status: number, code: string) {
  assert.equal(response.status, status);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  const body = await response.json();
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "requestId"]);
  assert.equal(body.error.code, code);
  assert.equal(body.error.requestId, response.headers.get("x-request-id"));
  return { response, body };
}

Deno.test("errors from routes, middleware and the not-found handler share the envelope and its request id", async (t) => {
  const test = createTestApp({ userKeys: [USER], adminKeys: [ADMIN] });
  const user = { authorization: `Bearer ${USER}` };

  await t.step("no key is 401 with the Bearer challenge", async () => {
    const { response } = await expectError(await test.request("/v1/batches"), 401, "UNAUTHORIZED");
    assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="execution-ingest"');
  });
  await t.step("a wrong key is 401 naming the invalid token", async () => {
    const { response } = await expectError(
      await test.request("/v1/batches", { headers: { authorization: "Bearer nope" } }),
      401,
      "UNAUTHORIZED",
    );
    assert.match(response.headers.get("www-authenticate") ?? "", /error="invalid_token"/);
  });
  await t.step("a user key on an admin route is 403", async () => {
    await expectError(
      await test.request("/admin/dead-letters", { headers: user }),
      403,
      "FORBIDDEN",
    );
  });
  await t.step("a bad query parameter is 400 INVALID_PARAMETER", async () => {
    await expectError(
      await test.request("/v1/batches?limit=0", { headers: user }),
      400,
      "INVALID_PARAMETER",
    );
  });
  await t.step("an unknown route is 404 NOT_FOUND", async () => {
    await expectError(await test.request("/v2/nothing"), 404, "NOT_FOUND");
  });
  await t.step("each code was counted once", async () => {
    const text = await (await test.request("/metrics")).text();
    for (const [code, count] of [["UNAUTHORIZED", 2], ["FORBIDDEN", 1], ["NOT_FOUND", 1]]) {
      assert.match(
        text,
        new RegExp(`^execution_ingest_http_errors_total\\{code="${code}"\\} ${count}$`, "m"),
      );
    }
  });
});

Deno.test("an unexpected error is 500 INTERNAL_ERROR that shows nothing of it, and is logged once with its class", async () => {
  const test = createTestApp();
  test.store.fail(new TypeError("column secret_internals does not exist"));
  const { body } = await expectError(
    await test.request(`/v1/executions/${crypto.randomUUID()}`),
    500,
    "INTERNAL_ERROR",
  );
  assert.doesNotMatch(JSON.stringify(body), /secret_internals|TypeError/);
  const logged = test.lines.filter((line) => line.level === "error");
  assert.equal(logged.length, 1);
  assert.deepEqual(
    [logged[0].message, (logged[0].fields as { errorClass: string }).errorClass],
    ["Unexpected error while handling a request", "TypeError"],
  );
});

Deno.test("a storage failure on a read is 503 STORAGE_UNAVAILABLE with Retry-After 5", async () => {
  const test = createTestApp();
  test.store.fail("unavailable");
  const { response } = await expectError(
    await test.request("/v1/batches"),
    503,
    "STORAGE_UNAVAILABLE",
  );
  assert.equal(response.headers.get("retry-after"), "5");
});

Deno.test("a body over the size limit is 413 without Retry-After; one over the bytes in flight is 503 SERVICE_SATURATED with Retry-After 2", async () => {
  const test = createTestApp({ bytesInFlight: 1024, limits: { maxBytes: 1024 } });
  const items = executions(5);
  const { response } = await expectError(await postBatch(test, items), 413, "PAYLOAD_TOO_LARGE");
  assert.equal(response.headers.get("retry-after"), null, "a 413 is not worth a retry");
  const small = createTestApp({ bytesInFlight: 1024, limits: { maxBytes: 100_000 } });
  const saturated = await expectError(await postBatch(small, items), 503, "SERVICE_SATURATED");
  assert.equal(saturated.response.headers.get("retry-after"), "2");
});

Deno.test("describeError decides status, code, message and headers for the API and the console alike", async (t) => {
  await t.step("an ApiError as it says, with its own headers and body", () => {
    const error = new ApiError(401, "UNAUTHORIZED", "no key", {
      headers: { "WWW-Authenticate": "Bearer" },
      body: { extra: 1 },
    });
    assert.deepEqual(describeError(error), {
      status: 401,
      code: "UNAUTHORIZED",
      message: "no key",
      headers: { "WWW-Authenticate": "Bearer" },
      body: { extra: 1 },
    });
  });
  await t.step("Retry-After only on a 503 whose code is worth a retry", () => {
    assert.equal(
      describeError(new ApiError(503, "SERVICE_SATURATED", "busy")).headers["Retry-After"],
      "2",
    );
    assert.equal(
      describeError(new ApiError(503, "UPLOAD_INTERRUPTED", "cut")).headers["Retry-After"],
      "2",
    );
    assert.equal(
      describeError(new StorageError("unavailable", "down")).headers["Retry-After"],
      "5",
    );
    assert.deepEqual(describeError(new ApiError(400, "INVALID_BODY", "bad")).headers, {});
  });
  await t.step("a 408 closes the connection", () => {
    assert.deepEqual(describeError(new ApiError(408, "BODY_READ_TIMEOUT", "slow")).headers, {
      Connection: "close",
    });
  });
  await t.step("Hono's 4xx keep their status; its 403 is the console's cross-site refusal", () => {
    const bad = describeError(new HTTPException(400, { message: "Malformed JSON" }));
    assert.deepEqual([bad.status, bad.code, bad.message], [400, "INVALID_BODY", "Malformed JSON"]);
    const crossSite = describeError(new HTTPException(403));
    assert.deepEqual([crossSite.status, crossSite.code], [403, "FORBIDDEN"]);
    assert.match(crossSite.message, /another site/);
  });
  await t.step("anything else is a 500 that names only the error's class, for the log", () => {
    const response = describeError(new RangeError("internals"));
    assert.deepEqual([response.status, response.code, response.unexpected], [
      500,
      "INTERNAL_ERROR",
      "RangeError",
    ]);
    assert.doesNotMatch(response.message, /internals/);
  });
});
