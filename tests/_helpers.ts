// Shared fixtures: the real PostgreSQL and Kafka the test command started, unique schemas and topics.
import { Kafka, logLevel } from "kafkajs";
import postgres from "postgres";
import { type Config, loadConfig } from "../src/config.ts";
import { createLogger } from "../src/logger.ts";
import { type StartOptions, startService } from "../src/main.ts";

/** The PostgreSQL the tests use (never the embedded one). */
export const DATABASE_URL = Deno.env.get("DATABASE_URL") ??
  "postgres://postgres@127.0.0.1:5432/test";
/** The Kafka broker the test command started (scripts/kafka.sh) or the one KAFKA_BROKERS names. */
export const KAFKA_BROKERS = (Deno.env.get("KAFKA_BROKERS") ?? "127.0.0.1:19092").split(",");

let counter = 0;
/** A name no other test (or earlier run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${(counter++).toString(36)}_${
    Math.floor(Math.random() * 1e6).toString(36)
  }`;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await sql`drop schema if exists ${sql(schema)} cascade`;
  } finally {
    await sql.end();
  }
}

/** A configuration for tests: real PostgreSQL in a fresh schema, an ephemeral port, quiet logs. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL,
    DB_SCHEMA: uniqueName("t"),
    PORT: "0",
    LOG_LEVEL: "warn",
    KAFKA_BROKERS: "",
    ...overrides,
  });
}

/** Lines a logger wrote, kept for assertions. */
export function captureLogs(level = "debug") {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (line) => lines.push(line) } });
  return { logger, lines };
}

/** Starts the whole service in-process against the real database; `close` stops it and drops its schema. */
export async function startTestService(
  overrides: Record<string, string> = {},
  options: StartOptions = {},
) {
  const config = testConfig(overrides);
  const service = await startService(config, {
    logger: options.logger ?? captureLogs("warn").logger,
    ...options,
  });
  return {
    service,
    config,
    url: service.url,
    async close() {
      await service.stop();
      await dropSchema(config.DB_SCHEMA);
    },
  };
}

// The valid executions the tests send and the records stored for them, from the fakes' module (the
// in-process tier needs them too).
export { execution, executions, recordOf } from "./_fakes/fixtures.ts";

/** POSTs a batch as JSON. */
export function postBatch(
  baseUrl: string,
  items: unknown[],
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${baseUrl}/v1/executions/batch`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ executions: items }),
  });
}

/** POSTs a JUnit XML report to the import route (`query` starts with "?"). */
export function postReport(
  baseUrl: string,
  xml: string,
  query = "",
  type = "application/xml",
): Promise<Response> {
  return fetch(`${baseUrl}/v1/imports/junit${query}`, {
    method: "POST",
    headers: { "content-type": type },
    body: xml,
  });
}

/** The numbers of the submit CLI's printed summary, by label (error codes included). */
export function summaryOf(stdout: string): Record<string, number> {
  const numbers: Record<string, number> = {};
  for (const [, label, value] of stdout.matchAll(/^\s*([A-Za-z_]+)\s+([\d,]+)$/gm)) {
    numbers[label] = Number(value.replaceAll(",", ""));
  }
  return numbers;
}

/**
 * A client that sends a batch's headers and the first bytes of its body (chunked, or of
 * `declaredLength` bytes), then nothing more: an upload the service is left waiting on.
 */
export async function slowUpload(port: number, declaredLength?: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const length = declaredLength === undefined
    ? "transfer-encoding: chunked\r\n"
    : `content-length: ${declaredLength}\r\n`;
  const start = declaredLength === undefined ? '8\r\n{"execut\r\n' : '{"execut';
  await conn.write(new TextEncoder().encode(
    `POST /v1/executions/batch HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${length}\r\n${start}`,
  ));
  return {
    /**
     * The response the service sends, as its status line, header lines (lower-cased) and body;
     * status "closed" when the connection ended without one.
     */
    async response(): Promise<{ status: string; headers: string; body: string }> {
      let text = "";
      const buffer = new Uint8Array(8192);
      while (true) {
        const n = await conn.read(buffer).catch(() => null);
        if (n === null) break;
        text += new TextDecoder().decode(buffer.subarray(0, n));
        if (/\r\n\r\n[\s\S]*\}$/.test(text)) break;
      }
      const [head, body = ""] = text.split("\r\n\r\n");
      const [status, ...headers] = head.split("\r\n");
      return { status: status || "closed", headers: headers.join("\n").toLowerCase(), body };
    },
    close: () => conn.close(),
  };
}

/** A postgres.js client on a test schema, for assertions. */
export function sqlFor(schema: string) {
  return postgres(DATABASE_URL, {
    max: 2,
    onnotice: () => {},
    connection: { search_path: schema },
  });
}

/** Events pending in an outbox (in its chunks) and dead letters kept, on an open client. */
export async function outboxCounts(
  sql: postgres.Sql,
): Promise<{ pending: number; deadLetters: number }> {
  const [row] = await sql`
    select (select coalesce(sum(cardinality(execution_ids)), 0) from outbox_chunks)::int as pending,
      (select count(*) from dead_letters)::int as dead_letters`;
  return { pending: row.pending, deadLetters: row.dead_letters };
}

/** Executions stored, on an open client. */
export async function executionCount(sql: postgres.Sql): Promise<number> {
  const [{ count }] = await sql`select count(*)::int as count from executions`;
  return count;
}

/** Events still pending in a schema's outbox (dead letters aside). */
export async function pendingEvents(schema: string): Promise<number> {
  const sql = sqlFor(schema);
  try {
    return (await outboxCounts(sql)).pending;
  } finally {
    await sql.end();
  }
}

/** The ids of every execution stored in a schema. */
export async function storedIds(schema: string): Promise<string[]> {
  const sql = sqlFor(schema);
  try {
    return (await sql`select id from executions`).map((row) => row.id);
  } finally {
    await sql.end();
  }
}

/** A kafkajs client on the test broker, failing fast when it is not there. */
export function testKafka() {
  return new Kafka({
    clientId: uniqueName("test"),
    brokers: KAFKA_BROKERS,
    connectionTimeout: 3000,
    retry: { retries: 3, initialRetryTime: 200 },
    logLevel: logLevel.NOTHING,
  });
}

/** A consumed message, decoded. */
export interface Consumed {
  key: string;
  value: Record<string, unknown>;
  headers: Record<string, string>;
  partition: number;
}

/** Options of consumeTopic. */
export interface ConsumeOptions {
  /**
   * Once the end is reached, how long no new message may arrive before reading stops, in ms: the
   * window in which a late second copy (a retry after a timeout, a chunk sent again) would show.
   * @default 0
   */
  quietMs?: number;
}

/**
 * Reads a topic from the beginning until at least `expected` distinct ce_ids were seen and every
 * partition was read up to its end offset (high watermark) taken after that, or until `timeoutMs`
 * passed; returns every message read, second copies included, so that comparing the count with
 * the distinct ids finds any event sent twice.
 */
export async function consumeTopic(
  topic: string,
  expected: number,
  timeoutMs = 60_000,
  options: ConsumeOptions = {},
): Promise<Consumed[]> {
  const kafka = testKafka();
  const consumer = kafka.consumer({ groupId: uniqueName("g"), maxWaitTimeInMs: 200 });
  const admin = kafka.admin();
  const messages: Consumed[] = [];
  const ids = new Set<string>();
  // The next offset to read in each partition.
  const next = new Map<number, bigint>();
  let lastMessageAt = performance.now();
  const deadline = performance.now() + timeoutMs;
  try {
    await admin.connect();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: ({ batch }) => {
        for (const message of batch.messages) {
          const headers: Record<string, string> = {};
          for (const [key, value] of Object.entries(message.headers ?? {})) {
            headers[key] = String(value);
          }
          messages.push({
            key: message.key?.toString() ?? "",
            value: JSON.parse(message.value?.toString() ?? "null"),
            headers,
            partition: batch.partition,
          });
          ids.add(headers.ce_id);
          next.set(batch.partition, BigInt(message.offset) + 1n);
          lastMessageAt = performance.now();
        }
        return Promise.resolve();
      },
    });
    const quietMs = options.quietMs ?? 0;
    while (performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (ids.size < expected || performance.now() - lastMessageAt < quietMs) continue;
      const ends = await admin.fetchTopicOffsets(topic);
      const atEnd = ends.every(({ partition, high, low }) =>
        (next.get(partition) ?? BigInt(low)) >= BigInt(high)
      );
      if (atEnd) break;
    }
    return messages;
  } finally {
    await consumer.disconnect();
    await admin.disconnect();
  }
}

/** Creates a topic with `partitions` partitions (and topic configs) and waits until it is ready. */
export async function createTopic(
  topic: string,
  partitions = 3,
  configs: Record<string, string> = {},
): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{
        topic,
        numPartitions: partitions,
        configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
      }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * A port nothing listens on: bound by the system and closed again, so it is free for a child to bind
 * (or to find closed), unless another process takes it in between.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Deletes a topic. With `ignoreFailure`, a refused deletion is ignored (clean-ups that must not fail
 * a finished run), while connecting and disconnecting still throw.
 */
export async function deleteTopic(
  topic: string,
  options: { ignoreFailure?: boolean } = {},
): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const deleted = admin.deleteTopics({ topics: [topic] });
    await (options.ignoreFailure ? deleted.catch(() => {}) : deleted);
  } finally {
    await admin.disconnect();
  }
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  stepMs = 100,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  throw new Error(`Condition not met within ${timeoutMs} ms`);
}

/**
 * The lines a child process writes to stdout and stderr, gathered as they come; `onLine` is
 * called after each chunk, and `done` settles when both streams end.
 */
export function collectLines(child: Deno.ChildProcess, onLine?: () => void) {
  const lines: string[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
      onLine?.();
    }
  };
  return { lines, done: Promise.all([pump(child.stdout), pump(child.stderr)]) };
}

/**
 * A service running as its own process (`deno run -A src/main.ts`, or `args` from `cwd`), its
 * output lines collected.
 */
export async function spawnService(
  env: Record<string, string>,
  options: { args?: string[]; cwd?: string } = {},
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: options.args ?? ["run", "-A", new URL("../src/main.ts", import.meta.url).pathname],
    cwd: options.cwd,
    env: { DATABASE_URL, PORT: "0", LOG_LEVEL: "info", KAFKA_BROKERS: "", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let onLine: (() => void) | undefined;
  const { lines, done: pumps } = collectLines(child, () => onLine?.());
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`service did not start:\n${lines.join("\n")}`)),
      30_000,
    );
    onLine = () => {
      for (const line of lines) {
        if (line.includes("execution-ingest is listening")) {
          clearTimeout(timer);
          resolve(JSON.parse(line).port);
        }
      }
    };
    child.status.then(() => {
      clearTimeout(timer);
      reject(new Error(`service exited:\n${lines.join("\n")}`));
    });
  });
  onLine = undefined;
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    lines,
    /** Sends a signal and waits for the process and its output to end. */
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
      const status = await child.status;
      await pumps;
      return status;
    },
  };
}

/** Messages on a topic, duplicates included: the sum over its partitions of high less low offsets. */
export async function topicMessageCount(topic: string): Promise<number> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Runs scripts/kafka.sh on the broker that KAFKA_HOME, KAFKA_PORT and KAFKA_CONTROLLER_PORT name
 * (the script reads them from the environment); `status` answers whether it runs. Tests that stop
 * the broker call it, and it refuses when KAFKA_BROKERS points at another broker than the script's
 * port: a test must never stop a broker that other runs share.
 */
export async function kafkaBroker(
  command: "start" | "stop" | "status" | "pause" | "resume",
): Promise<boolean> {
  const scriptBroker = `127.0.0.1:${Deno.env.get("KAFKA_PORT") ?? "19092"}`;
  if (KAFKA_BROKERS.length !== 1 || KAFKA_BROKERS[0] !== scriptBroker) {
    throw new Error(
      `KAFKA_BROKERS is ${KAFKA_BROKERS.join(",")}, not the broker scripts/kafka.sh runs ` +
        `(${scriptBroker}): set KAFKA_HOME, KAFKA_PORT and KAFKA_CONTROLLER_PORT to a broker of ` +
        "this run's own before a test stops it",
    );
  }
  const script = new URL("../scripts/kafka.sh", import.meta.url).pathname;
  const { code, stderr } = await new Deno.Command("bash", {
    args: [script, command],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0 && command !== "status") {
    throw new Error(`scripts/kafka.sh ${command} failed: ${new TextDecoder().decode(stderr)}`);
  }
  return code === 0;
}
