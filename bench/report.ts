// Runs the measurements and writes docs/performance.md and docs/latency.svg from what they printed.
import { parseArgs } from "node:util";
import postgres from "postgres";
import { DATABASE_URL } from "../tests/_helpers.ts";
import { formatSizes, measureSizes, type SizePlan, type SizeResult } from "./compare.ts";
import { createIngestRig } from "./ingest_rig.ts";
import { formatSweep, runSweep, SWEEP_BATCH, SWEEP_SECONDS } from "./chunk_sweep.ts";
import { formatLoad, type LoadResult, runLoad } from "./load.ts";
import { latencySvg } from "./latency_svg.ts";
import {
  formatPublishing,
  measurePublishing,
  type PublishingResults,
  publishingTargets,
} from "./publish_report.ts";
import { count, median, mib, ms, verdict } from "./stats.ts";

const DOCS = new URL("../docs/", import.meta.url);
/** Batch sizes of the latency chart, with runs of the new way / of the legacy way. */
const PLAN: SizePlan[] = [
  { size: 10, runs: 20, legacyRuns: 20 },
  { size: 100, runs: 20, legacyRuns: 20 },
  { size: 1000, runs: 30, legacyRuns: 9 },
  { size: 5000, runs: 10, legacyRuns: 3 },
  { size: 10_000, runs: 10, legacyRuns: 3 },
];
/** A plan that only checks the generator end to end (`--quick`); its figures mean little. */
const QUICK_PLAN: SizePlan[] = [10, 100, 1000, 5000, 10_000].map((size) => ({
  size,
  runs: 3,
  legacyRuns: size > 1000 ? 1 : 2,
}));
const MB = 1_000_000;
const OUTAGE_TARGET = "service RSS flat during a 60-s Kafka outage";
const OUTAGE_HEADING = "## Load with a ";
const KEPT = "_Not re-measured in the latest run";

/**
 * The outage part of the previous report, kept when this run measures no outage (it stops the
 * broker others share for a minute, so it is not run every time).
 */
async function previousOutage(): Promise<{ row: string; section: string } | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(new URL("performance.md", DOCS));
  } catch {
    return undefined;
  }
  const row = text.split("\n").find((line) => line.startsWith(`| ${OUTAGE_TARGET}`));
  const start = text.indexOf(OUTAGE_HEADING);
  if (!row || start < 0) return undefined;
  const end = text.indexOf("\n## ", start + 1);
  const section = text.slice(start, end < 0 ? undefined : end + 1).trimEnd();
  const note = `${KEPT} (it stops the shared broker for a minute): kept from an earlier report. ` +
    "Re-measure with `deno task bench:report --kafka-outage 60`._";
  const lines = section.split("\n");
  if (!lines.some((line) => line.startsWith(KEPT))) lines.splice(2, 0, note, "");
  return {
    row: row.includes("(earlier run)") ? row : `${row.slice(0, -1)}(earlier run) |`,
    section: lines.join("\n") + "\n",
  };
}

async function machine() {
  const cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/^model name\s*:\s*(.+)$/m)?.[1];
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  const [{ version }] = await sql`select current_setting('server_version') as version`;
  await sql.end();
  const kafka = Deno.readTextFileSync(new URL("../scripts/kafka.sh", import.meta.url))
    .match(/^DEFAULT_KAFKA_VERSION=(\S+)/m)?.[1];
  const git = (...args: string[]) =>
    new TextDecoder().decode(
      new Deno.Command("git", { args, cwd: new URL("..", import.meta.url) }).outputSync().stdout,
    ).trim();
  // Others edit src/ while measurements run: say which code was measured.
  const dirty = git("status", "--porcelain", "--", "src").split("\n").filter(Boolean)
    .map((line) => line.slice(3));
  return {
    source: `commit ${git("rev-parse", "--short", "HEAD")}` +
      (dirty.length ? ` plus uncommitted changes to ${dirty.join(", ")}` : ""),
    cores: navigator.hardwareConcurrency,
    cpu: cpu ?? "unknown CPU",
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 1024 ** 3),
    postgres: `PostgreSQL ${version}`,
    kafka: `Apache Kafka ${
      Deno.env.get("KAFKA_VERSION") ?? kafka
    } (scripts/kafka.sh, one KRaft node)`,
    deno: `Deno ${Deno.version.deno}`,
    loadAverage: Deno.loadavg().map((n) => n.toFixed(2)).join(", "),
  };
}

/** RSS growth over an outage: the median of its last 10 s against that of its first 10 s. */
function outageGrowth(run: LoadResult) {
  const samples = run.rss.duringOutage;
  if (samples.length < 2) return NaN;
  const from = samples[0].t, to = samples.at(-1)!.t;
  const first = median(samples.filter((s) => s.t < from + 10).map((s) => s.rss));
  const last = median(samples.filter((s) => s.t > to - 10).map((s) => s.rss));
  return (last - first) / first;
}

function targets(
  sizes: SizeResult[],
  load?: LoadResult,
  outage?: LoadResult,
  keptOutageRow?: string,
  publishing?: PublishingResults,
) {
  const at1000 = sizes.find((r) => r.size === 1000)!;
  const growth = outage ? outageGrowth(outage) : NaN;
  const keepsPace = load
    ? load.publishedPerSecond >= 0.9 * load.storedPerSecond &&
      (load.drain?.pending ?? 1) === 0
    : undefined;
  const rows = [
    [
      "1,000-item batch over HTTP, Kafka on: p99 ≤ 100 ms",
      `p99 ${ms(at1000.new.p99)} (median ${
        ms(at1000.new.median)
      }, ${at1000.new.runs} runs one at a time)` +
      (load ? `; under load (${load.options.clients} clients): p99 ${ms(load.latencyMs.p99)}` : ""),
      verdict(at1000.new.p99 <= 100),
    ],
    [
      "1,000-item batch: ≥ 95 % less response time than legacy",
      `${at1000.reduction.toFixed(1)} % (medians ${ms(at1000.new.median)} vs ${
        ms(at1000.legacy.median)
      }, ${at1000.ratio.toFixed(1)}x)`,
      verdict(at1000.reduction >= 95),
    ],
    [
      "≥ 30,000 executions/s stored, Kafka keeping pace (backlog bounded, drains)",
      load
        ? `${count(load.storedPerSecond)}/s stored; ${
          count(load.publishedPerSecond)
        }/s published during the load; ` +
          `backlog peak ${count(load.outboxPendingPeak)}; drained in ${
            load.drain?.seconds.toFixed(1)
          } s after; ` +
          `topic check ${load.check?.ok ? "passed" : "FAILED"}`
        : "",
      load ? verdict(load.storedPerSecond >= 30_000 && keepsPace) : verdict(undefined),
    ],
    [
      "service RSS ≤ 300 MB under load",
      load ? `peak ${count(load.rss.peak / MB)} MB (${mib(load.rss.peak)})` : "",
      load ? verdict(load.rss.peak <= 300 * MB) : verdict(undefined),
    ],
    [
      OUTAGE_TARGET,
      outage
        ? `RSS ${growth >= 0 ? "+" : ""}${
          (growth * 100).toFixed(1)
        } % from the first to the last 10 s of the ${outage.options.kafkaOutageSeconds}-s outage; ` +
          `peak during it ${count(outage.rss.peakDuringOutage / MB)} MB`
        : "",
      !outage
        ? verdict(undefined)
        : Math.abs(growth) > 0.1
        ? "**missed** (not flat)"
        : outage.rss.peakDuringOutage > 300 * MB
        ? "**flat, but above 300 MB**"
        : "**met**",
    ],
  ];
  if (publishing) rows.push(...publishingTargets(publishing));
  return [
    "| target | measured | |",
    "| --- | --- | --- |",
    ...rows.map((row) =>
      !outage && keptOutageRow && row[0] === OUTAGE_TARGET
        ? keptOutageRow
        : `| ${row.join(" | ")} |`
    ),
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "skip-load": { type: "boolean", default: false },
      "skip-sweep": { type: "boolean", default: false },
      "skip-publishing": { type: "boolean", default: false },
      "kafka-outage": { type: "string" },
      quick: { type: "boolean", default: false },
    },
  });
  const log = (line: string) => console.error(line);
  const began = new Date();
  const host = await machine();
  log(`report: ${JSON.stringify(host)}`);

  const rig = await createIngestRig();
  let sizes: SizeResult[];
  try {
    sizes = await measureSizes(rig, values.quick ? QUICK_PLAN : PLAN, log);
  } finally {
    await rig.close();
  }
  console.log(formatSizes(sizes));

  const publishing = values["skip-publishing"] ? undefined : await measurePublishing({
    seconds: values.quick ? 5 : 30,
    stopSeconds: values.quick ? 5 : 30,
    pauseSeconds: values.quick ? 5 : 25,
    log,
  });
  if (publishing) console.log(formatPublishing(publishing));
  // The 8-client run of the default client is the load test; without it, one of its own.
  const load = publishing?.byClient.platformatic ??
    (values["skip-load"]
      ? undefined
      : await runLoad({ clients: 8, batch: 1000, seconds: values.quick ? 5 : 30, log }));
  if (load) console.log(formatLoad(load));
  const outageSeconds = Number(values["kafka-outage"] ?? 0);
  const outage = outageSeconds > 0
    ? await runLoad({
      clients: 8,
      batch: 1000,
      seconds: outageSeconds + 30,
      kafkaOutageSeconds: outageSeconds,
      log,
    })
    : undefined;
  if (outage) console.log(formatLoad(outage));
  const sweep = values["skip-sweep"] ? undefined : await runSweep(
    runLoad,
    { clients: 8, batch: SWEEP_BATCH, seconds: values.quick ? 5 : SWEEP_SECONDS, log },
    values.quick ? [500, 5000] : undefined,
  );
  if (sweep) console.log(formatSweep(sweep));

  const kept = outage ? undefined : await previousOutage();
  const doc = [
    "# Performance",
    "",
    "Generated by `deno task bench:report` (bench/report.ts) on " +
    `${began.toISOString().slice(0, 16).replace("T", " ")} UTC; edit the generator, not this file.`,
    "",
    `Machine: ${host.cores} cores (${host.cpu}), ${host.memoryGiB} GiB; ${host.postgres} and ` +
    `${host.kafka} on the same box; ${host.deno}. Load average at the start: ${host.loadAverage}.`,
    `Code measured: ${host.source}.`,
    "Other people's tests share this machine, so absolute times are noisy (often by 20 to 50 %);",
    "the ratios are steadier, because the ways compared take turns in one process on the same data.",
    "Medians are reported unless a percentile is named.",
    "",
    "## Targets",
    "",
    targets(sizes, load, outage, kept?.row, publishing),
    "",
    "## Response time by batch size: new way against the legacy way",
    "",
    "![Median response time by batch size, legacy and new](latency.svg)",
    "",
    formatSizes(sizes),
    "",
    "- **new**: `POST /v1/executions/batch` to the real service (src/main.ts `startService`, in",
    "  process, HTTP on 127.0.0.1), with Kafka publishing on: validation, bulk insert of chunks of",
    "  500 with their outbox rows, per-item answer; the events are published after the answer.",
    "- **legacy**: the old service's way on the same data, table and topic, also behind HTTP: one",
    "  `INSERT` per execution inside one transaction, each followed by an awaited kafkajs",
    "  `producer.send` of that one event with `acks: -1`.",
    "- **bulk store alone**: `createExecutionStore(...).repository.insertChunk`, chunks of 500,",
    "  outbox rows included, no HTTP and no validation.",
    "- **raw COPY**: postgres.js `copy ... from stdin` of the same rows into a copy of the table,",
    "  no outbox: the physical limit of getting the rows into PostgreSQL from Deno.",
    "- Every run posts fresh ids; bodies and records are built before the clock starts.",
    "",
  ];
  if (load) {
    doc.push(
      "## Load test",
      "",
      "`deno task load` (bench/load.ts): the service as its own process (`deno run -A src/main.ts`),",
      "8 clients each posting 1,000-item batches back to back for 30 s, then a drain of the outbox",
      "and an id-by-id check of the topic against the table.",
      "",
      "```",
      formatLoad(load),
      "```",
      "",
    );
  }
  if (publishing) doc.push(formatPublishing(publishing), "");
  if (outage) {
    doc.push(
      `${OUTAGE_HEADING}${outageSeconds}-second Kafka outage`,
      "",
      `Measured ${began.toISOString().slice(0, 16).replace("T", " ")} UTC; code: ${host.source}.`,
      "",
      `\`deno task load --seconds ${
        outageSeconds + 30
      } --kafka-outage ${outageSeconds}\`: the broker`,
      "is stopped with scripts/kafka.sh in the middle of the run and started again.",
      "",
      "```",
      formatLoad(outage),
      "```",
      "",
    );
  }
  if (kept) doc.push(kept.section, "");
  if (sweep) {
    doc.push(
      "## Chunk size",
      "",
      `\`deno task load --sweep\`: ${SWEEP_SECONDS} s of load per BATCH_CHUNK_SIZE, ${
        count(SWEEP_BATCH)
      }-item batches, a fresh service and schema each.`,
      "",
      formatSweep(sweep),
      "",
    );
  }
  await Deno.mkdir(DOCS, { recursive: true });
  const files = [new URL("performance.md", DOCS), new URL("latency.svg", DOCS)];
  await Deno.writeTextFile(files[0], doc.join("\n"));
  await Deno.writeTextFile(files[1], latencySvg(sizes));
  // `deno task ok` checks formatting of every file, these included.
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", ...files.map((file) => file.pathname)],
  }).output();
  log("report: wrote docs/performance.md and docs/latency.svg");
}
