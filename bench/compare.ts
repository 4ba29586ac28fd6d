// New way against legacy, side by side in one process: the paths take turns on fresh data; medians, p99, reduction.
import { parseArgs } from "node:util";
import { batchBody, createIngestRig, freshItems, type IngestRig, toRecords } from "./ingest_rig.ts";
import { ms, reductionPercent, summarize, type Summary, table } from "./stats.ts";

/** How often to run each path at one batch size. */
export interface SizePlan {
  size: number;
  /** Runs of the new path, the bulk store and the raw COPY. */
  runs: number;
  /** Runs of the legacy path (each takes about a millisecond per item). */
  legacyRuns: number;
}

/** What one batch size measured, in milliseconds. */
export interface SizeResult {
  size: number;
  new: Summary;
  legacy: Summary;
  bulkStore: Summary;
  rawCopy: Summary;
  /** Legacy median over new median. */
  ratio: number;
  /** Reduction in response time of new against legacy, medians, per cent. */
  reduction: number;
}

/** The default plan: fewer legacy runs where one takes seconds. */
export function defaultPlan(sizes: number[], runs: number): SizePlan[] {
  return sizes.map((size) => ({
    size,
    runs,
    legacyRuns: size <= 100 ? runs : size <= 1000 ? Math.min(runs, 9) : 3,
  }));
}

/**
 * Runs the paths in turns (the order rotating every round) so that load from elsewhere on the
 * machine falls on all of them alike. Each run gets fresh items, built before its clock starts.
 */
export async function measureSizes(
  rig: IngestRig,
  plan: SizePlan[],
  log: (line: string) => void = (line) => console.error(line),
): Promise<SizeResult[]> {
  // Warm-up: JIT, pool connections, the Kafka producers' metadata.
  for (let i = 0; i < 3; i++) {
    await rig.postNew(batchBody(freshItems(1000)), 1000);
    await rig.postLegacy(batchBody(freshItems(50)), 50);
    await rig.bulkStore(toRecords(freshItems(1000)));
    await rig.rawCopy(toRecords(freshItems(1000)));
  }
  const results: SizeResult[] = [];
  for (const { size, runs, legacyRuns } of plan) {
    const samples = {
      new: [] as number[],
      legacy: [] as number[],
      bulk: [] as number[],
      copy: [] as number[],
    };
    const paths = [
      { take: samples.new, runs, run: () => rig.postNew(batchBody(freshItems(size)), size) },
      {
        take: samples.legacy,
        runs: legacyRuns,
        run: () => rig.postLegacy(batchBody(freshItems(size)), size),
      },
      { take: samples.bulk, runs, run: () => rig.bulkStore(toRecords(freshItems(size))) },
      { take: samples.copy, runs, run: () => rig.rawCopy(toRecords(freshItems(size))) },
    ];
    for (let round = 0; round < Math.max(runs, legacyRuns); round++) {
      for (let k = 0; k < paths.length; k++) {
        const path = paths[(round + k) % paths.length];
        if (path.take.length < path.runs) path.take.push(await path.run());
      }
    }
    const result: SizeResult = {
      size,
      new: summarize(samples.new),
      legacy: summarize(samples.legacy),
      bulkStore: summarize(samples.bulk),
      rawCopy: summarize(samples.copy),
      ratio: 0,
      reduction: 0,
    };
    result.ratio = result.legacy.median / result.new.median;
    result.reduction = reductionPercent(result.legacy.median, result.new.median);
    log(
      `compare: ${size} items: new ${ms(result.new.median)} (p99 ${ms(result.new.p99)}), legacy ${
        ms(result.legacy.median)
      }, reduction ${result.reduction.toFixed(1)} %`,
    );
    results.push(result);
  }
  return results;
}

/** The comparison as a table. */
export function formatSizes(results: SizeResult[]): string {
  return table(
    [
      "items",
      "new median",
      "new p95",
      "new p99",
      "legacy median",
      "legacy p99",
      "legacy / new",
      "reduction",
      "bulk store alone",
      "raw COPY",
      "runs new / legacy",
    ],
    results.map((r) => [
      r.size.toLocaleString("en-US"),
      ms(r.new.median),
      ms(r.new.p95),
      ms(r.new.p99),
      ms(r.legacy.median),
      ms(r.legacy.p99),
      `${r.ratio.toFixed(1)}x`,
      `${r.reduction.toFixed(1)} %`,
      ms(r.bulkStore.median),
      ms(r.rawCopy.median),
      `${r.new.runs} / ${r.legacy.runs}`,
    ]),
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      batch: { type: "string", default: "1000" },
      runs: { type: "string", default: "30" },
      "legacy-runs": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const sizes = values.batch.split(",").map(Number);
  const plan = defaultPlan(sizes, Number(values.runs));
  if (values["legacy-runs"]) { for (const p of plan) p.legacyRuns = Number(values["legacy-runs"]); }
  const rig = await createIngestRig();
  try {
    const results = await measureSizes(rig, plan);
    if (values.json) {
      console.log(JSON.stringify(results));
    } else {
      console.log(formatSizes(results));
      for (const r of results) {
        console.log(
          `${r.size} items: median new ${ms(r.new.median)} vs legacy ${
            ms(r.legacy.median)
          }; p99 new ${ms(r.new.p99)} vs legacy ${ms(r.legacy.p99)}; ` +
            `reduction in response time: ${r.reduction.toFixed(1)} %`,
        );
      }
    }
  } finally {
    await rig.close();
  }
}
