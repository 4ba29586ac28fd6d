// The publishing worker as the service sees it: a worker that dies or falls silent is replaced, and
// stopping one that never answers still ends by its deadline.
import assert from "node:assert/strict";
import { startPublishingWorker } from "../../src/publish/publishing_worker.ts";
import type { PublishingSettings } from "../../src/publish/publishing.ts";
import { captureLogs, eventually } from "../_helpers.ts";

const FIXTURE = new URL("./fixtures/misbehaving_worker.ts", import.meta.url);

const settings: PublishingSettings = {
  channelCapacity: 10,
  channelMaxBytes: 1024 * 1024,
  publisher: {
    concurrency: 1,
    batchMax: 10,
    batchMaxBytes: 1024 * 1024,
    leaseMs: 1000,
    resilience: {
      retry: { attempts: 0, initialDelayMs: 0, multiplier: 2, maxDelayMs: 0, jitter: 0 },
      breaker: { threshold: 1, halfOpenAfterMs: 100 },
    },
  },
  relay: { intervalMs: 100, batchMax: 10, batchMaxBytes: 1024 * 1024, leaseMs: 1000 },
};

/** A worker on the fixture, behaving as `mode` says. */
function start(mode: string, extra: { silenceMs?: number } = {}) {
  const logs = captureLogs();
  const released: string[] = [];
  const handle = startPublishingWorker({
    init: {
      db: { url: "postgres://unused@127.0.0.1:1/none" },
      client: "platformatic",
      kafka: { brokers: ["127.0.0.1:1"], topic: "unused", clientId: "test" },
      eventSource: mode,
      settings,
      logLevel: "info",
    },
    outbox: {
      release: (chunks) => {
        released.push(...chunks.map((chunk) => chunk.id));
        return Promise.resolve();
      },
    },
    logger: logs.logger,
    reportEveryMs: 20,
    workerUrl: FIXTURE,
    ...extra,
  });
  const replacements = () =>
    logs.lines.filter((line) => line.includes("Replacing the publishing worker")).length;
  return { handle, lines: logs.lines, replacements, released };
}

Deno.test("a publishing worker that dies is replaced, and the new one reports", async () => {
  const { handle, lines, replacements } = start("die-on-offer");
  try {
    await eventually(() => handle.status().kafka === "up", 5000, 10);
    handle.offer({ id: "c1", executions: [], storedAtMs: Date.now(), bytes: 0 });
    await eventually(() => replacements() === 1, 5000, 10);
    assert.match(lines.find((l) => l.includes("Replacing"))!, /worker crashed on purpose/);
    assert.match(lines.find((l) => l.includes("Replacing"))!, /"level":"error"/);
    assert.equal(handle.status().kafka, "unknown", "nothing is known of a fresh worker");
    await eventually(() => handle.status().kafka === "up", 5000, 10);
  } finally {
    await handle.stop(100);
  }
});

Deno.test("a publishing worker that stops reporting is replaced once it has been silent too long", async () => {
  const { handle, lines, replacements } = start("silent", { silenceMs: 300 });
  try {
    await eventually(() => replacements() >= 1, 5000, 10);
    assert.match(lines.find((l) => l.includes("Replacing"))!, /sent no report for 300 ms/);
  } finally {
    await handle.stop(100);
  }
});

Deno.test("stopping a worker that never answers ends at its deadline", async () => {
  const { handle, lines } = start("deaf");
  await eventually(() => handle.status().kafka === "up", 5000, 10);
  const began = performance.now();
  await handle.stop(300);
  const took = performance.now() - began;
  assert.ok(took >= 290 && took < 1500, `stopped after ${Math.round(took)} ms`);
  assert.ok(lines.some((line) => line.includes("did not stop in time")));
});

Deno.test("a stored chunk that would not fit beside what the worker holds and what is on its way to it waits in the outbox instead of being posted", async () => {
  // The fixture reports an empty channel and nothing taken from its queue: what was posted is
  // still on its way.
  const { handle, released } = start("steady");
  try {
    await eventually(() => handle.status().kafka === "up", 5000, 10);
    const chunk = (id: string, bytes: number) => ({
      id,
      executions: [],
      storedAtMs: Date.now(),
      bytes,
    });
    handle.offer(chunk("c1", 600 * 1024));
    handle.offer(chunk("c2", 300 * 1024));
    assert.deepEqual(released, [], "900 KiB fit in 1 MiB");
    handle.offer(chunk("c3", 200 * 1024));
    assert.deepEqual(released, ["c3"], "made due in the outbox, not posted");
    handle.offer(chunk("c4", 100 * 1024));
    assert.deepEqual(released, ["c3"], "a smaller one still fits");
  } finally {
    await handle.stop(100);
  }
});
