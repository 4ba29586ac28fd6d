// The operator console in a real headless Chromium (Debian's, driven by playwright-core) against the
// real service, PostgreSQL and Kafka: sign in, upload bad rows, open a batch, re-queue a dead letter.
// Every request must stay on this machine and the browser console must show no error.
// With SCREENSHOTS_DIR set, each page is saved there as PNG (`deno task console:screenshots`).
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { ConfigResourceTypes } from "kafkajs";
import { type Browser, chromium, type Page } from "playwright-core";
import {
  consumeTopic,
  createTopic,
  eventually,
  KAFKA_BROKERS,
  startTestService,
  testKafka,
  uniqueName,
} from "../../_helpers.ts";

const USER_KEY = "console-user-key-0123456789";
const ADMIN_KEY = "console-admin-key-0123456789";
const SCREENSHOTS = Deno.env.get("SCREENSHOTS_DIR");
const REFUSED_SIGN_IN =
  "Failed to load resource: the server responded with a status of 401 (Unauthorized)";

/** Chromium as the issue asks: Debian's binary, no sandbox (root in CI), nothing phoning home. */
function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    // playwright gives every launch a fresh, temporary --user-data-dir of its own.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
}

/** A context whose every request is checked: anything not on this machine is aborted and noted. */
async function watchedContext(browser: Browser, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const outside: string[] = [];
  const errors: string[] = [];
  await context.route("**/*", (route) => {
    const { hostname } = new URL(route.request().url());
    if (hostname === "127.0.0.1" || hostname === "localhost") return route.continue();
    outside.push(route.request().url());
    return route.abort();
  });
  context.on("page", (page) => watchPage(page, errors));
  return { context, outside, errors };
}

function watchPage(page: Page, errors: string[]) {
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
}

async function shoot(page: Page, name: string) {
  if (!SCREENSHOTS) return;
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

/** Signs in with the keyboard alone: Tab to the key field (its focus visible), type, Enter. */
async function signIn(page: Page, url: string, key: string) {
  await page.goto(`${url}/console`);
  for (let i = 0; i < 5 && await page.evaluate("document.activeElement?.id") !== "key"; i++) {
    await page.keyboard.press("Tab");
  }
  assert.equal(await page.evaluate("document.activeElement?.id"), "key", "Tab reaches the key");
  const outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle");
  assert.notEqual(outline, "none", "the focused field shows its focus");
  await page.keyboard.type(key);
  await Promise.all([page.waitForURL(`${url}/console/upload`), page.keyboard.press("Enter")]);
}

const BAD_CSV = [
  "testCaseKey,status,startedAt,durationMs,comment",
  "LOGIN-001,PASSED,2026-11-28T10:00:00Z,1200,fine",
  "LOGIN-002,GREEN,2026-11-28T10:01:00Z,800,wrong status",
  "LOGIN-003,FAILED,yesterday,,bad start",
  "LOGIN-004,PASSED,2026-11-28T10:03:00Z,12.5,not an integer",
  "LOGIN-005,SKIPPED,2026-11-28T10:04:00Z,,fine",
].join("\n") + "\n";

Deno.test("the operator console in a real browser: sign in, upload, batches, re-queue, all offline and without console errors", async (t) => {
  const topic = uniqueName("console");
  // The broker refuses any event over 2 KiB: an execution with a long comment becomes a dead letter
  // the real way, "rejected" by Kafka after the publisher's last retry.
  await createTopic(topic, 1, { "max.message.bytes": "2048" });
  const { url, close } = await startTestService({
    API_KEYS: USER_KEY,
    ADMIN_API_KEYS: ADMIN_KEY,
    KAFKA_BROKERS: KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topic,
    OUTBOX_RELAY_INTERVAL_MS: "200",
    PUBLISH_RETRY_ATTEMPTS: "1",
    PUBLISH_RETRY_INITIAL_DELAY_MS: "50",
  });
  const browser = await launch();
  let user: Awaited<ReturnType<typeof watchedContext>> | undefined;
  try {
    user = await watchedContext(browser);
    const page = await user.context.newPage();
    let batchId = "";

    await t.step(
      "a wrong key is refused on the page; a user key signs in by keyboard into an HttpOnly, SameSite=Strict session",
      async () => {
        await page.goto(`${url}/console`);
        await shoot(page, "sign-in");
        await page.getByLabel("API key").fill("not-a-key");
        await page.getByRole("button", { name: "Sign in" }).click();
        assert.match(await page.getByRole("alert").innerText(), /not valid/);
        await signIn(page, url, USER_KEY);
        const [cookie] = await user!.context.cookies();
        assert.equal(cookie.httpOnly, true);
        assert.equal(cookie.sameSite, "Strict");
        assert.ok(!cookie.value.includes(USER_KEY), "the key itself is not in the cookie");
        assert.equal(await page.getByRole("link", { name: "Publishing" }).count(), 0);
      },
    );

    await t.step(
      "uploading a CSV with bad rows lists each failed row and offers them as a failure file",
      async () => {
        await page.getByLabel("Report file").setInputFiles({
          name: "login.csv",
          mimeType: "text/csv",
          buffer: Buffer.from(BAD_CSV),
        });
        await page.getByLabel("Cycle key (optional)").fill("R-42");
        await page.getByRole("button", { name: "Upload" }).click();
        await page.waitForSelector("#outcome");
        assert.equal(await page.locator("#outcome").innerText(), "login.csv: 3 of 5 rows failed");
        const rows = await page.locator("table tbody tr").allInnerTexts();
        assert.equal(rows.length, 3);
        assert.match(rows[0], /^1\t3\tVALIDATION_FAILED\t.*index 1.*\t\s*status must be one of/s);
        assert.match(rows[1], /^2\t4\tVALIDATION_FAILED\t.*\t\s*startedAt must be an RFC 3339/s);
        assert.match(rows[2], /^3\t5\tVALIDATION_FAILED\t.*durationMs "12\.5" is not an integer/s);
        await shoot(page, "upload-result");

        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.getByRole("link", { name: /Download the failed rows/ }).click(),
        ]);
        assert.equal(download.suggestedFilename(), "login.failed.csv");
        const text = await Deno.readTextFile(await download.path());
        const lines = text.trim().split("\n");
        assert.equal(lines.length, 4, "a header and the three failed rows");
        assert.match(
          lines[0],
          /^id,testCaseKey,status,startedAt,durationMs,comment,cycleKey,_error$/,
        );
        assert.match(lines[1], /LOGIN-002,GREEN,.*R-42,"?VALIDATION_FAILED at index 1, line 3/);
        batchId = await page.locator(".facts a").innerText();
      },
    );

    await t.step(
      "the batches page lists this key's batch, and the batch page shows its failed rows",
      async () => {
        await page.getByRole("link", { name: "Batches" }).click();
        await page.waitForURL(`${url}/console/batches`);
        const listed = await page.locator("table tbody tr").allInnerTexts();
        assert.equal(listed.length, 1);
        assert.match(listed[0], new RegExp(`${batchId}\\t5\\t2\\t0\\t3\\t`));
        await shoot(page, "batches");
        await page.getByRole("link", { name: batchId }).click();
        await page.waitForURL(`${url}/console/batches/${batchId}`);
        const failed = await page.locator("table tbody tr").allInnerTexts();
        assert.deepEqual(failed.map((row) => row.split("\t")[0]), ["1", "2", "3"]);
        assert.match(failed[0], /status must be one of/);
        await shoot(page, "batch");
      },
    );

    await t.step(
      "a phone-sized window shows the upload page without sideways scrolling",
      async () => {
        const phone = await watchedContext(browser, { width: 390, height: 844 });
        try {
          const small = await phone.context.newPage();
          await signIn(small, url, USER_KEY);
          const overflow = await small.evaluate<number>(
            "document.documentElement.scrollWidth - window.innerWidth",
          );
          assert.ok(overflow <= 0, `no sideways scrolling, got ${overflow}px`);
          await shoot(small, "upload-phone");
          assert.deepEqual(phone.outside, []);
          assert.deepEqual(phone.errors, []);
        } finally {
          await phone.context.close();
        }
      },
    );

    await t.step(
      "an admin sees the dead letter Kafka refused, with its reason, and re-queues it until it is published",
      async () => {
        const admin = await watchedContext(browser);
        try {
          const adminPage = await admin.context.newPage();
          await signIn(adminPage, url, ADMIN_KEY);
          const big = JSON.stringify([
            { testCaseKey: "BIG-1", status: "PASSED", startedAt: "2026-11-28T11:00:00Z" },
            {
              testCaseKey: "BIG-2",
              status: "FAILED",
              startedAt: "2026-11-28T11:00:01Z",
              comment: "x".repeat(3000),
            },
          ]);
          await adminPage.getByLabel("Report file").setInputFiles({
            name: "big.json",
            mimeType: "application/json",
            buffer: Buffer.from(big),
          });
          await adminPage.getByRole("button", { name: "Upload" }).click();
          await adminPage.waitForSelector("#outcome");
          const bigBatch = await adminPage.locator(".facts a").innerText();
          const auth = { authorization: `Bearer ${ADMIN_KEY}` };
          const letters = async () =>
            (await (await fetch(`${url}/admin/dead-letters`, { headers: auth })).json())
              .deadLetters;
          await eventually(async () => (await letters()).length === 1, 30_000);
          const [letter] = await letters();

          await adminPage.getByRole("link", { name: "Publishing" }).click();
          await adminPage.waitForURL(`${url}/console/publishing`);
          const row = adminPage.locator("table tbody tr", { hasText: letter.executionId });
          assert.match(await row.innerText(), /MESSAGE_TOO_LARGE|larger than|too large/i);
          assert.match(await adminPage.locator(".facts").innerText(), /Kafka\s+up/);
          await shoot(adminPage, "publishing");

          // Kafka now takes larger events; the operator puts the dead letter back in the queue.
          const kafkaAdmin = testKafka().admin();
          await kafkaAdmin.connect();
          try {
            await kafkaAdmin.alterConfigs({
              validateOnly: false,
              resources: [{
                type: ConfigResourceTypes.TOPIC,
                name: topic,
                configEntries: [{ name: "max.message.bytes", value: "1048588" }],
              }],
            });
          } finally {
            await kafkaAdmin.disconnect();
          }
          await adminPage.getByRole("button", { name: `Re-queue ${letter.executionId}` }).click();
          await adminPage.waitForURL(`${url}/console/publishing?requeued=1`);
          assert.match(await adminPage.getByRole("status").innerText(), /1 dead letter re-queued/);

          const events = async () =>
            (await (await fetch(`${url}/v1/batches/${bigBatch}`, { headers: auth })).json()).events;
          await eventually(async () => (await events()).published === 2, 30_000);
          const consumed = await consumeTopic(topic, 2, 30_000);
          assert.ok(consumed.some((message) => message.headers.ce_id === letter.executionId));
          await adminPage.reload();
          assert.match(await adminPage.locator("main").innerText(), /No dead letter/);
          assert.deepEqual(admin.outside, []);
          assert.deepEqual(admin.errors, []);
        } finally {
          await admin.context.close();
        }
      },
    );

    await t.step("no request left the machine and the browser console showed no error", () => {
      assert.deepEqual(user!.outside, []);
      assert.deepEqual(user!.errors.filter((error) => error !== REFUSED_SIGN_IN), []);
    });
  } finally {
    await user?.context.close();
    await browser.close();
    await close();
  }
});
