// The console over plain HTTP against the real service and database: sessions, form tokens, roles,
// the banner with no keys, and uploads of every format read as the submit CLI reads them.
import assert from "node:assert/strict";
import { sqlFor, startTestService } from "../../_helpers.ts";
import { signIn } from "./_console.ts";

const USER_KEY = "console-user-key-0123456789";
const OTHER_KEY = "console-other-key-0123456789";
const ADMIN_KEY = "console-admin-key-0123456789";
const SECRET = "a-console-session-secret-of-32-characters";
const KEYS = { API_KEYS: `${USER_KEY},${OTHER_KEY}`, ADMIN_API_KEYS: ADMIN_KEY };

/** Posts a file to the upload form; returns the status and the page. */
async function upload(
  url: string,
  session: { cookie: string; token: string },
  file: { name: string; text: string },
  fields: Record<string, string> = {},
) {
  const form = new FormData();
  form.set("_csrf", session.token);
  form.set("file", new File([file.text], file.name));
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  const response = await fetch(`${url}/console/upload`, {
    method: "POST",
    headers: { origin: url, cookie: session.cookie },
    body: form,
  });
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
  return { status: response.status, page: await response.text() };
}

const get = (url: string, path: string, cookie: string) =>
  fetch(`${url}${path}`, { headers: { cookie }, redirect: "manual" });

const JUNIT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="login" timestamp="2026-11-28T10:00:00Z" tests="3">
  <testcase classname="LoginTest" name="opens" time="1.5"/>
  <testcase classname="LoginTest" name="refuses" time="0.5"><failure message="no">x</failure></testcase>
  <testcase classname="LoginTest" name="later" time="0.1"><skipped/></testcase>
</testsuite>`;

Deno.test("with no API key configured, every console page says so and opens without signing in", async () => {
  const { url, close } = await startTestService();
  try {
    const first = await fetch(`${url}/console/upload`);
    assert.equal(first.status, 200);
    assert.match(first.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(first.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    const page = await first.text();
    assert.match(page, /Access control is off/);
    const cookie = first.headers.get("set-cookie")!.split(";")[0];
    const publishing = await get(url, "/console/publishing", cookie);
    assert.equal(publishing.status, 200);
    assert.match(await publishing.text(), /Access control is off[\s\S]*publishing is off/);
  } finally {
    await close();
  }
});

Deno.test("a session cookie that is altered, signed with another secret, or names a key no longer configured signs nobody in", async () => {
  const first = await startTestService({ ...KEYS, CONSOLE_SESSION_SECRET: SECRET });
  const { cookie } = await signIn(first.url, USER_KEY);
  try {
    assert.equal((await get(first.url, "/console/upload", cookie)).status, 200);
    const forged = cookie.replace(".user.", ".admin.");
    assert.notEqual(forged, cookie);
    const refused = await get(first.url, "/console/publishing", forged);
    assert.equal(refused.status, 303);
    assert.equal(refused.headers.get("location"), "/console/sign-in");
  } finally {
    await first.close();
  }
  for (
    const env of [
      { ...KEYS, CONSOLE_SESSION_SECRET: SECRET.replace("a-", "b-") },
      { API_KEYS: OTHER_KEY, ADMIN_API_KEYS: ADMIN_KEY, CONSOLE_SESSION_SECRET: SECRET },
    ]
  ) {
    const other = await startTestService(env);
    try {
      const response = await get(other.url, "/console/upload", cookie);
      assert.equal(response.status, 303, JSON.stringify(env));
      assert.equal(response.headers.get("location"), "/console/sign-in");
    } finally {
      await other.close();
    }
  }
});

Deno.test("a form posted without the session's token, or from another site, is refused with 403 and changes nothing", async () => {
  const { url, config, close } = await startTestService(KEYS);
  const sql = sqlFor(config.DB_SCHEMA);
  try {
    const session = await signIn(url, ADMIN_KEY);
    const file = { name: "one.json", text: '[{"testCaseKey":"A","status":"PASSED"}]' };
    const noToken = await upload(url, { ...session, token: "" }, file);
    assert.equal(noToken.status, 403);
    assert.match(noToken.page, /security token is missing or out of date[\s\S]*FORBIDDEN/);
    const crossSite = await fetch(`${url}/console/publishing/requeue`, {
      method: "POST",
      headers: { origin: "https://elsewhere.example", cookie: session.cookie },
      body: new URLSearchParams({ _csrf: session.token, all: "1" }),
    });
    assert.equal(crossSite.status, 403);
    assert.match(await crossSite.text(), /another site are refused/);
    const [{ count }] = await sql`select count(*)::int as count from batches`;
    assert.equal(count, 0);
  } finally {
    await sql.end();
    await close();
  }
});

Deno.test("a user key is refused the publishing page and never sees another key's batch", async () => {
  const { url, close } = await startTestService(KEYS);
  try {
    const mine = await signIn(url, USER_KEY);
    const other = await signIn(url, OTHER_KEY);
    const forbidden = await get(url, "/console/publishing", mine.cookie);
    assert.equal(forbidden.status, 403);
    assert.match(await forbidden.text(), /needs an admin API key/);
    const sent = await upload(url, other, {
      name: "other.csv",
      text: "testCaseKey,status,startedAt\nB,PASSED,2026-11-28T10:00:00Z\n",
    });
    assert.equal(sent.status, 200);
    const batchId = /href="\/console\/batches\/([0-9a-f-]{36})"/.exec(sent.page)![1];
    assert.equal((await get(url, `/console/batches/${batchId}`, mine.cookie)).status, 404);
    assert.doesNotMatch(
      await (await get(url, "/console/batches", mine.cookie)).text(),
      new RegExp(batchId),
    );
    assert.equal((await get(url, `/console/batches/${batchId}`, other.cookie)).status, 200);
  } finally {
    await close();
  }
});

Deno.test("uploads read JSON, NDJSON and JUnit XML as the submit CLI does, so the same file again is all duplicates", async () => {
  const { url, close } = await startTestService(KEYS);
  try {
    const session = await signIn(url, USER_KEY);
    const files = [
      { name: "run.xml", text: JUNIT, rows: 3 },
      {
        name: "run.json",
        text:
          '{"executions":[{"testCaseKey":"J","status":"PASSED","startedAt":"2026-11-28T10:00:00Z"}]}',
        rows: 1,
      },
      {
        name: "run.ndjson",
        text:
          '{"testCaseKey":"N","status":"PASSED","startedAt":"2026-11-28T10:00:00Z"}\nnot json\n',
        rows: 2,
      },
    ];
    for (const file of files) {
      const first = await upload(url, session, file, { environment: "staging" });
      assert.equal(first.status, 200, file.name);
      const created = file.name.endsWith(".ndjson") ? 1 : file.rows;
      assert.match(first.page, new RegExp(`<dt>Created</dt><dd>${created}</dd>`), file.name);
      const again = await upload(url, session, file, { environment: "staging" });
      assert.match(again.page, new RegExp(`<dt>Duplicates</dt><dd>${created}</dd>`), file.name);
    }
    const ndjson = await upload(url, session, files[2], { environment: "staging" });
    assert.match(ndjson.page, /line 2 is not valid JSON/);
    assert.match(ndjson.page, /download="run\.failed\.ndjson"/);
  } finally {
    await close();
  }
});

Deno.test("a console upload derives the ids its key's API imports derive, and ids no other key can foresee", async () => {
  const { url, close } = await startTestService(KEYS);
  try {
    const session = await signIn(url, USER_KEY);
    const first = await upload(url, session, { name: "run.xml", text: JUNIT }, {
      environment: "staging",
    });
    assert.match(first.page, /<dt>Created<\/dt><dd>3<\/dd>/);
    const importAs = async (key: string) => {
      const response = await fetch(`${url}/v1/imports/junit?environment=staging`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/xml" },
        body: JUNIT,
      });
      assert.equal(response.status, 200);
      const body = await response.json();
      return [body.created, body.duplicates, body.failed];
    };
    // The same report through the API with the same key: the ids the console derived.
    assert.deepEqual(await importAs(USER_KEY), [0, 3, 0]);
    // Another key derives other ids, so it neither collides with nor pre-empts the first key.
    assert.deepEqual(await importAs(OTHER_KEY), [3, 0, 0]);
  } finally {
    await close();
  }
});

Deno.test("an upload over BATCH_MAX_ITEMS rows, or a file that is no report, is refused with the reason on the upload page", async () => {
  const { url, close } = await startTestService({ ...KEYS, BATCH_MAX_ITEMS: "3" });
  try {
    const session = await signIn(url, USER_KEY);
    const rows = Array.from({ length: 4 }, (_, i) => `T-${i},PASSED,2026-11-28T10:00:00Z`);
    const tooMany = await upload(url, session, {
      name: "big.csv",
      text: `testCaseKey,status,startedAt\n${rows.join("\n")}\n`,
    });
    assert.equal(tooMany.status, 413);
    assert.match(tooMany.page, /Cannot accept 4 rows in one upload: the limit is 3/);
    assert.match(
      tooMany.page,
      /<form method="post" action="\/console\/upload"/,
      "the form is at hand",
    );
    const broken = await upload(url, session, { name: "broken.json", text: "[{" });
    assert.equal(broken.status, 400);
    assert.match(broken.page, /Cannot read &quot;broken.json&quot;: it is not a JSON document/);
  } finally {
    await close();
  }
});
