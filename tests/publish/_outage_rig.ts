// Publishing's memory tier: the service as its own process at the start task's heap flags, large
// valid executions (15 MB batches), a broker of this run's own that is stopped and started, and the
// process's RSS sampled throughout. The test (outage_memory_test.ts) runs it short; the outage soak
// (bench/outage_soak.ts) runs the same code for minutes.
import postgres from "postgres";
import { readRss, type ServiceProcess, startServiceProcess } from "../../bench/service_process.ts";
import { EVENT_OVERHEAD_BYTES } from "../../src/db/execution_columns.ts";
import { migrate } from "../../src/db/migrate.ts";
import {
  consumeTopic,
  createTopic,
  DATABASE_URL,
  deleteTopic,
  dropSchema,
  eventually,
  KAFKA_BROKERS,
  kafkaBroker,
  outboxCounts,
  sqlFor,
  topicMessageCount,
  uniqueName,
} from "../_helpers.ts";

const MB = 1024 * 1024;
/** Executions per large batch, and the size of their comment and attributes (issue 21, case 5). */
const ITEMS = 800, COMMENT_CHARS = 3990, ATTRIBUTE_KEYS = 60, ATTRIBUTE_CHARS = 240;

/** A large valid execution's comment and attributes (about 15 KB of JSON). */
function largeParts(i: number) {
  const fill = String.fromCharCode(97 + (i % 26));
  return {
    comment: fill.repeat(COMMENT_CHARS),
    attributes: Object.fromEntries(
      Array.from(
        { length: ATTRIBUTE_KEYS },
        (_, k) => [`key${String(k).padStart(3, "0")}`, fill.repeat(ATTRIBUTE_CHARS)],
      ),
    ),
  };
}

/**
 * A batch body of 800 valid executions of about 19 KB each (15 MB): no ids, so the server gives each
 * its own and the same body can be posted again and again.
 */
export function largeBatchBody(): string {
  return JSON.stringify({
    executions: Array.from({ length: ITEMS }, (_, i) => ({
      testCaseKey: `TC-LARGE-${i % 50}`,
      status: "PASSED",
      startedAt: "2026-12-01T10:00:00Z",
      ...largeParts(i),
    })),
  });
}

/** Samples a process's RSS every `everyMs`; its peak is VmHWM's when the process still runs. */
export function rssSampler(pid: number, everyMs = 100) {
  let peak = 0, last = 0;
  const timer = setInterval(() => {
    const rss = readRss(pid);
    if (rss > 0) {
      last = rss;
      peak = Math.max(peak, rss);
    }
  }, everyMs);
  return {
    get lastMb() {
      return Math.round(last / MB);
    },
    get peakMb() {
      return Math.round(peak / MB);
    },
    stop: () => clearInterval(timer),
  };
}

/** What one run saw. */
export interface RigResult {
  /** Executions stored, and messages on the topic (duplicates included). */
  stored: number;
  onTopic: number;
  /** Stored ids missing from the topic (only when the topic was read back). */
  missing?: number;
  peakRssMb: number;
  /** [seconds since start, RSS in MB] every tick. */
  rss: Array<[number, number]>;
  /** Set when the service died; its last lines. */
  died?: string[];
  /** The service's last warnings and errors (up to 20, without the message text of lines alike). */
  warnings: string[];
  notes: string[];
}

/** Options of both runs. */
export interface RigOptions {
  /** Milliseconds between RSS lines (also passed to `log`). @default 10000 */
  tickMs?: number;
  log?: (line: string) => void;
  /** Read the whole topic back and check that every stored id is on it. @default true */
  readBack?: boolean;
  /** Longest wait for the outbox to drain once the broker is back, in ms. @default 300000 */
  drainTimeoutMs?: number;
  /** Settings of the service beyond the start task's defaults. @default {} */
  env?: Record<string, string>;
}

/** The service with the settings of `deno task start` but for the test's database, topic and port. */
async function startService(
  schema: string,
  topic: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  return await startServiceProcess({
    DB_SCHEMA: schema,
    KAFKA_BROKERS: KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topic,
    // A stopped broker refuses at once; the request timeout stays at its default.
    KAFKA_CONNECT_TIMEOUT_MS: "500",
    ...env,
  });
}

/** Runs `work` with an RSS sampler and a tick that logs; stops at the end, whatever happens. */
async function watched(
  service: ServiceProcess,
  options: RigOptions,
  result: RigResult,
  work: (tick: () => string) => Promise<void>,
) {
  const sampler = rssSampler(service.pid);
  const began = performance.now();
  const seconds = () => Math.round((performance.now() - began) / 1000);
  const tick = () => `t=${seconds()}s rss=${sampler.lastMb}MB peak=${sampler.peakMb}MB`;
  const ticker = setInterval(() => {
    result.rss.push([seconds(), sampler.lastMb]);
    options.log?.(tick());
  }, options.tickMs ?? 10_000);
  try {
    await work(tick);
  } finally {
    clearInterval(ticker);
    sampler.stop();
    result.peakRssMb = Math.max(result.peakRssMb, sampler.peakMb);
    result.warnings = service.tail.filter((line) => /"level":"(warn|error|fatal)"/.test(line))
      .slice(-20);
  }
}

/** Throws (with its last lines) once the service has died. */
function alive(service: ServiceProcess, result: RigResult) {
  if (service.exitedEarly) {
    result.died = service.tail.slice(-15);
    const last = result.died.findLast((line) => /out of memory|fatal|error/i.test(line));
    throw new Error(
      `the service died (exit ${service.exitedEarly.code}): ${
        last?.slice(0, 300) ?? "no last words"
      }`,
    );
  }
}

/** Waits for an empty outbox, failing at once should the service die. */
async function drained(
  service: ServiceProcess,
  sql: postgres.Sql,
  result: RigResult,
  timeoutMs: number,
) {
  await eventually(
    async () => {
      alive(service, result);
      return (await outboxCounts(sql)).pending === 0;
    },
    timeoutMs,
    500,
  );
}

/** Counts what was stored and what is on the topic, and reads the topic back when asked. */
async function tally(sql: postgres.Sql, topic: string, result: RigResult, readBack: boolean) {
  const [{ count }] = await sql`select count(*)::int as count from executions`;
  result.stored = count;
  result.onTopic = await topicMessageCount(topic);
  if (!readBack) return;
  const ids = new Set(
    (await consumeTopic(topic, count, 120_000)).map((message) => message.headers.ce_id),
  );
  const stored = (await sql`select id from executions`).map((row) => row.id as string);
  result.missing = stored.filter((id) => !ids.has(id)).length;
}

/**
 * (a) The broker stopped while 15 MB batches of large executions keep coming, for `batches`
 * batches or `seconds`, whichever ends first; then the broker is started again and the outbox
 * drains. The service must stay up throughout.
 */
export async function runOutage(
  plan: { batches: number; seconds: number },
  options: RigOptions = {},
): Promise<RigResult & { posted: number; answers: Record<string, number> }> {
  const result: RigResult & { posted: number; answers: Record<string, number> } = {
    stored: 0,
    onTopic: 0,
    peakRssMb: 0,
    rss: [],
    notes: [],
    warnings: [],
    posted: 0,
    answers: {},
  };
  await kafkaBroker("start");
  const topic = uniqueName("outage"), schema = uniqueName("t");
  await createTopic(topic);
  const service = await startService(schema, topic, options.env);
  const sql = sqlFor(schema);
  const body = largeBatchBody();
  result.notes.push(`body ${(body.length / MB).toFixed(1)} MB, ${ITEMS} executions`);
  try {
    await watched(service, options, result, async (tick) => {
      await kafkaBroker("stop");
      const until = performance.now() + plan.seconds * 1000;
      try {
        while (result.posted < plan.batches && performance.now() < until) {
          try {
            alive(service, result);
          } catch (error) {
            throw new Error(
              `${(error as Error).message}; ${result.posted} batches had been posted`,
            );
          }
          const response = await fetch(`${service.url}/v1/executions/batch`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          }).catch((error) => ({ status: `error ${(error as Error).name}`, body: null }));
          await (response as Response).body?.cancel();
          result.answers[response.status] = (result.answers[response.status] ?? 0) + 1;
          result.posted++;
        }
        alive(service, result);
        options.log?.(`broker back after ${result.posted} batches: ${tick()}`);
      } finally {
        await kafkaBroker("start");
      }
      await drained(service, sql, result, options.drainTimeoutMs ?? 300_000);
      options.log?.(`outbox drained: ${tick()}`);
    });
    await tally(sql, topic, result, options.readBack ?? true);
    return result;
  } finally {
    await service.stop();
    await sql.end();
    await dropSchema(schema);
    await deleteTopic(topic, { ignoreFailure: true });
  }
}

/**
 * Puts `events` large executions in a fresh schema's outbox, due at once, as 500-event chunks, by
 * SQL (seconds, where posting them would take minutes).
 */
async function fillBacklog(schema: string, events: number) {
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await migrate(sql, schema);
    await sql.unsafe(`set search_path to "${schema}"`);
    const { comment, attributes } = largeParts(0);
    for (let done = 0; done < events; done += 5000) {
      await sql`
        insert into executions (id, batch_id, test_case_key, status, started_at, comment,
          attributes)
        select gen_random_uuid(), ${crypto.randomUUID()}::uuid, 'TC-BACKLOG-' || (g % 50),
          'PASSED', now(), ${comment}, ${sql.json(attributes)}
        from generate_series(1, ${Math.min(5000, events - done)}) g`;
    }
    const [{ sized }] = await sql`
      select count(*) > 0 as sized from information_schema.columns
      where table_schema = ${schema} and table_name = 'outbox_chunks' and column_name = 'bytes'`;
    // With the store's estimate where the schema has it (the row's text plus the overhead).
    await sql.unsafe(`
      insert into outbox_chunks (batch_id, execution_ids, available_at${sized ? ", bytes" : ""})
      select batch_id, array_agg(id), now()${sized ? ", sum(bytes)" : ""}
      from (
        select id, batch_id, octet_length(e::text) + ${EVENT_OVERHEAD_BYTES} as bytes,
          (row_number() over (partition by batch_id order by id) - 1) / 500 as part
        from executions e
      ) rows group by batch_id, part`);
  } finally {
    await sql.end();
  }
}

/**
 * (b) A restart with `events` large events pending: the service starts with the broker stopped and
 * stays `downSeconds` (the relay claims and hands back), then the broker starts and the backlog
 * drains. The service must stay up throughout and every event land on the topic once.
 */
export async function runBacklogRestart(
  plan: { events: number; downSeconds: number },
  options: RigOptions = {},
): Promise<RigResult> {
  const result: RigResult = {
    stored: 0,
    onTopic: 0,
    peakRssMb: 0,
    rss: [],
    notes: [],
    warnings: [],
  };
  await kafkaBroker("start");
  const topic = uniqueName("backlog"), schema = uniqueName("t");
  await createTopic(topic);
  const began = performance.now();
  await fillBacklog(schema, plan.events);
  result.notes.push(
    `${plan.events} large events pending, put there in ${
      Math.round((performance.now() - began) / 100) / 10
    } s`,
  );
  const sql = sqlFor(schema);
  await kafkaBroker("stop");
  let service: ServiceProcess | undefined;
  try {
    service = await startService(schema, topic, options.env);
    await watched(service, options, result, async (tick) => {
      try {
        const until = performance.now() + plan.downSeconds * 1000;
        while (performance.now() < until) {
          alive(service!, result);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        options.log?.(`broker back after ${plan.downSeconds} s down: ${tick()}`);
      } finally {
        await kafkaBroker("start");
      }
      await drained(service!, sql, result, options.drainTimeoutMs ?? 300_000);
      options.log?.(`backlog drained: ${tick()}`);
    });
    await tally(sql, topic, result, options.readBack ?? true);
    return result;
  } finally {
    await kafkaBroker("start");
    await service?.stop();
    await sql.end();
    await dropSchema(schema);
    await deleteTopic(topic, { ignoreFailure: true });
  }
}
