// createReadiness with a fake ping and clock: one database answer per interval, shared by probes.
import assert from "node:assert/strict";
import { createReadiness } from "../../src/http/ops_routes.ts";

function setup(ping: () => Promise<void> = () => Promise.resolve()) {
  let clock = 0;
  let pings = 0;
  let shuttingDown = false;
  const readiness = createReadiness({
    ping: () => {
      pings++;
      return ping();
    },
    kafkaStatus: () => "up",
    shuttingDown: () => shuttingDown,
  }, { cacheMs: 1000, pingTimeoutMs: 50, now: () => clock });
  return {
    readiness,
    get pings() {
      return pings;
    },
    advance: (ms: number) => void (clock += ms),
    stop: () => void (shuttingDown = true),
  };
}

Deno.test("readiness asks the database once per interval however many probes come", async () => {
  const probe = setup();
  const reports = await Promise.all(Array.from({ length: 500 }, () => probe.readiness()));
  assert.equal(probe.pings, 1, "500 concurrent probes share one ping");
  assert.ok(reports.every((report) => report.ready));
  probe.advance(999);
  await probe.readiness();
  assert.equal(probe.pings, 1, "within the interval the last answer serves");
  probe.advance(1);
  await probe.readiness();
  assert.equal(probe.pings, 2, "after it, one more ping");
});

Deno.test("readiness reports the database down when the ping fails or outlasts its timeout", async (t) => {
  await t.step("a failing ping", async () => {
    const report = await setup(() => Promise.reject(new Error("down"))).readiness();
    assert.deepEqual([report.ready, report.database.status], [false, "down"]);
  });
  await t.step("a ping that never answers", async () => {
    let release!: () => void;
    const hung = new Promise<void>((resolve) => release = resolve);
    const report = await setup(() => hung).readiness();
    assert.deepEqual([report.ready, report.database.status], [false, "down"]);
    release();
  });
});

Deno.test("readiness is not ready once shutting down, without waiting for the next ping", async () => {
  const probe = setup();
  assert.equal((await probe.readiness()).ready, true);
  probe.stop();
  const report = await probe.readiness();
  assert.deepEqual([report.ready, report.shuttingDown, probe.pings], [false, true, 1]);
  assert.deepEqual(report.kafka, { status: "up" });
  assert.deepEqual(report.database, { status: "up", migrations: "applied" });
});
