// createLimiter: concurrency, FIFO hand-over, a full queue and a missed deadline both refuse with SaturatedError.
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { createLimiter, SaturatedError } from "../src/limiter.ts";

/** A promise and the functions that settle it. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The state of a promise once pending jobs have run (fake timers stay frozen meanwhile). */
async function stateOf(promise: Promise<unknown>): Promise<"pending" | "fulfilled" | "rejected"> {
  let state: "pending" | "fulfilled" | "rejected" = "pending";
  promise.then(() => state = "fulfilled", () => state = "rejected");
  for (let i = 0; i < 20; i++) await Promise.resolve();
  return state;
}

/** Runs `body` with setTimeout and clearTimeout faked, so deadlines pass only when the test says so. */
async function withFakeTimers(body: (clock: FakeTimers.Clock) => Promise<void>) {
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout"] });
  try {
    await body(clock);
  } finally {
    clock.uninstall();
  }
}

Deno.test("a limiter never runs more tasks at once than its concurrency", async () => {
  await withFakeTimers(async () => {
    const limiter = createLimiter({ concurrency: 2 });
    const gates = Array.from({ length: 5 }, () => deferred());
    let running = 0, most = 0;
    const runs = gates.map((gate, i) =>
      limiter.run(async () => {
        running++;
        most = Math.max(most, running);
        await gate.promise;
        running--;
        return i;
      })
    );
    await stateOf(Promise.resolve());
    assert.deepEqual([limiter.active, limiter.waiting, running], [2, 3, 2]);
    for (const gate of gates) {
      gate.resolve();
      await stateOf(Promise.resolve());
      assert.ok(running <= 2);
    }
    assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3, 4]);
    assert.equal(most, 2);
    assert.deepEqual([limiter.active, limiter.waiting], [0, 0]);
  });
});

Deno.test("a limiter hands free slots to waiting tasks in the order they arrived", async () => {
  await withFakeTimers(async () => {
    const limiter = createLimiter({ concurrency: 1 });
    const started: number[] = [];
    const gates = Array.from({ length: 6 }, () => deferred());
    const runs = gates.map((gate, i) =>
      limiter.run(async () => {
        started.push(i);
        await gate.promise;
      })
    );
    // Each time the running task finishes, the longest-waiting one (not the newest) starts.
    for (const i of [0, 1, 2, 3, 4, 5]) {
      await stateOf(Promise.resolve());
      assert.equal(started.at(-1), i);
      gates[i].resolve();
    }
    await Promise.all(runs);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
  });
});

Deno.test("a limiter with a full queue refuses the next task at once with SaturatedError", async () => {
  await withFakeTimers(async (clock) => {
    const limiter = createLimiter({ concurrency: 1, queueMax: 2, timeoutMs: 60_000 });
    const gate = deferred();
    const held = [0, 1, 2].map(() => limiter.run(() => gate.promise));
    let ran = false;
    const refused = limiter.run(() => {
      ran = true;
      return Promise.resolve();
    });
    assert.equal(await stateOf(refused), "rejected", "refused without any time passing");
    assert.equal(clock.now, 0);
    await assert.rejects(refused, (error: unknown) => {
      assert.ok(error instanceof SaturatedError);
      assert.match(error.message, /2 tasks are already waiting/);
      return true;
    });
    assert.equal(ran, false);
    assert.deepEqual([limiter.active, limiter.waiting], [1, 2]);
    gate.resolve();
    await Promise.all(held);
  });
});

Deno.test("a limiter with a queue of 0 refuses every task while its slots are busy", async () => {
  await withFakeTimers(async () => {
    const limiter = createLimiter({ concurrency: 1, queueMax: 0 });
    const gate = deferred();
    const held = limiter.run(() => gate.promise);
    await assert.rejects(limiter.run(() => Promise.resolve()), SaturatedError);
    gate.resolve();
    await held;
    assert.equal(await limiter.run(() => Promise.resolve("free again")), "free again");
  });
});

Deno.test("a task that waits longer than timeoutMs is refused with SaturatedError and leaves the queue", async () => {
  await withFakeTimers(async (clock) => {
    const limiter = createLimiter({ concurrency: 1, timeoutMs: 1000 });
    const gate = deferred();
    const held = limiter.run(() => gate.promise);
    let ran = false;
    const waiting = limiter.run(() => {
      ran = true;
      return Promise.resolve();
    });
    await clock.tickAsync(999);
    assert.equal(await stateOf(waiting), "pending");
    await clock.tickAsync(1);
    await assert.rejects(waiting, (error: unknown) => {
      assert.ok(error instanceof SaturatedError);
      assert.match(error.message, /no slot was free within 1000 ms/);
      return true;
    });
    assert.deepEqual([limiter.active, limiter.waiting], [1, 0]);

    gate.resolve();
    await held;
    assert.equal(ran, false, "the timed-out task never runs");
    assert.deepEqual([limiter.active, limiter.waiting], [0, 0]);
    assert.equal(await limiter.run(() => Promise.resolve(7)), 7);
  });
});

Deno.test("a task granted a slot in time is not refused when its deadline passes later", async () => {
  await withFakeTimers(async (clock) => {
    const limiter = createLimiter({ concurrency: 1, timeoutMs: 1000 });
    const first = deferred();
    const second = deferred<string>();
    const held = limiter.run(() => first.promise);
    const waiting = limiter.run(() => second.promise);
    await clock.tickAsync(500);
    first.resolve();
    await held;
    await clock.tickAsync(5000);
    assert.equal(await stateOf(waiting), "pending");
    second.resolve("done");
    assert.equal(await waiting, "done");
    assert.equal(clock.countTimers(), 0, "the deadline timer was cleared");
  });
});

Deno.test("a task that throws frees its slot and its error reaches the caller", async () => {
  await withFakeTimers(async () => {
    const limiter = createLimiter({ concurrency: 1 });
    const failure = new Error("task failed");
    await assert.rejects(limiter.run(() => Promise.reject(failure)), failure);
    assert.equal(limiter.active, 0);
    assert.equal(await limiter.run(() => Promise.resolve("next")), "next");
  });
});
