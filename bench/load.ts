// Load test: the real service as its own process, C clients posting B-item batches for T seconds, with an
// optional Kafka outage mid-run, then a drain and an id-by-id check of the topic; or a chunk-size sweep.
import { parseArgs } from "node:util";
import postgres from "postgres";
import {
  createTopic,
  DATABASE_URL,
  deleteTopic,
  dropSchema,
  execution,
  KAFKA_BROKERS,
  outboxCounts,
  uniqueName,
} from "../tests/_helpers.ts";
import { formatSweep, runSweep, SWEEP_BATCH, SWEEP_SECONDS, SWEEP_SIZES } from "./chunk_sweep.ts";
import { checkTopic, type TopicCheck } from "./topic_check.ts";
import {
  histogramQuantile,
  readRss,
  type Scrape,
  scrapeMetrics,
  startServiceProcess,
} from "./service_process.ts";
import { count, mib, ms, percentile } from "./stats.ts";

const KAFKA_SCRIPT = new URL("../scripts/kafka.sh", import.meta.url).pathname;
const REQUEST_TIMEOUT_MS = 60_000;
const DRAIN_TIMEOUT_MS = 300_000;
const RSS_EVERY_MS = 250;
const SCRAPE_EVERY_MS = 1000;

/** Options of one load run. */
export interface LoadOptions {
  /** Concurrent clients, each posting one batch at a time. */
  clients: number;
  /** Items per batch. */
  batch: number;
  /** Seconds of load. */
  seconds: number;
  /** BATCH_CHUNK_SIZE of the service; its default (500) when absent. */
  chunkSize?: number;
  /** Seconds to keep the Kafka broker stopped in the middle of the run; none when absent. */
  kafkaOutageSeconds?: number;
  /**
   * How the broker is taken away: "stop" (SIGTERM, connections refused) or "pause" (SIGSTOP: a
   * hung broker, connections open and nothing answers). @default "stop"
   */
  outageMode?: "stop" | "pause";
  /** More environment for the service, such as KAFKA_CLIENT. */
  serviceEnv?: Record<string, string>;
  /**
   * Run the service without Kafka (publishing off) to measure the ingest side alone; no drain and
   * no topic check then. @default false
   */
  kafkaOff?: boolean;
  /** Wait for the outbox to drain and check every stored id on the topic. @default true */
  verify?: boolean;
  /** Directory for a CPU profile of the service (`deno run --cpu-prof`). */
  cpuProfDir?: string;
  /** More `deno run` flags for the service, such as `--v8-flags=--max-old-space-size=256`. */
  serviceFlags?: string[];
  /** Progress lines. @default stderr */
  log?: (line: string) => void;
}

/** Seconds since the start of the load, with what happened then. */
interface Sample {
  t: number;
  rss: number;
}
interface MetricPoint {
  t: number;
  published: number;
  created: number;
  outboxPending: number;
  channelDepth: number;
}

/** What one load run measured. */
export type LoadResult = Awaited<ReturnType<typeof runLoad>>;

const sleep = (msToWait: number) => new Promise((resolve) => setTimeout(resolve, msToWait));

async function kafkaScript(action: "start" | "stop" | "status" | "pause" | "resume") {
  const began = performance.now();
  const { code, stderr, stdout } = await new Deno.Command("bash", {
    args: [KAFKA_SCRIPT, action],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stderr) + new TextDecoder().decode(stdout);
  return { ok: code === 0, ms: performance.now() - began, text: text.trim() };
}

/**
 * A batch body factory: the items of tests/_helpers.ts, serialised once; every body gets fresh
 * random ids (as clients that send their own ids make them) spliced in.
 */
function bodyFactory(batch: number): () => string {
  const rests = Array.from({ length: batch }, (_, i) => {
    const { id: _id, ...rest } = execution(i);
    return JSON.stringify(rest).slice(1);
  });
  return () => {
    let body = '{"executions":[';
    for (let i = 0; i < batch; i++) {
      body += `${i === 0 ? "" : ","}{"id":"${crypto.randomUUID()}",${rests[i]}`;
    }
    return body + "]}";
  };
}

function metricPoint(t: number, scrape: Scrape): MetricPoint {
  return {
    t,
    published: scrape.get("execution_ingest_kafka_events_published_total") ?? 0,
    created: scrape.get("execution_ingest_executions_created_total") ?? 0,
    outboxPending: scrape.get("execution_ingest_outbox_pending_events") ?? 0,
    channelDepth: scrape.get("execution_ingest_publish_channel_depth_events") ?? 0,
  };
}

/** One load run against a fresh service process, schema and topic. */
export async function runLoad(options: LoadOptions) {
  const log = options.log ?? ((line: string) => console.error(line));
  const kafka = !options.kafkaOff;
  const verify = kafka && (options.verify ?? true);
  const outage = options.kafkaOutageSeconds ?? 0;
  const outageMode = options.outageMode ?? "stop";
  if (outage > 0 && !kafka) throw new Error("--kafka-outage needs Kafka; drop --kafka-off");
  if (outage > 0 && options.seconds < outage + 10) {
    throw new Error(`--seconds must be at least --kafka-outage + 10 (${outage + 10})`);
  }
  const schema = uniqueName("load");
  const topic = uniqueName("load");
  const brokerWasRunning = !kafka || (await kafkaScript("status")).ok;
  if (!brokerWasRunning) {
    log("load: the Kafka broker is not running; starting it (it is stopped again at the end)");
    const started = await kafkaScript("start");
    if (!started.ok) throw new Error(`cannot start Kafka:\n${started.text}`);
  }
  const sql = postgres(DATABASE_URL, {
    max: 2,
    onnotice: () => {},
    connection: { search_path: schema },
  });
  if (kafka) await createTopic(topic, 3);
  const env: Record<string, string> = {
    ...options.serviceEnv,
    DB_SCHEMA: schema,
    KAFKA_BROKERS: kafka ? KAFKA_BROKERS.join(",") : "",
    KAFKA_TOPIC: topic,
  };
  if (options.chunkSize) env.BATCH_CHUNK_SIZE = String(options.chunkSize);
  const denoFlags = [
    ...(options.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`] : []),
    ...(options.serviceFlags ?? []),
  ];
  // Drops what the run made (schema, topic) and stops what it started; also on a failure.
  const release = async () => {
    await sql.end();
    await dropSchema(schema);
    if (kafka) {
      await deleteTopic(topic, { ignoreFailure: true });
    }
    if (!brokerWasRunning) await kafkaScript("stop");
  };
  const service = await startServiceProcess(env, { denoFlags }).catch(async (error) => {
    await release();
    throw error;
  });
  log(
    `load: service pid ${service.pid} at ${service.url}; schema ${schema}, topic ${topic}; ` +
      `${options.clients} clients x ${options.batch} items for ${options.seconds} s` +
      (options.chunkSize ? `, chunk size ${options.chunkSize}` : "") +
      (outage ? `, Kafka ${outageMode === "pause" ? "paused" : "stopped"} for ${outage} s` : "") +
      (options.serviceEnv ? `; ${JSON.stringify(options.serviceEnv)}` : ""),
  );

  const makeBody = bodyFactory(options.batch);
  const began = performance.now();
  const since = () => (performance.now() - began) / 1000;
  const deadline = began + options.seconds * 1000;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let stored = 0;
  const rss: Sample[] = [];
  const points: MetricPoint[] = [];
  let sampling = true;

  const rssLoop = (async () => {
    while (sampling) {
      rss.push({ t: since(), rss: readRss(service.pid) });
      await sleep(RSS_EVERY_MS);
    }
  })();
  const scrapeLoop = (async () => {
    while (sampling) {
      const scrape = await scrapeMetrics(service.url);
      if (scrape) points.push(metricPoint(since(), scrape));
      await sleep(SCRAPE_EVERY_MS);
    }
  })();
  const firstScrape = await scrapeMetrics(service.url);
  if (firstScrape) points.push(metricPoint(0, firstScrape));

  const outageMarks: Record<string, number> = {};
  const outageTask = outage > 0
    ? (async () => {
      await sleep(Math.max(5, (options.seconds - outage) / 2) * 1000);
      outageMarks.stopBegan = since();
      const stop = await kafkaScript(outageMode === "pause" ? "pause" : "stop");
      outageMarks.stopped = since();
      log(
        `load: t=${outageMarks.stopped.toFixed(1)} s Kafka ${
          outageMode === "pause" ? "paused" : "stopped"
        } (${stop.text})`,
      );
      await sleep(outage * 1000);
      outageMarks.startBegan = since();
      const back = outageMode === "pause" ? "resume" : "start";
      let start = await kafkaScript(back);
      if (!start.ok) start = await kafkaScript(back);
      outageMarks.ready = since();
      log(`load: t=${outageMarks.ready.toFixed(1)} s Kafka started (${start.text})`);
      if (!start.ok) throw new Error(`cannot start Kafka again after the outage:\n${start.text}`);
    })()
    : Promise.resolve();

  const url = `${service.url}/v1/executions/batch`;
  const maxRequestsPerClient = Math.ceil(options.seconds * 1000);
  async function client() {
    for (let n = 0; n < maxRequestsPerClient && performance.now() < deadline; n++) {
      const body = makeBody();
      const sent = performance.now();
      let status: string;
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await response.text();
        status = String(response.status);
        if (response.status === 200 || response.status === 207) {
          latencies.push(performance.now() - sent);
          stored += Number(text.slice(0, 200).match(/"created":(\d+)/)?.[1] ?? 0);
        } else {
          const retryAfter = Number(response.headers.get("retry-after") ?? "1");
          await sleep(Math.min(retryAfter * 1000, Math.max(0, deadline - performance.now())));
        }
      } catch (error) {
        status = (error as Error).name === "TimeoutError" ? "timeout" : "network error";
        await sleep(200);
      }
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: options.clients }, client));
  const windowSeconds = since();
  const windowEndScrape = await scrapeMetrics(service.url);
  if (windowEndScrape) points.push(metricPoint(windowSeconds, windowEndScrape));
  await outageTask.catch(async (error) => {
    sampling = false;
    await service.stop();
    await release();
    throw error;
  });

  let drain: { seconds: number; pending: number; deadLetters: number } | undefined;
  let check: TopicCheck | undefined;
  let finalScrape: Scrape | undefined;
  if (verify) {
    const drainBegan = performance.now();
    let row = { pending: -1, deadLetters: 0 };
    while (performance.now() - drainBegan < DRAIN_TIMEOUT_MS) {
      row = await outboxCounts(sql);
      if (row.pending === 0 || service.exitedEarly) break;
      await sleep(500);
    }
    drain = {
      seconds: (performance.now() - drainBegan) / 1000,
      pending: row.pending,
      deadLetters: row.deadLetters,
    };
    log(`load: outbox drained in ${drain.seconds.toFixed(1)} s (${row.pending} pending left)`);
    finalScrape = await scrapeMetrics(service.url);
    check = await checkTopic(sql, topic);
    log(`load: topic check: ${JSON.stringify(check)}`);
  }
  sampling = false;
  await Promise.all([rssLoop, scrapeLoop]);
  const stopBegan = performance.now();
  const exitCode = await service.stop();
  const stopSeconds = (performance.now() - stopBegan) / 1000;
  await release();

  const inWindow = points.filter((point) => point.t <= windowSeconds + 0.5);
  const first = inWindow[0], last = inWindow.at(-1);
  const span = last && first ? last.t - first.t : NaN;
  const peak = (samples: Sample[]) =>
    Math.max(...samples.map((s) => s.rss).filter(Number.isFinite));
  const between = (from: number, to: number) => rss.filter((s) => s.t >= from && s.t < to);
  const outageWindow = outage > 0
    ? { from: outageMarks.stopped, to: outageMarks.startBegan }
    : undefined;
  return {
    options: {
      clients: options.clients,
      batch: options.batch,
      seconds: options.seconds,
      chunkSize: options.chunkSize ?? 500,
      kafkaOutageSeconds: outage,
      outageMode,
      kafka,
      serviceEnv: options.serviceEnv,
    },
    windowSeconds,
    requests: Object.values(statuses).reduce((a, b) => a + b, 0),
    statuses,
    latencyMs: {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: Math.max(...latencies),
    },
    stored,
    storedPerSecond: stored / windowSeconds,
    publishedPerSecond: last && first ? (last.published - first.published) / span : NaN,
    createdPerSecondByMetrics: last && first ? (last.created - first.created) / span : NaN,
    /** Events published over events stored in the same window (by /metrics). */
    publishedShare: last && first
      ? (last.published - first.published) / Math.max(1, last.created - first.created)
      : NaN,
    /** Events pending in the outbox when the load ended, and as seconds of that load's traffic. */
    backlogAtEnd: last?.outboxPending ?? NaN,
    backlogAtEndSeconds: last && first
      ? last.outboxPending / Math.max(1, (last.created - first.created) / span)
      : NaN,
    outboxPendingPeak: Math.max(0, ...points.map((point) => point.outboxPending)),
    publishLagP99Seconds: windowEndScrape
      ? histogramQuantile(windowEndScrape, "execution_ingest_kafka_publish_lag_seconds", 0.99)
      : NaN,
    publishLagP99SecondsAfterDrain: finalScrape
      ? histogramQuantile(finalScrape, "execution_ingest_kafka_publish_lag_seconds", 0.99)
      : NaN,
    rss: {
      peak: peak(rss),
      peakDuringOutage: outageWindow ? peak(between(outageWindow.from, outageWindow.to)) : NaN,
      duringOutage: outageWindow ? between(outageWindow.from, outageWindow.to) : [],
      every5s: rss.filter((s, i) =>
        i % Math.round(5000 / RSS_EVERY_MS) === 0 && Number.isFinite(s.rss)
      ),
    },
    outage: outage > 0 ? outageMarks : undefined,
    timeline: points,
    drain,
    check,
    service: {
      exitCode,
      stopSeconds,
      logLines: service.counts,
      /** Seconds into the run at which the service ended by itself, if it did. */
      exitedEarlyAt: service.exitedEarly ? (service.exitedEarly.at - began) / 1000 : undefined,
      tail: service.tail.slice(-8),
    },
  };
}

/** The human-readable report of one run. */
export function formatLoad(r: LoadResult): string {
  const s = (seconds: number) =>
    Number.isFinite(seconds) ? ms(seconds * 1000) : seconds === Infinity ? "> 3600 s" : "n/a";
  const lines = [
    `load: ${r.options.clients} clients x ${r.options.batch} items, ${
      r.windowSeconds.toFixed(1)
    } s, chunk size ${r.options.chunkSize}` +
    (r.options.kafkaOutageSeconds
      ? `, Kafka ${
        r.options.outageMode === "pause" ? "paused" : "stopped"
      } ${r.options.kafkaOutageSeconds} s`
      : "") +
    (r.options.serviceEnv ? `, ${JSON.stringify(r.options.serviceEnv)}` : "") +
    (r.options.kafka ? "" : ", Kafka off (publishing disabled)"),
    `  requests: ${r.requests}; by status: ${JSON.stringify(r.statuses)}`,
    `  latency (2xx): p50 ${ms(r.latencyMs.p50)}  p95 ${ms(r.latencyMs.p95)}  p99 ${
      ms(r.latencyMs.p99)
    }  max ${ms(r.latencyMs.max)}`,
    `  stored: ${count(r.stored)} executions = ${count(r.storedPerSecond)}/s` +
    ` (by /metrics ${count(r.createdPerSecondByMetrics)}/s)`,
    `  published during the load: ${count(r.publishedPerSecond)}/s = ${
      (100 * r.publishedShare).toFixed(1)
    } % of the stored rate; backlog at the end ${count(r.backlogAtEnd)} events (${
      r.backlogAtEndSeconds.toFixed(2)
    } s of traffic); outbox backlog peak ${count(r.outboxPendingPeak)} events`,
    `  publish lag p99 (histogram estimate): ${s(r.publishLagP99Seconds)} at the end of the load, ${
      s(r.publishLagP99SecondsAfterDrain)
    } after the drain`,
    `  service RSS: peak ${mib(r.rss.peak)}` +
    (r.options.kafkaOutageSeconds ? `, peak during the outage ${mib(r.rss.peakDuringOutage)}` : ""),
    `  RSS every 5 s: ${r.rss.every5s.map((p) => `${p.t.toFixed(0)}s ${mib(p.rss)}`).join(", ")}`,
  ];
  if (r.outage) {
    const o = r.outage;
    lines.push(
      `  outage: stop at ${o.stopBegan?.toFixed(1)} s, stopped ${
        o.stopped?.toFixed(1)
      } s, start at ${o.startBegan?.toFixed(1)} s, ready ${o.ready?.toFixed(1)} s`,
      `  RSS during the outage: ${
        r.rss.duringOutage.filter((_, i) => i % 20 === 0).map((p) =>
          `${p.t.toFixed(0)}s ${mib(p.rss)}`
        ).join(", ")
      }`,
      `  outbox pending over time: ${
        r.timeline.filter((_, i) => i % 5 === 0).map((p) =>
          `${p.t.toFixed(0)}s ${count(p.outboxPending)}`
        ).join(", ")
      }`,
    );
  }
  if (r.drain) {
    lines.push(
      `  drain: ${
        r.drain.seconds.toFixed(1)
      } s to an empty outbox (${r.drain.pending} pending, ${r.drain.deadLetters} dead letters left)`,
    );
  }
  if (r.check) lines.push(`  topic check: ${JSON.stringify(r.check)}`);
  if (r.service.exitedEarlyAt !== undefined) {
    lines.push(
      `  THE SERVICE ENDED BY ITSELF at t=${
        r.service.exitedEarlyAt.toFixed(1)
      } s (exit code ${r.service.exitCode}); its last lines:`,
      ...r.service.tail.map((line) => `    ${line.slice(0, 300)}`),
    );
  }
  lines.push(
    `  service: exit code ${r.service.exitCode} after SIGTERM (${
      r.service.stopSeconds.toFixed(1)
    } s); log lines ${JSON.stringify(r.service.logLines)}`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      clients: { type: "string", default: "8" },
      batch: { type: "string" },
      seconds: { type: "string" },
      "chunk-size": { type: "string" },
      "kafka-outage": { type: "string" },
      "kafka-pause": { type: "string" },
      client: { type: "string" },
      "kafka-off": { type: "boolean", default: false },
      sweep: { type: "boolean", default: false },
      "sweep-sizes": { type: "string" },
      "skip-verify": { type: "boolean", default: false },
      "cpu-prof": { type: "string" },
      "service-flags": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const int = (value: string | undefined, fallback: number) => {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`not a whole number: ${value}`);
    return n;
  };
  // A sweep needs batches as large as its largest chunk, and shorter runs per size.
  const options: LoadOptions = {
    clients: int(values.clients, 8),
    batch: int(values.batch, values.sweep ? SWEEP_BATCH : 1000),
    seconds: int(values.seconds, values.sweep ? SWEEP_SECONDS : 30),
    chunkSize: values["chunk-size"] ? int(values["chunk-size"], 500) : undefined,
    kafkaOutageSeconds: int(values["kafka-outage"] ?? values["kafka-pause"], 0),
    outageMode: values["kafka-pause"] ? "pause" : "stop",
    serviceEnv: values.client ? { KAFKA_CLIENT: values.client } : undefined,
    kafkaOff: values["kafka-off"],
    verify: !values["skip-verify"],
    cpuProfDir: values["cpu-prof"],
    serviceFlags: values["service-flags"]?.split(" ").filter(Boolean),
  };
  if (values.sweep) {
    const sizes = values["sweep-sizes"]?.split(",").map((size) => int(size, 500)) ?? SWEEP_SIZES;
    const result = await runSweep(runLoad, options, sizes);
    console.log(values.json ? JSON.stringify(result) : formatSweep(result));
  } else {
    const result = await runLoad(options);
    console.log(values.json ? JSON.stringify(result) : formatLoad(result));
  }
}
