// Sign-out ends a console session on the server: a copy of the cookie kept from before opens nothing
// afterwards, on the instance that signed out, on another instance of the same database, and with the
// embedded PostgreSQL the service uses by default.
import assert from "node:assert/strict";
import { startService } from "../../../src/main.ts";
import { captureLogs, eventually, sqlFor, startTestService, testConfig } from "../../_helpers.ts";
import { signIn } from "./_console.ts";

const USER_KEY = "console-user-key-0123456789";
const SECRET = "a-console-session-secret-of-32-characters";
const ENV = { API_KEYS: USER_KEY, CONSOLE_SESSION_SECRET: SECRET };

const get = (url: string, path: string, cookie: string) =>
  fetch(`${url}${path}`, { headers: { cookie }, redirect: "manual" });

/** Signs out with the session's token; the answer must clear the cookie. */
async function signOut(url: string, session: { cookie: string; token: string }) {
  const response = await fetch(`${url}/console/sign-out`, {
    method: "POST",
    headers: { origin: url, cookie: session.cookie },
    body: new URLSearchParams({ _csrf: session.token }),
    redirect: "manual",
  });
  await response.body?.cancel();
  assert.equal(response.status, 303);
  assert.equal(response.headers.get("location"), "/console/sign-in");
  assert.match(response.headers.get("set-cookie") ?? "", /^ei_console=;/);
}

/** The replayed cookie is sent back to sign-in, for pages and forms alike. */
async function assertSignedOut(url: string, session: { cookie: string; token: string }) {
  const page = await get(url, "/console/batches", session.cookie);
  await page.body?.cancel();
  assert.equal(page.status, 303);
  assert.equal(page.headers.get("location"), "/console/sign-in");
  const form = await fetch(`${url}/console/sign-out`, {
    method: "POST",
    headers: { origin: url, cookie: session.cookie },
    body: new URLSearchParams({ _csrf: session.token }),
  });
  assert.equal(form.status, 401);
  await form.body?.cancel();
}

Deno.test("a cookie replayed after sign-out is sent to sign-in, here and on a second instance of the same database", async () => {
  const first = await startTestService(ENV);
  // A second instance on the same schema, as behind a load balancer (same secret, same keys).
  const second = await startService(first.config, { logger: captureLogs("warn").logger });
  const sql = sqlFor(first.config.DB_SCHEMA);
  try {
    const session = await signIn(first.url, USER_KEY);
    const other = await signIn(first.url, USER_KEY);
    // Before sign-out the cookie opens pages on both instances (and the second has looked it up).
    for (const url of [first.url, second.url]) {
      const page = await get(url, "/console/batches", session.cookie);
      await page.body?.cancel();
      assert.equal(page.status, 200, url);
    }
    await signOut(first.url, session);
    await assertSignedOut(first.url, session);
    // The second instance learns it from the database once its short memory of "not revoked" ends.
    const [row] = await sql`select session_id, expires_at from console_revoked_sessions`;
    assert.ok(row, "the revocation is stored");
    assert.ok(
      !session.cookie.includes(row.session_id),
      "the store keeps a hash, not the cookie's nonce",
    );
    await eventually(async () => {
      const page = await get(second.url, "/console/batches", session.cookie);
      await page.body?.cancel();
      return page.status === 303;
    }, 10_000);
    await assertSignedOut(second.url, session);
    // Only that session ended: another one of the same key still works on both.
    for (const url of [first.url, second.url]) {
      const page = await get(url, "/console/batches", other.cookie);
      await page.body?.cancel();
      assert.equal(page.status, 200, url);
    }
  } finally {
    await sql.end();
    await second.stop();
    await first.close();
  }
});

Deno.test("with the embedded PostgreSQL, a cookie replayed after sign-out is sent to sign-in, also after a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "sign_out_test_" });
  const config = testConfig({ ...ENV, DATABASE_URL: "", DATA_DIR: dataDir });
  assert.equal(config.DATABASE_URL, undefined);
  let service = await startService(config, { logger: captureLogs("warn").logger });
  try {
    const session = await signIn(service.url, USER_KEY);
    await signOut(service.url, session);
    await assertSignedOut(service.url, session);
    await service.stop();
    // A fresh process knows nothing in memory: the refusal comes from the embedded database.
    service = await startService(config, { logger: captureLogs("warn").logger });
    await assertSignedOut(service.url, session);
  } finally {
    await service.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
