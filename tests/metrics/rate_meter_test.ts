// createRateMeter on an injected clock: events per second over a sliding minute.
import assert from "node:assert/strict";
import { createRateMeter } from "../../src/metrics/rate_meter.ts";

Deno.test("the rate is events per second over the last minute, and forgets what is older", () => {
  let now = 1_000_000;
  const meter = createRateMeter({ windowSeconds: 60, now: () => now });
  assert.equal(meter.perSecond(), 0);
  meter.add(30);
  now += 9_000;
  meter.add(70);
  // 100 events over the 10 seconds since the meter started.
  assert.equal(meter.perSecond(), 10);
  now += 50_000;
  meter.add(20);
  assert.equal(meter.perSecond(), 120 / 60, "a full window: 120 events in 60 s");
  now += 10_000;
  assert.equal(meter.perSecond(), 20 / 60, "the 100 of the first ten seconds left the window");
  now += 120_000;
  assert.equal(meter.perSecond(), 0, "a quiet minute reads 0");
});
