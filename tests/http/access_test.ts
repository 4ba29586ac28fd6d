// Who reaches what, route by route, on the real service with keys configured (the threat model's
// table in docs/threat-model.md names these tests).
import assert from "node:assert/strict";
import { startTestService } from "../_helpers.ts";

const KEYS = {
  API_KEYS: "access-user-key-0123",
  ADMIN_API_KEYS: "access-admin-key-0123",
  CONSOLE_SESSION_SECRET: "an-access-test-session-secret-of-32-chars",
};

/**
 * What a client without any key or session may reach: probes, the API's document, sign-in, and the
 * submit CLI (public code: 200 where it is built, 503 CLI_NOT_BUILT where not).
 */
const OPEN = new Set([
  "GET /healthz",
  "GET /readyz",
  "GET /metrics",
  "GET /openapi.json",
  "GET /docs",
  "GET /docs/",
  "GET /",
  "GET /console/sign-in",
  "POST /console/sign-in",
  "GET /cli/submit.mjs",
]);
/** Static files: the API document's viewer and the console's stylesheet and icon. */
const OPEN_FILES = /^GET \/(docs|console\/assets)\/[a-z0-9._-]+$/;

Deno.test("without a key or session, only the probes, the API document and the console's sign-in answer; every other route is refused", async () => {
  const { url, service, close } = await startTestService(KEYS);
  try {
    const names = [
      ...new Set(
        service.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`),
      ),
    ];
    assert.ok(names.length > 20, `the service has its routes (${names.length})`);
    for (const name of names) {
      const [method, path] = name.split(" ");
      const response = await fetch(`${url}${path.replace(/:[a-zA-Z]+/g, crypto.randomUUID())}`, {
        method,
        // The service's own origin: the console's cross-site check is not what refuses here.
        headers: { origin: url },
        redirect: "manual",
      });
      const text = await response.text();
      if (OPEN.has(name) || OPEN_FILES.test(name)) {
        // Sign-in without a key in its form is refused; it is still reachable.
        const expected = name === "POST /console/sign-in"
          ? [400, 401, 415]
          : name === "GET /cli/submit.mjs"
          ? [200, 503]
          : [200, 301, 302, 303];
        assert.ok(expected.includes(response.status), `${name}: ${response.status}`);
      } else if (path.startsWith("/v1/") || path.startsWith("/admin/")) {
        assert.equal(response.status, 401, name);
        assert.equal(JSON.parse(text).error.code, "UNAUTHORIZED", name);
      } else {
        assert.ok(path.startsWith("/console"), `${name} is a route the threat model knows`);
        if (method === "GET") {
          assert.equal(response.status, 303, name);
          assert.equal(response.headers.get("location"), "/console/sign-in", name);
        } else {
          // A form posted without a session: refused (401), or 403 by the cross-site check.
          assert.ok([401, 403].includes(response.status), `${name}: ${response.status}`);
        }
      }
    }
  } finally {
    await close();
  }
});

Deno.test("the console's cookie holds the key's fingerprint, role, expiry and a nonce, signed, never the key, HttpOnly and SameSite=Strict", async () => {
  const { url, close } = await startTestService(KEYS);
  try {
    const response = await fetch(`${url}/console/sign-in`, {
      method: "POST",
      headers: { origin: url },
      body: new URLSearchParams({ key: KEYS.API_KEYS }),
      redirect: "manual",
    });
    assert.equal(response.status, 303);
    const header = response.headers.get("set-cookie") ?? "";
    assert.doesNotMatch(header, new RegExp(KEYS.API_KEYS));
    const attributes = header.split(";").map((part) => part.trim().toLowerCase());
    assert.ok(attributes.includes("httponly"), header);
    assert.ok(attributes.includes("samesite=strict"), header);
    assert.ok(attributes.includes("path=/console"), header);
    const value = decodeURIComponent(header.split(";")[0].split("=").slice(1).join("="));
    // fingerprint.role.expires.nonce, then the HMAC signature (other fields may follow the nonce).
    const [fingerprint, role, expires, nonce, ...rest] = value.split(".");
    assert.match(fingerprint, /^[0-9a-f]{16}$/);
    assert.equal(role, "user");
    assert.ok(Number(expires) * 1000 > Date.now());
    assert.match(nonce, /^[A-Za-z0-9_-]{16,}$/);
    assert.ok((rest.at(-1) ?? "").length > 20, "signed");
  } finally {
    await close();
  }
});
