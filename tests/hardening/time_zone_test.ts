// Case 1 of the hardening corpus: every instant from 0001 to 9999 round-trips exactly through the
// real PostgreSQL, in a database whose time zone is Europe/Amsterdam as in a UTC one: reads, an
// identical resubmission, and events the relay reads back from the outbox.
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  consumeTopic,
  createTopic,
  DATABASE_URL,
  execution,
  KAFKA_BROKERS,
  postBatch,
  startTestService,
  uniqueName,
} from "../_helpers.ts";

// [sent, stored as]: the oldest and newest instants, years below 100 (which `new Date(text)`
// read as 19xx), Amsterdam's local mean time (+00:19:32 until 1937), and offsets.
const INSTANTS: Array<[string, string]> = [
  ["0001-01-01T00:00:00.000Z", "0001-01-01T00:00:00.000Z"],
  ["0001-01-01T01:30:00+01:30", "0001-01-01T00:00:00.000Z"],
  ["0050-06-01T12:00:00Z", "0050-06-01T12:00:00.000Z"],
  ["0099-12-31T23:59:59.999Z", "0099-12-31T23:59:59.999Z"],
  ["1899-12-31T23:59:59.001Z", "1899-12-31T23:59:59.001Z"],
  ["1930-01-01T00:00:00Z", "1930-01-01T00:00:00.000Z"],
  ["1937-06-30T23:59:59.999+01:00", "1937-06-30T22:59:59.999Z"],
  ["1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00.000Z"],
  ["2026-03-29T02:30:00+02:00", "2026-03-29T00:30:00.000Z"],
  ["9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"],
  ["9999-12-31T22:59:59.999-01:00", "9999-12-31T23:59:59.999Z"],
];

/** A database of its own with the given time zone, dropped by `drop()`. Never the shared `test`. */
async function databaseInZone(zone: string) {
  const name = uniqueName("ingest_tz");
  const admin = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.unsafe(`alter database "${name}" set timezone to '${zone}'`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}

function items() {
  return INSTANTS.map(([sent], i) =>
    execution(i, { startedAt: sent, finishedAt: sent, durationMs: 0, testCaseKey: `TZ-${i}` })
  );
}

async function checkRoundTrips(url: string, t: Deno.TestContext) {
  const { service, config, close } = await startTestService({ DATABASE_URL: url });
  try {
    const sent = items();
    await t.step("the service's session runs in UTC whatever the database's zone", async () => {
      const [{ timezone }] = await service.db.sql`select current_setting('TimeZone') as timezone`;
      assert.equal(timezone, "UTC");
    });
    await t.step("every instant is stored", async () => {
      const response = await postBatch(service.url, sent);
      assert.equal(response.status, 200);
      assert.equal((await response.json()).created, INSTANTS.length);
    });
    await t.step("GET returns each instant exactly, in UTC", async () => {
      for (const [i, [, stored]] of INSTANTS.entries()) {
        const response = await fetch(`${service.url}/v1/executions/${sent[i].id}`);
        assert.equal(response.status, 200);
        const body = await response.json();
        assert.deepEqual([body.startedAt, body.finishedAt], [stored, stored], INSTANTS[i][0]);
      }
    });
    await t.step("the database holds the same instants", async () => {
      const rows = await service.db.sql`
        select id, to_char(started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as utc
        from executions`;
      const byId = new Map(rows.map((row) => [row.id, row.utc]));
      for (const [i, [, stored]] of INSTANTS.entries()) assert.equal(byId.get(sent[i].id), stored);
    });
    await t.step("the identical resubmission is a duplicate, not a conflict or a 503", async () => {
      const response = await postBatch(service.url, sent);
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.deepEqual([body.duplicates, body.failed], [INSTANTS.length, 0]);
    });
    await t.step("GET /v1/batches/{id} reads the batch's instants", async () => {
      const batch = await (await postBatch(service.url, [execution(99)])).json();
      const view = await (await fetch(`${service.url}/v1/batches/${batch.batchId}`)).json();
      assert.match(view.receivedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(view.receivedAt <= view.completedAt);
    });
  } finally {
    await close();
  }
  return config;
}

Deno.test("instants from 0001 to 9999 round-trip exactly in a Europe/Amsterdam database and a UTC one", async (t) => {
  const amsterdam = await databaseInZone("Europe/Amsterdam");
  try {
    await t.step("Europe/Amsterdam", (t) => checkRoundTrips(amsterdam.url, t).then(() => {}));
  } finally {
    await amsterdam.drop();
  }
  await t.step(
    "UTC (the shared test database)",
    (t) => checkRoundTrips(DATABASE_URL, t).then(() => {}),
  );
});

Deno.test("events the relay reads back from the outbox of a Europe/Amsterdam database carry the exact instants", async () => {
  const amsterdam = await databaseInZone("Europe/Amsterdam");
  const schema = uniqueName("t");
  const topic = uniqueName("tz");
  try {
    await createTopic(topic, 1);
    // Stored with publishing off: only the relay, reading the rows back, can publish them.
    const storing = await startTestService({
      DATABASE_URL: amsterdam.url,
      DB_SCHEMA: schema,
      OUTBOX_LEASE_MS: "100",
    });
    const sent = items();
    assert.equal((await postBatch(storing.url, sent)).status, 200);
    await storing.service.stop();
    const relaying = await startTestService({
      DATABASE_URL: amsterdam.url,
      DB_SCHEMA: schema,
      KAFKA_BROKERS: KAFKA_BROKERS.join(","),
      KAFKA_TOPIC: topic,
      OUTBOX_RELAY_INTERVAL_MS: "100",
    });
    try {
      const messages = await consumeTopic(topic, INSTANTS.length, 30_000);
      const byId = new Map(messages.map((message) => [message.headers.ce_id, message.value]));
      for (const [i, [, stored]] of INSTANTS.entries()) {
        const event = byId.get(sent[i].id as string);
        assert.ok(event, `the event of ${INSTANTS[i][0]} was published`);
        assert.deepEqual([event.startedAt, event.finishedAt], [stored, stored]);
      }
    } finally {
      await relaying.service.stop();
    }
  } finally {
    // The schema goes with its database.
    await amsterdam.drop();
  }
});
