// The pace gate: a batch waits while the outbox holds more events than the cap and Kafka is up, at
// most its longest wait, and never while the gate is off or Kafka down (on a fake clock).
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { createPaceGate } from "../src/pace_gate.ts";

function gate(state: { backlog: number; up: boolean; max: number }, reads = { count: 0 }) {
  return createPaceGate({
    pending: () => {
      reads.count++;
      return Promise.resolve(state.backlog);
    },
    kafkaUp: () => state.up,
    max: () => state.max,
    maxWaitMs: () => 1000,
  });
}

Deno.test("the pace gate holds a batch back only while the backlog is over the cap and Kafka up, never past its longest wait", async (t) => {
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  try {
    await t.step("under the cap, off, or with Kafka down: no wait at all", async () => {
      for (
        const state of [
          { backlog: 19_999, up: true, max: 20_000 },
          { backlog: 50_000, up: true, max: 0 },
          { backlog: 50_000, up: false, max: 20_000 },
        ]
      ) {
        assert.equal(await gate(state).wait(), 0, JSON.stringify(state));
      }
    });
    await t.step("over the cap: held until the backlog drops below it", async () => {
      const state = { backlog: 25_000, up: true, max: 20_000 };
      let held: number | undefined;
      const waiting = gate(state).wait().then((ms) => held = ms);
      await clock.tickAsync(300);
      assert.equal(held, undefined, "still held while over the cap");
      state.backlog = 10_000;
      await clock.tickAsync(120);
      await waiting;
      assert.ok(held! >= 300 && held! < 420, `held ${held} ms`);
    });
    await t.step("Kafka going down mid-wait lets the batch through at once", async () => {
      const state = { backlog: 25_000, up: true, max: 20_000 };
      const waiting = gate(state).wait();
      await clock.tickAsync(100);
      state.up = false;
      await clock.tickAsync(20);
      assert.ok((await waiting) < 200);
    });
    await t.step(
      "a backlog that stays over the cap: stored anyway after the longest wait",
      async () => {
        const waiting = gate({ backlog: 25_000, up: true, max: 20_000 }).wait();
        await clock.tickAsync(1100);
        const held = await waiting;
        assert.ok(held >= 1000 && held < 1100, `held ${held} ms`);
      },
    );
    await t.step("batches arriving together share one reading of the outbox", async () => {
      const reads = { count: 0 };
      const shared = gate({ backlog: 10, up: true, max: 20_000 }, reads);
      assert.deepEqual(await Promise.all([shared.wait(), shared.wait(), shared.wait()]), [0, 0, 0]);
      await clock.tickAsync(50);
      await shared.wait();
      assert.equal(reads.count, 1, "read once within 100 ms");
      await clock.tickAsync(100);
      await shared.wait();
      assert.equal(reads.count, 2, "read again once the reading is older than 100 ms");
    });
    await t.step("an outbox that cannot be read holds nothing back", async () => {
      const failing = createPaceGate({
        pending: () => Promise.reject(new Error("database away")),
        kafkaUp: () => true,
        max: () => 1,
        maxWaitMs: () => 1000,
      });
      assert.equal(await failing.wait(), 0);
    });
  } finally {
    clock.uninstall();
  }
});
