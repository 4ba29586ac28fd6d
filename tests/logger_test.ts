// The real logger (src/logger.ts) writing to a captured destination: fields that must never reach a
// log are redacted by path, and passwords inside any string of a line are masked.
import assert from "node:assert/strict";
import { createLogger, REDACTED_PATHS } from "../src/logger.ts";

/** A logger at debug level whose lines are kept, raw and parsed. */
function captured() {
  const raw: string[] = [];
  const logger = createLogger({ level: "debug", destination: { write: (line) => raw.push(line) } });
  return { logger, raw, lines: () => raw.map((line) => JSON.parse(line)) };
}

const SECRETS = {
  executedBy: "alice.secret@example.com",
  comment: "secret-comment-text",
  attributes: { token: "secret-attribute-value" },
  authorization: "Bearer secret-bearer-token",
  password: "secret-password-value",
  apiKey: "secret-api-key-value",
  databaseUrl: "postgres://app:secret-db-password@db.internal/ingest",
};

Deno.test("each redacted field is [REDACTED] at the top level and one level down, and its value is nowhere in the line", () => {
  const { logger, raw, lines } = captured();
  logger.info(
    { ...SECRETS, item: SECRETS, headers: { authorization: SECRETS.authorization }, keep: "ok" },
    "Something with a payload",
  );
  const [line] = lines();
  for (const field of Object.keys(SECRETS)) {
    assert.equal(line[field], "[REDACTED]", field);
    assert.equal(line.item[field], "[REDACTED]", `item.${field}`);
    assert.ok(REDACTED_PATHS.includes(field) && REDACTED_PATHS.includes(`*.${field}`), field);
  }
  assert.equal(line.headers.authorization, "[REDACTED]");
  assert.equal(line.keep, "ok", "other fields are kept");
  assert.equal(line.msg, "Something with a payload");
  assert.doesNotMatch(raw[0], /secret-/);
});

Deno.test("a password inside the message or a string field is masked, the host and user kept", () => {
  const { logger, raw, lines } = captured();
  logger.error(
    { error: "connect to postgres://app:hunter2@db.internal/ingest failed", attempt: 2 },
    "Cannot connect to postgres://app:hunter2@db.internal/ingest",
  );
  logger.warn("Retrying with host=db password=hunter2 user=app");
  const [first, second] = lines();
  assert.equal(first.msg, "Cannot connect to postgres://app:***@db.internal/ingest");
  assert.equal(first.error, "connect to postgres://app:***@db.internal/ingest failed");
  assert.equal(first.attempt, 2);
  assert.equal(second.msg, "Retrying with host=db password=*** user=app");
  assert.equal(raw.length, 2);
  for (const line of raw) assert.doesNotMatch(line, /hunter2/);
});
