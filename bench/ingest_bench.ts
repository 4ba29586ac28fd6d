// deno bench: validation cost, and a 1,000-item batch stored + published the new way against the legacy way.
import { batchBody, createIngestRig, freshItems, toRecords } from "./ingest_rig.ts";
import { median, ms, percentile, reductionPercent } from "./stats.ts";
import { toRecord, validateExecution } from "../src/domain/validate.ts";
import { v7 as uuidv7 } from "uuid";

const N = 1000;
const STORED = "1,000 executions, stored + published";
// deno bench runs warmup + 1 iterations first when one takes over 10 ms; they are left out below.
const WARMUP = { fast: 3, slow: 1 };

const rig = await createIngestRig();
const samples = { new: [] as number[], legacy: [] as number[] };

function record(series: number[], warmup: number, value: number) {
  series.push(value);
  return series.length > warmup + 1;
}

const fixedItems = freshItems(N);
const fixedBody = batchBody(fixedItems);

Deno.bench({
  name: "validateExecution + toRecord, 1,000 items",
  group: "validation of 1,000 items",
  baseline: true,
  fn() {
    for (const raw of fixedItems) {
      const checked = validateExecution(raw);
      if (checked.ok) toRecord(checked.value, uuidv7);
    }
  },
});

Deno.bench({
  name: "JSON.parse of the same 1,000-item body (for scale)",
  group: "validation of 1,000 items",
  fn() {
    JSON.parse(fixedBody);
  },
});

Deno.bench({
  name: "(b) legacy: HTTP POST, one INSERT + one awaited send (acks -1) per execution",
  group: STORED,
  baseline: true,
  n: 5,
  warmup: WARMUP.slow,
  async fn(b) {
    const body = batchBody(freshItems(N));
    const elapsed = await rig.postLegacy(body, N, b);
    record(samples.legacy, WARMUP.slow, elapsed);
  },
});

Deno.bench({
  name: "(a) new: HTTP POST to the real service (bulk store + outbox; Kafka publishes after)",
  group: STORED,
  n: 40,
  warmup: WARMUP.fast,
  async fn(b) {
    const body = batchBody(freshItems(N));
    const elapsed = await rig.postNew(body, N, b);
    record(samples.new, WARMUP.fast, elapsed);
  },
});

Deno.bench({
  name: "(c) bulk store alone: insertChunk, chunks of 500, with outbox rows",
  group: STORED,
  n: 40,
  warmup: WARMUP.fast,
  async fn(b) {
    const records = toRecords(freshItems(N));
    await rig.bulkStore(records, b);
  },
});

Deno.bench({
  name: "(d) physical limit: raw COPY into a copy of the table, no outbox",
  group: STORED,
  n: 40,
  warmup: WARMUP.fast,
  async fn(b) {
    const records = toRecords(freshItems(N));
    await rig.rawCopy(records, b);
  },
});

let finished = false;
Deno.bench({
  name: "prints the summary, stops the service, drops the schema and topic",
  // Ungrouped benches run first; a group of its own registered last runs last.
  group: "summary and clean-up (not a measurement)",
  n: 1,
  warmup: 1,
  async fn() {
    if (finished) return;
    finished = true;
    const newer = samples.new.slice(WARMUP.fast + 1);
    const legacy = samples.legacy.slice(WARMUP.slow + 1);
    const counts = await rig.counts();
    await rig.close();
    const newMedian = median(newer), legacyMedian = median(legacy);
    console.log(
      [
        "",
        `1,000-item batch, HTTP round trip, measured in this run (warm-up runs left out):`,
        `  new    median ${ms(newMedian)}  p99 ${
          ms(percentile(newer, 99))
        }  (${newer.length} runs)`,
        `  legacy median ${ms(legacyMedian)}  p99 ${
          ms(percentile(legacy, 99))
        }  (${legacy.length} runs)`,
        `  reduction in response time: ${reductionPercent(legacyMedian, newMedian).toFixed(1)} %` +
        `  (legacy / new = ${(legacyMedian / newMedian).toFixed(1)}x)`,
        `  rows stored: ${counts.executions} in executions, ${counts.copied} by raw COPY;` +
        ` schema ${rig.schema} and topic ${rig.topic} dropped`,
      ].join("\n"),
    );
  },
});
