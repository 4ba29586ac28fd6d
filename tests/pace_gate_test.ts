// The pace gate: a batch waits while the publishing backlog is over its cap and Kafka is up, at
// most its longest wait, and never while the gate is off or Kafka down (on a fake clock).
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { createPaceGate } from "../src/pace_gate.ts";

function gate(state: { backlog: number; up: boolean; max: number }) {
  return createPaceGate({
    backlog: () => state.backlog,
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
      await clock.tickAsync(20);
      await waiting;
      assert.ok(held! >= 300 && held! < 400, `held ${held} ms`);
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
  } finally {
    clock.uninstall();
  }
});
