// Measures the constants of the memory budget (README, "Memory budget"): the service's RSS idle and
// after a warm-up, and k, the RSS it grows by per byte of JSON batch body in flight, from N
// concurrent bodies of 1, 4, 16 and 32 MiB whose total is BATCH_BYTES_IN_FLIGHT.
//   ./dev memory:budget [--heap-mb 1024 | --no-flags] [--rounds 3] [--shape small|large]... [--run 32:4]...
import { parseArgs } from "node:util";
import { dropSchema, uniqueName } from "../tests/_helpers.ts";
import { execution } from "../tests/_fakes/fixtures.ts";
import { largeValidBatch } from "./hostile_inputs.ts";
import { answerOf, mb, readPeak, startTierService, tally, USER_KEY } from "./memory_probe.ts";
import { readRss, scrapeMetrics, START_V8_FLAGS } from "./service_process.ts";

const MIB = 1024 * 1024;
const WARM_UP_BATCHES = 20;
const SETTLE_MS = 3000;
const HEAP_GAUGE = "execution_ingest_process_heap_used_bytes";
/** Bytes of one item of each shape, as JSON, to size the bodies. */
const SHAPES = {
  /** The fixtures' executions: about 330 bytes, many objects per byte (the costly case). */
  small: (i: number) => execution(i),
  /** Case 5's executions: a 3,990-character comment and about 15 KB of attributes. */
  large: undefined,
} as const;
type Shape = keyof typeof SHAPES;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "heap-mb": { type: "string" },
    // No V8 flags at all, as on Deno Deploy.
    "no-flags": { type: "boolean", default: false },
    rounds: { type: "string", default: "3" },
    shape: { type: "string", multiple: true },
    // "total:size" in MiB, such as 32:4; the six runs below when absent.
    run: { type: "string", multiple: true },
  },
});
const rounds = Number(values.rounds);
const shapes = (values.shape ?? ["small", "large"]) as Shape[];
// The demand is measured with room in the heap (GC under a tight limit hides it, or dies of it);
// without --heap-mb, the start task's own flags.
const heapFlags = values["no-flags"]
  ? []
  : values["heap-mb"]
  ? [`--v8-flags=--max-old-space-size=${values["heap-mb"]},--max-semi-space-size=8`]
  : START_V8_FLAGS;
const log = (line: string) => console.error(line);

/** A JSON batch body of about `bytes` bytes of items of `shape`. */
function body(shape: Shape, bytes: number): Uint8Array {
  if (shape === "large") return largeValidBatch(Math.max(1, Math.floor(bytes / 19_800)));
  const items: unknown[] = [];
  let size = 20;
  for (let i = 0; size < bytes - 400; i++) {
    const item = SHAPES.small(i);
    size += JSON.stringify(item).length + 1;
    items.push(item);
  }
  return new TextEncoder().encode(JSON.stringify({ executions: items }));
}

/** Resets a process's VmHWM to its current RSS (Linux: clear_refs 5), so a peak is measured from here. */
function resetPeak(pid: number) {
  Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
}

const post = (url: string, bytes: Uint8Array) =>
  answerOf(fetch(`${url}/v1/executions/batch`, {
    method: "POST",
    headers: { authorization: `Bearer ${USER_KEY}`, "content-type": "application/json" },
    body: bytes as BodyInit,
    signal: AbortSignal.timeout(300_000),
  }));

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/** One service: idle and warm RSS, then the peak over `rounds` of `count` concurrent bodies. */
async function measure(shape: Shape, total: number, size: number) {
  const schema = uniqueName("budget");
  const env = {
    BATCH_BYTES_IN_FLIGHT: String(total),
    BATCH_MAX_BYTES: String(Math.max(16 * MIB, size)),
    // Bytes bound the bodies here, not item counts.
    BATCH_MAX_ITEMS: "1000000",
    LOG_LEVEL: "info",
  };
  const service = await startTierService(schema, env, {
    denoFlags: heapFlags,
    startFlags: !values["no-flags"],
  });
  try {
    await settle();
    const idle = readRss(service.pid);
    const warm = body("small", 330 * 1000);
    for (let i = 0; i < WARM_UP_BATCHES; i++) await post(service.url, warm);
    await settle();
    const base = readRss(service.pid);
    const heapWarm = (await scrapeMetrics(service.url))?.get(
      "execution_ingest_process_heap_used_bytes",
    );
    // Bodies a little under their share, so all of them fit in the budget at once.
    const count = Math.max(1, Math.floor(total / size));
    const bodies = Array.from({ length: count }, () => body(shape, size - 64 * 1024));
    const inFlight = bodies.reduce((sum, each) => sum + each.length, 0);
    resetPeak(service.pid);
    // The HTTP thread's heap as its own gauge says, sampled: a lower bound of its peak.
    let heapPeak = heapWarm ?? NaN;
    let sampling = true;
    const heapLoop = (async () => {
      while (sampling) {
        const heap = (await scrapeMetrics(service.url))?.get(HEAP_GAUGE);
        if (heap !== undefined) heapPeak = Math.max(heapPeak, heap);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const answers: string[] = [];
    for (let round = 0; round < rounds && !service.exitedEarly; round++) {
      answers.push(...await Promise.all(bodies.map((each) => post(service.url, each))));
    }
    sampling = false;
    await heapLoop;
    const peak = readPeak(service.pid);
    return {
      shape,
      total,
      size,
      count,
      inFlight,
      idle,
      base,
      heapWarm: heapWarm ?? NaN,
      heapPeak,
      peak,
      k: (peak - base) / inFlight,
      answers: tally(answers),
      died: service.exitedEarly !== undefined,
    };
  } finally {
    await service.stop();
    await dropSchema(schema);
  }
}

const runs: Array<[number, number]> =
  (values.run ?? ["32:1", "32:4", "32:16", "32:32", "16:4", "64:4"])
    .map((run) => run.split(":").map((mib) => Number(mib) * MIB) as [number, number]);
const results = [];
for (const shape of shapes) {
  for (const [total, size] of runs) {
    const result = await measure(shape, total, size);
    log(`budget: ${JSON.stringify({ ...result, k: result.k.toFixed(2) })}`);
    results.push(result);
  }
}

console.log(
  `Service flags: ${heapFlags.join(" ") || "none (as on Deno Deploy)"}; ${rounds} rounds; ${
    new Date().toISOString()
  }\n`,
);
console.log(
  "| shape | bytes in flight (setting) | bodies × MiB | idle RSS MB | warm RSS MB | warm heap MB | heap peak seen MB | peak RSS MB | peak − warm MB | k | answers |",
);
console.log("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|");
for (const r of results) {
  console.log(
    `| ${r.shape} | ${r.total / MIB} MiB | ${r.count} × ${r.size / MIB} | ${mb(r.idle)} | ${
      mb(r.base)
    } | ${mb(r.heapWarm)} | ${mb(r.heapPeak)} | ${mb(r.peak)}${r.died ? " (died)" : ""} | ${
      mb(r.peak - r.base)
    } | ${r.k.toFixed(2)} | ${r.answers} |`,
  );
}
