// catchUp and registerCatchUpCron with fakes: passes until the outbox is empty, the budget, the stop,
// and registration only where the runtime has Deno.cron.
import assert from "node:assert/strict";
import {
  CATCH_UP_CRON_NAME,
  CATCH_UP_CRON_SCHEDULE,
  catchUp,
  type CatchUpDeps,
  registerCatchUpCron,
} from "../../src/publish/catch_up.ts";

/**
 * An outbox on a fake clock: `leased` events come due at `dueAt` ms, and a pass hands over what is
 * due, which is then published (gone from the outbox) by the next look.
 */
function fakeOutbox(leased: number, dueAt: number) {
  let clock = 0;
  let pending = leased;
  let handed = 0;
  const calls: string[] = [];
  let stop = false;
  const deps: CatchUpDeps = {
    relayNow() {
      calls.push(`pass@${clock}`);
      const due = clock >= dueAt ? pending - handed : 0;
      handed += due;
      return Promise.resolve(due);
    },
    pending() {
      pending -= handed;
      handed = 0;
      return Promise.resolve(pending);
    },
    stopped: () => stop,
    sleep(ms) {
      clock += ms;
      return Promise.resolve();
    },
    now: () => clock,
  };
  return {
    deps,
    calls,
    get clock() {
      return clock;
    },
    stopAfter(passes: number) {
      const relay = deps.relayNow;
      deps.relayNow = async () => {
        const queued = await relay();
        if (calls.length >= passes) stop = true;
        return queued;
      };
    },
  };
}

Deno.test("catchUp waits for leased events to come due, hands them over once, and ends when the outbox is empty", async () => {
  const outbox = fakeOutbox(1500, 10_000);
  const result = await catchUp(outbox.deps, { stepMs: 1000, budgetMs: 50_000 });
  // Empty passes once a second until the lease ended at 10 s, then the one that took the events.
  assert.deepEqual(result, { passes: 11, handedOver: 1500, pendingLeft: 0 });
  assert.equal(outbox.calls[0], "pass@0");
  assert.equal(outbox.calls.at(-1), "pass@10000");
  assert.equal(outbox.clock, 10_000, "no pause after the pass that emptied the outbox");
});

Deno.test("catchUp makes no pass when the outbox is already empty", async () => {
  const outbox = fakeOutbox(0, 0);
  assert.deepEqual(await catchUp(outbox.deps), { passes: 0, handedOver: 0, pendingLeft: 0 });
  assert.deepEqual(outbox.calls, []);
});

Deno.test("catchUp ends at its budget while other instances still hold events, and says how many", async () => {
  const outbox = fakeOutbox(700, Infinity);
  const result = await catchUp(outbox.deps, { stepMs: 1000, budgetMs: 5500 });
  assert.deepEqual(result, { passes: 6, handedOver: 0, pendingLeft: 700 });
  assert.equal(outbox.clock, 5500, "the last pause is cut to what is left of the budget");
});

Deno.test("catchUp ends once the service is shutting down", async () => {
  const outbox = fakeOutbox(10, Infinity);
  outbox.stopAfter(2);
  const result = await catchUp(outbox.deps, { stepMs: 1000, budgetMs: 50_000 });
  assert.deepEqual(result, { passes: 2, handedOver: 0, pendingLeft: 10 });
});

Deno.test("registerCatchUpCron registers one job every minute where Deno.cron exists, and nothing elsewhere", async () => {
  const registered: Array<{ name: string; schedule: string; job: () => Promise<void> }> = [];
  let ran = 0;
  const job = () => Promise.resolve(void ran++);
  const cron = (name: string, schedule: string, handler: () => Promise<void>) => {
    registered.push({ name, schedule, job: handler });
    return new Promise<void>(() => {});
  };
  assert.equal(registerCatchUpCron(job, { cron }), true);
  assert.equal(registered.length, 1);
  assert.equal(registered[0].name, CATCH_UP_CRON_NAME);
  assert.equal(registered[0].schedule, "* * * * *");
  assert.equal(CATCH_UP_CRON_SCHEDULE, "* * * * *");
  await registered[0].job();
  assert.equal(ran, 1);

  assert.equal(registerCatchUpCron(job, {}), false);
  assert.equal(registered.length, 1);
});
