// redactSecrets and safeMessage: passwords masked in URLs and password=… pairs, the rest kept.
import assert from "node:assert/strict";
import { redactSecrets, safeMessage } from "../src/redact.ts";

const CASES: Array<[text: string, masked: string]> = [
  [
    "Invalid URL: 'postgres://u:s3cr3tpw@127.0.0.1:99999/db'",
    "Invalid URL: 'postgres://u:***@127.0.0.1:99999/db'",
  ],
  ["postgresql://app:p%40ss@db.internal/ingest", "postgresql://app:***@db.internal/ingest"],
  ["postgres://u:p@ss@host:5432/db", "postgres://u:***@host:5432/db"],
  ["postgres://u:pw@h1:5432,h2:5433/db?x=1", "postgres://u:***@h1:5432,h2:5433/db?x=1"],
  ["two: postgres://a:x@h/d and https://b:y@k/", "two: postgres://a:***@h/d and https://b:***@k/"],
  ["host=db password=hunter2 user=u", "host=db password=*** user=u"],
  [
    "postgres://h/db?sslmode=require&password=hunter2",
    "postgres://h/db?sslmode=require&password=***",
  ],
  [
    "postgres://user@host/db keeps a user without a password",
    "postgres://user@host/db keeps a user without a password",
  ],
  ["connect ECONNREFUSED 127.0.0.1:5432", "connect ECONNREFUSED 127.0.0.1:5432"],
  ["mail someone@example.com", "mail someone@example.com"],
];

Deno.test("redactSecrets masks every password and keeps what names the host and the user", async (t) => {
  for (const [text, masked] of CASES) {
    await t.step(text, () => assert.equal(redactSecrets(text), masked));
  }
});

Deno.test("safeMessage masks the message of an error and of anything else thrown", () => {
  assert.equal(safeMessage(new Error("at postgres://u:pw@h/db")), "at postgres://u:***@h/db");
  assert.equal(safeMessage("postgres://u:pw@h/db"), "postgres://u:***@h/db");
});
