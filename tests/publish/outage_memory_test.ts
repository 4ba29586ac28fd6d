// Publishing's memory, against the real service at the start task's heap flags, real PostgreSQL and
// a broker of this run's own (KAFKA_HOME, KAFKA_PORT: never the shared one): large executions during
// an outage, and a restart with a large backlog, keep the process up, and every stored event ends
// on the topic exactly once. Short here; `deno task soak:outage` runs the same code for minutes.
//   OUTAGE_BATCHES          15 MB batches posted while the broker is stopped [12]
//   OUTAGE_BACKLOG_EVENTS   large events pending at the restart [10000]
import assert from "node:assert/strict";
import { runBacklogRestart, runOutage } from "./_outage_rig.ts";

const knob = (name: string, fallback: number) => Number(Deno.env.get(name) ?? fallback);
const log = (line: string) => console.log(`    ${line}`);

Deno.test("with the broker stopped, 15 MB batches of large executions keep the service up, and once the broker is back every stored event is on the topic exactly once", async () => {
  const result = await runOutage(
    { batches: knob("OUTAGE_BATCHES", 12), seconds: 600 },
    { tickMs: 5000, log },
  );
  log(`peak RSS ${result.peakRssMb} MB; answers ${JSON.stringify(result.answers)}`);
  assert.equal(result.died, undefined, "the service stayed up");
  assert.deepEqual(result.answers, { 200: result.posted }, "every batch stored");
  assert.equal(result.stored, result.posted * 800);
  assert.equal(result.missing, 0, "every stored event is on the topic");
  assert.equal(result.onTopic, result.stored, "no message twice: as many messages as events");
});

Deno.test("a restart with a large backlog pending and the broker stopped keeps the service up, and the backlog drains onto the topic exactly once when the broker is back", async () => {
  const events = knob("OUTAGE_BACKLOG_EVENTS", 10_000);
  const result = await runBacklogRestart({ events, downSeconds: 15 }, { tickMs: 5000, log });
  log(`peak RSS ${result.peakRssMb} MB; ${result.notes.join("; ")}`);
  assert.equal(result.died, undefined, "the service stayed up");
  assert.equal(result.stored, events);
  assert.equal(result.missing, 0, "every pending event is on the topic");
  assert.equal(result.onTopic, events, "no message twice: as many messages as events");
});
