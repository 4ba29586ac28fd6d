// The console's form tokens against the real service: a token must be this session's own, not
// merely present. Wrong tokens, another session's token, sign-out with and without its token, and a
// same-origin re-queue with a bad token are refused; the right token is let through.
import assert from "node:assert/strict";
import { executionCount, sqlFor, startTestService } from "../../_helpers.ts";
import { signIn } from "./_console.ts";

const USER_KEY = "token-user-key-0123456789";
const ADMIN_KEY = "token-admin-key-0123456789";
const KEYS = { API_KEYS: USER_KEY, ADMIN_API_KEYS: ADMIN_KEY };

/** The token with its first character changed: the same length, so only the comparison tells. */
function altered(token: string): string {
  return (token[0] === "A" ? "B" : "A") + token.slice(1);
}

/** Posts a form from the service's own origin, as the console's pages do. */
function post(url: string, path: string, cookie: string, fields: Record<string, string>) {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { origin: url, cookie },
    body: new URLSearchParams(fields),
    redirect: "manual",
  });
}

/** Uploads one JSON row with the given token; returns the status and the page. */
async function upload(url: string, cookie: string, token: string) {
  const form = new FormData();
  form.set("_csrf", token);
  form.set(
    "file",
    new File(
      ['[{"testCaseKey":"A","status":"PASSED","startedAt":"2026-11-28T10:00:00Z"}]'],
      "one.json",
    ),
  );
  const response = await fetch(`${url}/console/upload`, {
    method: "POST",
    headers: { origin: url, cookie },
    body: form,
  });
  return { status: response.status, page: await response.text() };
}

async function assertForbidden(response: Response) {
  assert.equal(response.status, 403);
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(await response.text(), /security token is missing or out of date[\s\S]*FORBIDDEN/);
}

Deno.test("an upload with a wrong token or another session's token is refused with 403 and stores nothing; its own token stores", async () => {
  const { url, config, close } = await startTestService(KEYS);
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    const mine = await signIn(url, USER_KEY);
    const other = await signIn(url, USER_KEY);
    assert.notEqual(other.token, mine.token, "each session has a token of its own");
    for (const token of [altered(mine.token), other.token]) {
      const refused = await upload(url, mine.cookie, token);
      assert.equal(refused.status, 403);
      assert.match(refused.page, /security token is missing or out of date[\s\S]*FORBIDDEN/);
    }
    assert.equal(await executionCount(sql), 0, "nothing stored from a refused form");
    const accepted = await upload(url, mine.cookie, mine.token);
    assert.equal(accepted.status, 200, "the same request with the session's own token");
    assert.equal(await executionCount(sql), 1);
  } finally {
    await sql.end();
    await close();
  }
});

Deno.test("sign-out without a token or with a wrong one is refused and the session stays; with its token it ends and clears the cookie", async () => {
  const { url, close } = await startTestService(KEYS);
  try {
    const session = await signIn(url, USER_KEY);
    const other = await signIn(url, USER_KEY);
    const forms: Record<string, string>[] = [
      {},
      { _csrf: altered(session.token) },
      { _csrf: other.token },
    ];
    for (const fields of forms) {
      const refused = await post(url, "/console/sign-out", session.cookie, fields);
      await assertForbidden(refused);
      assert.equal(refused.headers.get("set-cookie"), null, "the cookie is left alone");
      const page = await fetch(`${url}/console/upload`, {
        headers: { cookie: session.cookie },
        redirect: "manual",
      });
      assert.equal(page.status, 200, "still signed in");
      await page.body?.cancel();
    }
    const out = await post(url, "/console/sign-out", session.cookie, { _csrf: session.token });
    assert.equal(out.status, 303);
    assert.equal(out.headers.get("location"), "/console/sign-in");
    const cleared = out.headers.get("set-cookie") ?? "";
    assert.match(cleared, /^ei_console=;/, "the cookie is emptied");
    assert.match(cleared, /Max-Age=0|Expires=Thu, 01 Jan 1970/i, "and expired");
    assert.match(cleared, /Path=\/console/);
  } finally {
    await close();
  }
});

Deno.test("a same-origin re-queue on the publishing page with a wrong or another session's token is refused with 403; its own token is let through", async () => {
  const { url, close } = await startTestService(KEYS);
  try {
    const admin = await signIn(url, ADMIN_KEY);
    const other = await signIn(url, ADMIN_KEY);
    for (const token of ["", altered(admin.token), other.token]) {
      await assertForbidden(
        await post(url, "/console/publishing/requeue", admin.cookie, { _csrf: token, all: "1" }),
      );
    }
    const done = await post(url, "/console/publishing/requeue", admin.cookie, {
      _csrf: admin.token,
      all: "1",
    });
    assert.equal(done.status, 303, "the same request with the session's own token");
    assert.match(done.headers.get("location") ?? "", /^\/console\/publishing\?requeued=0$/);
  } finally {
    await close();
  }
});
