// Chunk-size sweep: one load run per BATCH_CHUNK_SIZE, one after the other, and where throughput peaks.
// Types only: load.ts imports this file, and hands its runLoad in (no import cycle at run time).
import type { LoadOptions, LoadResult } from "./load.ts";
import { count, mib, ms, table } from "./stats.ts";

/** Chunk sizes the sweep tries. */
export const SWEEP_SIZES = [100, 250, 500, 1000, 2000, 5000];
/** Items per batch in the sweep: as many as its largest chunk, so that every size matters. */
export const SWEEP_BATCH = 5000;
/** Seconds of load per chunk size in the sweep. */
export const SWEEP_SECONDS = 15;

/** Runs one load per chunk size with `runLoad`, one after the other; tabulates stored throughput. */
export async function runSweep(
  runLoad: (options: LoadOptions) => Promise<LoadResult>,
  options: LoadOptions,
  sizes = SWEEP_SIZES,
) {
  const rows = [];
  for (const chunkSize of sizes) {
    const result = await runLoad({ ...options, chunkSize, verify: false });
    rows.push({
      chunkSize,
      storedPerSecond: result.storedPerSecond,
      p50: result.latencyMs.p50,
      p99: result.latencyMs.p99,
      errors: result.requests - (result.statuses["200"] ?? 0),
      rssPeak: result.rss.peak,
    });
  }
  const best = rows.reduce((a, b) => b.storedPerSecond > a.storedPerSecond ? b : a);
  return { options: { ...options, log: undefined }, rows, best };
}

/** The human-readable sweep table. */
export function formatSweep(sweep: Awaited<ReturnType<typeof runSweep>>): string {
  const { rows, best } = sweep;
  const near = rows.filter((row) => row.storedPerSecond >= 0.95 * best.storedPerSecond);
  return [
    `chunk-size sweep: ${sweep.options.clients} clients x ${sweep.options.batch} items, ${sweep.options.seconds} s per size`,
    // Blank lines around the table keep it a table in Markdown too.
    "",
    table(
      ["chunk size", "stored/s", "p50", "p99", "non-200", "RSS peak"],
      rows.map((row) => [
        String(row.chunkSize),
        count(row.storedPerSecond),
        ms(row.p50),
        ms(row.p99),
        String(row.errors),
        mib(row.rssPeak),
      ]),
    ),
    "",
    `peaks at chunk size ${best.chunkSize} (${count(best.storedPerSecond)} executions/s); ` +
    `within 5 % of the peak: ${near.map((row) => row.chunkSize).join(", ")}`,
  ].join("\n");
}
