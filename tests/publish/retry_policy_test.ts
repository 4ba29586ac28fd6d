// The publish retry policy: delays grow by the multiplier up to the cap, jitter stays in its band,
// and exactly `attempts` retries happen before the error comes through (on a fake clock).
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import {
  baseDelayMs,
  createRetryPolicy,
  type RetrySettings,
} from "../../src/publish/retry_policy.ts";

const SETTINGS: RetrySettings = {
  attempts: 3,
  initialDelayMs: 100,
  multiplier: 2,
  maxDelayMs: 1000,
  jitter: 0.2,
};

/** Random numbers from a list, in turn (the last one repeats). */
function randomFrom(values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)];
}

/**
 * Runs a task that always fails through the policy on a fake clock; returns the delays cockatiel
 * announced, the clock times each call happened at, and what the policy finally threw.
 */
async function runFailing(settings: RetrySettings, random: () => number) {
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  try {
    const policy = createRetryPolicy(settings, random);
    const delays: number[] = [];
    policy.onRetry((event) => void delays.push(event.delay));
    const callTimes: number[] = [];
    const failure = new Error("broker unavailable");
    const outcome = policy.execute(() => {
      callTimes.push(clock.now);
      throw failure;
    }).then(() => undefined, (error: unknown) => error);
    await clock.runAllAsync();
    return { delays, callTimes, thrown: await outcome, failure };
  } finally {
    clock.uninstall();
  }
}

Deno.test("baseDelayMs grows by the multiplier from the initial delay and stops at the cap", async (t) => {
  const cases: Array<[string, Partial<RetrySettings>, number[]]> = [
    ["doubling up to 1000", {}, [100, 200, 400, 800, 1000, 1000, 1000]],
    ["tripling up to 1000", { multiplier: 3 }, [100, 300, 900, 1000, 1000, 1000, 1000]],
    ["a multiplier of 1 keeps it constant", { multiplier: 1 }, [100, 100, 100, 100, 100, 100, 100]],
    ["a cap below the initial delay wins", { maxDelayMs: 50 }, [50, 50, 50, 50, 50, 50, 50]],
    ["an initial delay of 0 stays 0", { initialDelayMs: 0 }, [0, 0, 0, 0, 0, 0, 0]],
    ["a fractional multiplier", { multiplier: 1.5 }, [100, 150, 225, 337.5, 506.25, 759.375, 1000]],
  ];
  for (const [name, patch, expected] of cases) {
    await t.step(name, () => {
      const settings = { ...SETTINGS, ...patch };
      assert.deepEqual(expected.map((_, i) => baseDelayMs(settings, i + 1)), expected);
    });
  }

  await t.step("a huge retry number stays at the cap", () => {
    assert.equal(baseDelayMs(SETTINGS, 10_000), 1000);
  });
});

Deno.test("a task that always fails is tried 1 + attempts times, then its own error is thrown", async (t) => {
  for (const attempts of [0, 1, 3, 6]) {
    await t.step(`attempts = ${attempts}`, async () => {
      const { delays, callTimes, thrown, failure } = await runFailing(
        { ...SETTINGS, attempts },
        () => 0.5,
      );
      assert.equal(callTimes.length, attempts + 1);
      assert.equal(delays.length, attempts);
      assert.equal(thrown, failure);
    });
  }
});

Deno.test("with no jitter (random = 0.5) each retry waits exactly its base delay", async () => {
  const { delays, callTimes } = await runFailing({ ...SETTINGS, attempts: 6 }, () => 0.5);
  assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
  // Each call happens only once its delay has passed on the clock.
  assert.deepEqual(callTimes, [0, 100, 300, 700, 1500, 2500, 3500]);
});

Deno.test("jitter keeps every delay within ±jitter of its base delay and never above the cap", async (t) => {
  await t.step("random = 0 gives the low edge of the band", async () => {
    const { delays } = await runFailing({ ...SETTINGS, attempts: 5 }, () => 0);
    assert.deepEqual(delays, [80, 160, 320, 640, 800]);
  });

  await t.step("random just under 1 gives the high edge, clipped at the cap", async () => {
    const { delays } = await runFailing({ ...SETTINGS, attempts: 5 }, () => 0.999999);
    assert.deepEqual(delays, [120, 240, 480, 960, 1000]);
  });

  await t.step("mixed random numbers stay inside their bands", async () => {
    const randoms = [0.1, 0.9, 0.25, 0.75, 0.5, 0.01, 0.99, 0.4];
    const settings = { ...SETTINGS, attempts: randoms.length, maxDelayMs: 100_000 };
    const { delays } = await runFailing(settings, randomFrom(randoms));
    assert.equal(delays.length, randoms.length);
    delays.forEach((delay, i) => {
      const base = baseDelayMs(settings, i + 1);
      assert.ok(
        delay >= Math.floor(base * 0.8) && delay <= Math.ceil(base * 1.2),
        `retry ${i + 1}: ${delay} outside ${base} ± 20 %`,
      );
      assert.equal(delay, Math.round(base + base * 0.2 * (2 * randoms[i] - 1)));
    });
  });

  await t.step("a jitter of 0 ignores the random numbers", async () => {
    const { delays } = await runFailing(
      { ...SETTINGS, attempts: 3, jitter: 0 },
      randomFrom([0, 0.999, 0.3]),
    );
    assert.deepEqual(delays, [100, 200, 400]);
  });
});

Deno.test("a task that succeeds after failures returns its value and stops retrying", async () => {
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout"] });
  try {
    const policy = createRetryPolicy({ ...SETTINGS, attempts: 5 }, () => 0.5);
    let calls = 0;
    const outcome = policy.execute(() => {
      calls++;
      if (calls < 3) throw new Error(`failure ${calls}`);
      return "sent";
    });
    await clock.tickAsync(99);
    assert.equal(calls, 1, "the first retry waits its whole delay");
    await clock.tickAsync(1);
    assert.equal(calls, 2);
    await clock.runAllAsync();
    assert.equal(await outcome, "sent");
    assert.equal(calls, 3);
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});
