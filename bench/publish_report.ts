// The publishing measurements of the report: both Kafka clients under the same load, one client's
// latency with Kafka on and off, and duplicates when the broker is stopped or paused mid-load.
import { formatProducerBench, runProducerBench } from "./producer_bench.ts";
import { formatLoad, type LoadResult, runLoad } from "./load.ts";
import { count, mib, ms, verdict } from "./stats.ts";

const MB = 1_000_000;
const CLIENTS = ["platformatic", "kafkajs"] as const;

/** Options of measurePublishing. */
export interface PublishingPlan {
  /** Seconds of each load run. @default 30 */
  seconds?: number;
  /** Seconds of the stop and of the pause. @default 30 and 25 */
  stopSeconds?: number;
  pauseSeconds?: number;
  log?: (line: string) => void;
}

/** Runs every publishing measurement, one after another on the same machine. */
export async function measurePublishing(plan: PublishingPlan = {}) {
  const seconds = plan.seconds ?? 30;
  const stopSeconds = plan.stopSeconds ?? 30, pauseSeconds = plan.pauseSeconds ?? 25;
  const log = plan.log;
  const producers = await runProducerBench({ rounds: 3 });
  const load = (extra: Partial<Parameters<typeof runLoad>[0]>) =>
    runLoad({ clients: 8, batch: 1000, seconds, log, ...extra });
  // The two clients under the 8-client load, taking turns.
  const byClient: Record<string, LoadResult> = {};
  for (const client of CLIENTS) {
    byClient[client] = await load({ serviceEnv: { KAFKA_CLIENT: client } });
  }
  // Storing at full speed, publishing left to catch up afterwards (pace control off).
  const unpaced = await load({
    serviceEnv: { KAFKA_CLIENT: "platformatic", PUBLISH_BACKLOG_MAX: "0" },
  });
  // Whether the publishing worker still pays with the faster client: the same run without it.
  const inline = await load({
    serviceEnv: { KAFKA_CLIENT: "platformatic", PUBLISH_IN_WORKER: "false" },
  });
  // One client posting back to back: Kafka off, then on (the default client).
  const single = {
    off: await load({ clients: 1, kafkaOff: true }),
    on: await load({ clients: 1 }),
  };
  const stopped = await load({
    seconds: stopSeconds + 30,
    kafkaOutageSeconds: stopSeconds,
    outageMode: "stop",
  });
  const paused = await load({
    seconds: pauseSeconds + 30,
    kafkaOutageSeconds: pauseSeconds,
    outageMode: "pause",
  });
  return { producers, byClient, unpaced, inline, single, stopped, paused };
}

/** What measurePublishing returned. */
export type PublishingResults = Awaited<ReturnType<typeof measurePublishing>>;

/** Duplicate messages over events, from the id-by-id topic check. */
function duplicates(run: LoadResult) {
  const check = run.check;
  if (!check) return { text: "not checked", share: NaN, lost: NaN };
  const share = check.duplicateMessages / Math.max(1, check.storedInDb);
  return {
    text: `${count(check.duplicateMessages)} duplicates for ${count(check.storedInDb)} events ` +
      `(${(100 * share).toFixed(2)} %), ${count(check.missingFromTopic)} lost`,
    share,
    lost: check.missingFromTopic,
  };
}

/** Target rows (for the report's table) of the publishing issue. */
export function publishingTargets(r: PublishingResults): string[][] {
  const rows: string[][] = [];
  for (const client of CLIENTS) {
    const run = r.byClient[client];
    rows.push([
      `${client}: 8 clients × 1,000, Kafka on: ≥ 30,000/s stored, published ≥ 95 % of it, backlog at the end < 1 s`,
      `${count(run.storedPerSecond)}/s stored, ${count(run.publishedPerSecond)}/s published (${
        (100 * run.publishedShare).toFixed(1)
      } %), backlog at the end ${count(run.backlogAtEnd)} (${
        run.backlogAtEndSeconds.toFixed(2)
      } s)`,
      verdict(
        run.storedPerSecond >= 30_000 && run.publishedShare >= 0.95 && run.backlogAtEndSeconds < 1,
      ),
    ]);
  }
  const { on, off } = r.single;
  rows.push(
    [
      "one client, 1,000-item batches, Kafka on: p99 ≤ 50 ms",
      `p99 ${ms(on.latencyMs.p99)} (p50 ${ms(on.latencyMs.p50)})`,
      verdict(on.latencyMs.p99 <= 50),
    ],
    [
      "one client: Kafka-on p50 within 20 % of Kafka-off p50",
      `on ${ms(on.latencyMs.p50)}, off ${ms(off.latencyMs.p50)} (${
        (100 * (on.latencyMs.p50 / off.latencyMs.p50 - 1)).toFixed(1)
      } %)`,
      verdict(on.latencyMs.p50 <= 1.2 * off.latencyMs.p50),
    ],
  );
  const rss = [r.byClient.platformatic, r.byClient.kafkajs, r.stopped];
  const peak = Math.max(...rss.map((run) => run.rss.peak));
  rows.push([
    "peak RSS ≤ 300 MB under that load and during an outage",
    `${count(peak / MB)} MB at most (${rss.map((run) => mib(run.rss.peak)).join(", ")}: ` +
    `platformatic, kafkajs, with the broker stopped ${r.stopped.options.kafkaOutageSeconds} s)`,
    verdict(peak <= 300 * MB),
  ]);
  for (const [name, run] of [["stopped", r.stopped], ["paused", r.paused]] as const) {
    const d = duplicates(run);
    rows.push([
      `broker ${name} ${run.options.kafkaOutageSeconds} s during the load: duplicates ≤ 1 %, nothing lost`,
      d.text,
      verdict(d.share <= 0.01 && d.lost === 0),
    ]);
  }
  return rows;
}

/** The report's section on publishing. */
export function formatPublishing(r: PublishingResults): string {
  const block = (title: string, command: string, run: LoadResult) =>
    [`### ${title}`, "", `\`${command}\``, "", "```", formatLoad(run), "```", ""].join("\n");
  return [
    "## Publishing: the two Kafka clients",
    "",
    "`deno task bench:kafka` (bench/producer_bench.ts; `deno task bench` has the same as a",
    "`deno bench` group): both adapters in one process, the same events taking turns.",
    "",
    "```",
    formatProducerBench(r.producers),
    "```",
    "",
    block(
      "8 clients, @platformatic/kafka (the default)",
      "deno task load --client platformatic",
      r.byClient.platformatic,
    ),
    block("8 clients, kafkajs", "deno task load --client kafkajs", r.byClient.kafkajs),
    block(
      "8 clients, @platformatic/kafka, pace control off (PUBLISH_BACKLOG_MAX=0)",
      "PUBLISH_BACKLOG_MAX=0 deno task load --client platformatic",
      r.unpaced,
    ),
    block(
      "8 clients, @platformatic/kafka, publishing in the HTTP thread (no worker)",
      "PUBLISH_IN_WORKER=false deno task load --client platformatic",
      r.inline,
    ),
    block("One client, Kafka off", "deno task load --clients 1 --kafka-off", r.single.off),
    block("One client, Kafka on", "deno task load --clients 1", r.single.on),
    block(
      `Broker stopped ${r.stopped.options.kafkaOutageSeconds} s during the load`,
      `deno task load --seconds ${r.stopped.options.seconds} --kafka-outage ${r.stopped.options.kafkaOutageSeconds}`,
      r.stopped,
    ),
    block(
      `Broker paused (SIGSTOP) ${r.paused.options.kafkaOutageSeconds} s during the load`,
      `deno task load --seconds ${r.paused.options.seconds} --kafka-pause ${r.paused.options.kafkaOutageSeconds}`,
      r.paused,
    ),
  ].join("\n");
}
