// Case 5 of issue 21: Kafka unreachable under 15 MB batches of large valid executions, a restart
// with that backlog pending, a large backlog against the real broker, and the outage soak.
import {
  createTopic,
  deleteTopic,
  dropSchema,
  KAFKA_BROKERS,
  pendingEvents,
  sqlFor,
  uniqueName,
} from "../tests/_helpers.ts";
import { largeValidBatch } from "./hostile_inputs.ts";
import type { CaseRow } from "./memory_cases.ts";
import { checkTopic } from "./topic_check.ts";
import {
  answerOf,
  deathNote,
  startTierService,
  stillServing,
  tally,
  USER_KEY,
  watchPeak,
} from "./memory_probe.ts";
import { readRss, type ServiceProcess } from "./service_process.ts";

/** A broker address nothing listens on: every connection is refused. */
const UNREACHABLE = "127.0.0.1:1";
/** Executions per large batch: about 15 MB of JSON. */
export const LARGE_BATCH = 800;
const TIMEOUT_MS = 180_000;
/** Every batch answered 200: stored, whatever Kafka does. */
const ALL_STORED = /^200 ×\d+$/;

/** Options of the outage cases. */
export interface OutageOptions {
  /** 15 MB batches posted while Kafka is unreachable (case 5a). @default 12 */
  batches: number;
  /** Seconds the restarted service is watched with no traffic (5b, 5c). @default 30 */
  watchSeconds: number;
  /** Large events pending before the restart of case 5c. @default 50000 */
  backlog: number;
  /** Minutes of continuous 15 MB batches with Kafka unreachable (the soak); none at 0. @default 0 */
  soakMinutes: number;
  /** Where the soak's RSS over time goes. */
  log: (line: string) => void;
}

function postLarge(service: ServiceProcess): Promise<string> {
  return answerOf(fetch(`${service.url}/v1/executions/batch`, {
    method: "POST",
    headers: { authorization: `Bearer ${USER_KEY}`, "content-type": "application/json" },
    body: largeValidBatch(LARGE_BATCH) as BodyInit,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }));
}

/** True once the process is gone or its last request got no answer (it may be dying). */
const lost = (service: ServiceProcess, answers: string[]) =>
  service.exitedEarly !== undefined || (answers.at(-1)?.startsWith("no answer") ?? false);

/** Posts `count` large batches one after another; stops at the first the process does not live through. */
async function postBatches(service: ServiceProcess, count: number) {
  const answers: string[] = [];
  for (let i = 0; i < count && !lost(service, answers); i++) answers.push(await postLarge(service));
  return answers;
}

/** Watches a service for `seconds` with no traffic, or until `done` says the work is over. */
async function watch(
  service: ServiceProcess,
  seconds: number,
  done: () => Promise<boolean> = () => Promise.resolve(false),
) {
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until && !service.exitedEarly && !await done()) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** 5a and 5b: batches into an outage, then a restart with their events pending. */
async function outageAndRestart(options: OutageOptions): Promise<CaseRow[]> {
  const schema = uniqueName("mem");
  const env = { KAFKA_BROKERS: UNREACHABLE };
  try {
    const first = await startTierService(schema, env);
    const firstPeak = watchPeak(first.pid);
    const answers = await postBatches(first, options.batches);
    const survived = await stillServing(first);
    const rows: CaseRow[] = [{
      name: "5a",
      expect: ALL_STORED,
      input:
        `Kafka unreachable, ${options.batches} batches of ${LARGE_BATCH} large executions (15 MB)`,
      answer: tally(answers),
      survived,
      peakBytes: firstPeak.stop(),
      note: `${await pendingEvents(schema)} events pending${
        first.exitedEarly ? `; ${deathNote(first)}` : ""
      }`,
    }];
    await first.stop();
    const pending = await pendingEvents(schema);
    const second = await startTierService(schema, env);
    const secondPeak = watchPeak(second.pid);
    await watch(second, options.watchSeconds);
    rows.push({
      name: "5b",
      input: `restart, Kafka unreachable, ${pending} large events pending, no traffic`,
      answer: `watched ${options.watchSeconds} s`,
      survived: await stillServing(second),
      peakBytes: secondPeak.stop(),
      note: deathNote(second),
    });
    await second.stop();
    return rows;
  } finally {
    await dropSchema(schema);
  }
}

/** Whether every execution stored in `schema` is on `topic`, once. */
async function onTopic(schema: string, topic: string): Promise<string> {
  const sql = sqlFor(schema);
  try {
    const check = await checkTopic(sql, topic);
    return `${check.missingFromTopic} missing from the topic, ${check.duplicateMessages} duplicates`;
  } finally {
    await sql.end();
  }
}

/** 5c: a backlog of large events stored with publishing off, then a restart against the broker. */
async function largeBacklog(options: OutageOptions): Promise<CaseRow> {
  const schema = uniqueName("mem");
  const topic = uniqueName("mem");
  await createTopic(topic, 3);
  try {
    // With no KAFKA_BROKERS, events wait in the outbox and nothing holds them in memory.
    const seeder = await startTierService(schema, { KAFKA_BROKERS: "" });
    const seeded = await postBatches(seeder, Math.ceil(options.backlog / LARGE_BATCH));
    await seeder.stop();
    const pending = await pendingEvents(schema);
    const service = await startTierService(schema, {
      KAFKA_BROKERS: KAFKA_BROKERS.join(","),
      KAFKA_TOPIC: topic,
    });
    const peak = watchPeak(service.pid);
    const began = performance.now();
    await watch(service, options.watchSeconds * 4, async () => await pendingEvents(schema) === 0);
    const left = service.exitedEarly ? NaN : await pendingEvents(schema);
    const seconds = ((performance.now() - began) / 1000).toFixed(0);
    const survived = await stillServing(service);
    const peakBytes = peak.stop();
    const row: CaseRow = {
      name: "5c",
      // Drained, and every stored execution on the topic, none twice.
      expect: /^drained in \d+ s; 0 missing from the topic, 0 duplicates$/,
      input: `restart, broker up, ${pending} large events pending (seeded: ${tally(seeded)})`,
      answer: service.exitedEarly
        ? `died after ${((service.exitedEarly.at - began) / 1000).toFixed(0)} s`
        : left === 0
        ? `drained in ${seconds} s; ${await onTopic(schema, topic)}`
        : `${left} pending after ${seconds} s`,
      survived,
      peakBytes,
      note: deathNote(service),
    };
    await service.stop();
    return row;
  } finally {
    await dropSchema(schema);
    await deleteTopic(topic, { ignoreFailure: true });
  }
}

/** The soak: continuous 15 MB batches with Kafka unreachable; RSS every 10 s in its row. */
async function soak(options: OutageOptions): Promise<CaseRow> {
  const schema = uniqueName("mem");
  try {
    const service = await startTierService(schema, { KAFKA_BROKERS: UNREACHABLE });
    const peak = watchPeak(service.pid);
    const began = performance.now();
    const until = began + options.soakMinutes * 60_000;
    const answers: string[] = [];
    // RSS over time, one line every 10 s: to stderr as it goes, and into the row for the report.
    const series = ["| seconds | RSS MB | peak MB | batches answered |", "|---:|---:|---:|---|"];
    series.forEach(options.log);
    const report = setInterval(() => {
      const rss = readRss(service.pid) || 0;
      const line = `| ${((performance.now() - began) / 1000).toFixed(0)} | ${
        (rss / 1e6).toFixed(1)
      } | ${(peak.peak / 1e6).toFixed(1)} | ${tally(answers)} |`;
      series.push(line);
      options.log(line);
    }, 10_000);
    while (performance.now() < until && !lost(service, answers)) {
      answers.push(await postLarge(service));
    }
    clearInterval(report);
    const row: CaseRow = {
      name: "5d",
      expect: ALL_STORED,
      input: `soak: Kafka unreachable ${options.soakMinutes} min, continuous 15 MB batches`,
      answer: tally(answers),
      series,
      survived: await stillServing(service),
      peakBytes: peak.stop(),
      note: `${await pendingEvents(schema)} events pending${
        service.exitedEarly ? `; ${deathNote(service)}` : ""
      }`,
    };
    await service.stop();
    return row;
  } finally {
    await dropSchema(schema);
  }
}

/** The outage cases by name, each returning its rows. */
export function outageCases(options: OutageOptions) {
  return [
    { names: ["5", "5a", "5b"], run: () => outageAndRestart(options) },
    { names: ["5", "5c"], run: async () => [await largeBacklog(options)] },
    ...(options.soakMinutes > 0
      ? [{ names: ["5", "5d", "soak"], run: async () => [await soak(options)] }]
      : []),
  ];
}
