// The ways to store and publish a batch that the benchmarks compare, all on one schema and topic.
import net from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import postgres from "postgres";
import { v7 as uuidv7 } from "uuid";
import { loadConfig } from "../src/config.ts";
import { createDb } from "../src/db/client.ts";
import { createExecutionStore } from "../src/db/execution_store.ts";
import { migrate } from "../src/db/migrate.ts";
import { INSERT_COLUMNS } from "../src/db/execution_columns.ts";
import { type ExecutionRecord, RECORD_FIELDS } from "../src/domain/execution.ts";
import { toRecord, validateExecution } from "../src/domain/validate.ts";
import { createLogger } from "../src/logger.ts";
import { startService } from "../src/main.ts";
import { toEventMessage } from "../src/publish/event.ts";
import { createKafkajsProducer } from "../src/publish/kafkajs_producer.ts";
import {
  createTopic,
  DATABASE_URL,
  deleteTopic,
  dropSchema,
  executions,
  KAFKA_BROKERS,
  uniqueName,
} from "../tests/_helpers.ts";

/** Start and end of the timed part; `deno bench`'s context fits, and so does a no-op. */
export interface Marks {
  start(): void;
  end(): void;
}

const NO_MARKS: Marks = { start() {}, end() {} };

/** Bulk-store chunk size of path (c), the service's default. */
export const STORE_CHUNK = 500;

/** `n` valid executions with ids no run has used (the items the tests use). */
export function freshItems(n: number): Record<string, unknown>[] {
  return executions(n);
}

/** The request body of a batch, built before the timed part (a client's cost, not the server's). */
export function batchBody(items: readonly unknown[]): string {
  return JSON.stringify({ executions: items });
}

/** Validates items into records as the service does (validateExecution + toRecord). */
export function toRecords(items: readonly unknown[]): ExecutionRecord[] {
  return items.map((raw, index) => {
    const checked = validateExecution(raw);
    if (!checked.ok) {
      throw new Error(`bench item ${index} is invalid: ${checked.details[0].message}`);
    }
    return toRecord(checked.value, uuidv7);
  });
}

/** A record's values in the order of COLUMNS (jsonb as JSON text), for the legacy INSERT and COPY. */
function rowValues(record: ExecutionRecord, batchId: string): Array<string | number | null> {
  const fields = record as Record<string, unknown>;
  return [
    batchId,
    ...RECORD_FIELDS.map((field) => {
      const value = fields[field.name];
      return field.kind === "json" && value !== null ? JSON.stringify(value) : value as string;
    }),
  ];
}

/** The executions table's columns that a record fills, with the batch id first. */
const COLUMNS = ["batch_id", ...INSERT_COLUMNS];

/** COPY text format: tab-separated, \N for null, backslash escapes for the separators. */
function copyField(value: string | number | null): string {
  if (value === null) return "\\N";
  if (typeof value === "number") return String(value);
  return value.replace(
    /[\\\t\n\r]/g,
    (c) => c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r",
  );
}

/** Options of createIngestRig. */
export interface RigOptions {
  /** Extra service environment, such as BATCH_CHUNK_SIZE. */
  env?: Record<string, string>;
}

/**
 * Starts everything the comparisons need: the real service in-process (HTTP on an ephemeral port,
 * PostgreSQL in a fresh schema, a fresh 3-partition Kafka topic), a legacy endpoint on the same
 * schema and topic, the bulk store and a copy of the executions table for raw COPY.
 */
export async function createIngestRig(options: RigOptions = {}) {
  const schema = uniqueName("bench");
  const topic = uniqueName("bench");
  await createTopic(topic, 3);
  const logger = createLogger({
    level: "warn",
    destination: { write: (line) => void Deno.stderr.write(new TextEncoder().encode(line)) },
  });
  const service = await startService(
    loadConfig({
      DATABASE_URL,
      DB_SCHEMA: schema,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "warn",
      KAFKA_BROKERS: KAFKA_BROKERS.join(","),
      KAFKA_TOPIC: topic,
      ...options.env,
    }),
    { logger },
  );

  // Path (c) stores into a schema of its own, so the service's relay does not publish its rows.
  const storeSchema = `${schema}_store`;
  const db = createDb({ url: DATABASE_URL, schema: storeSchema, poolMax: 2 });
  // A first query without array parameters avoids porsager/postgres#789 on a new pool (as db/database.ts).
  await db.sql`select 1`;
  await migrate(db.sql, storeSchema);
  const store = createExecutionStore(db);
  const legacySql = postgres(DATABASE_URL, {
    max: 2,
    onnotice: () => {},
    connection: { search_path: schema, application_name: "legacy-bench" },
  });
  await legacySql`create table executions_copy (like executions including all)`;
  // COPY on a pool of its own, with TCP_NODELAY: postgres.js writes CopyData and CopyDone
  // separately, and with Nagle's algorithm on (as Deno's node:net leaves it) the second write
  // waits for the server's delayed ACK, adding about 40 ms to every COPY and to the next query.
  // `socket` (a custom socket factory) is in postgres.js's README but not in its types; an
  // options variable rather than a literal passes the type check.
  const copyOptions = {
    max: 1,
    onnotice: () => {},
    connection: { search_path: schema, application_name: "copy-bench" },
    socket: () => {
      const { hostname, port } = new URL(DATABASE_URL);
      return net.connect({ host: hostname, port: Number(port || 5432) }).setNoDelay(true);
    },
  };
  const copySql = postgres(DATABASE_URL, copyOptions);
  // The old service sent with kafkajs, one awaited send per execution.
  const legacyProducer = createKafkajsProducer({
    brokers: KAFKA_BROKERS,
    topic,
    clientId: "legacy-bench",
    logger,
  });

  // The old service: every execution is one INSERT, then one awaited send (acks -1) of its event,
  // all inside one transaction, before the client gets its answer.
  const legacyServer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const { executions: items } = await request.json() as { executions: unknown[] };
      const batchId = uuidv7();
      const records = toRecords(items);
      await legacySql.begin(async (tx) => {
        for (const r of records) {
          const values = rowValues(r, batchId);
          const [row] = await tx.unsafe(
            // Each parameter takes its column's type (jsonb from JSON text, as with tx.json).
            `insert into executions (${COLUMNS.join(", ")}) values (${
              COLUMNS.map((_, i) => `$${i + 1}`).join(", ")
            }) returning created_at`,
            values,
            { prepare: true },
          );
          await legacyProducer.send([
            toEventMessage(
              { ...r, batchId, createdAt: (row.created_at as Date).toISOString() },
              "/legacy-bench",
            ),
          ]);
        }
      });
      return Response.json({ batchId, total: items.length, created: records.length });
    },
  );
  const legacyUrl = `http://127.0.0.1:${legacyServer.addr.port}`;

  async function post(url: string, body: string, expected: number, marks: Marks) {
    marks.start();
    const began = performance.now();
    const response = await fetch(`${url}/v1/executions/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const text = await response.text();
    const elapsed = performance.now() - began;
    marks.end();
    const created = response.ok ? (JSON.parse(text) as { created: number }).created : -1;
    if (response.status !== 200 || created !== expected) {
      throw new Error(
        `POST ${url} answered ${response.status} with ${created} created of ${expected}: ${
          text.slice(0, 300)
        }`,
      );
    }
    return elapsed;
  }

  return {
    schema,
    topic,
    service,
    /** (a) The new service: one HTTP POST of the batch. Returns milliseconds. */
    postNew: (body: string, expected: number, marks = NO_MARKS) =>
      post(service.url, body, expected, marks),
    /** (b) The legacy way over HTTP: an INSERT and an awaited send per execution. */
    postLegacy: (body: string, expected: number, marks = NO_MARKS) =>
      post(legacyUrl, body, expected, marks),
    /** (c) The service's bulk store alone, chunks of 500, outbox rows included. */
    async bulkStore(records: readonly ExecutionRecord[], marks = NO_MARKS) {
      const batchId = uuidv7();
      marks.start();
      const began = performance.now();
      for (let start = 0; start < records.length; start += STORE_CHUNK) {
        await store.repository.insertChunk(batchId, records.slice(start, start + STORE_CHUNK));
      }
      const elapsed = performance.now() - began;
      marks.end();
      return elapsed;
    },
    /** (d) The physical limit: COPY of the same rows into a copy of the table, no outbox. */
    async rawCopy(records: readonly ExecutionRecord[], marks = NO_MARKS) {
      const batchId = uuidv7();
      marks.start();
      const began = performance.now();
      let text = "";
      for (const r of records) text += rowValues(r, batchId).map(copyField).join("\t") + "\n";
      const writable = await copySql.unsafe(
        `copy executions_copy (${COLUMNS.join(", ")}) from stdin`,
      ).writable();
      await pipeline(Readable.from([text]), writable);
      const elapsed = performance.now() - began;
      marks.end();
      return elapsed;
    },
    /** Rows in the executions table and in its copy (to check that every path stored its rows). */
    async counts() {
      const [row] = await legacySql`
        select (select count(*) from executions)::int as executions,
          (select count(*) from executions_copy)::int as copied`;
      return row as unknown as { executions: number; copied: number };
    },
    /** Stops everything and drops the schema and the topic. */
    async close() {
      await service.stop();
      await legacyServer.shutdown();
      await legacyProducer.close();
      await db.close();
      await legacySql.end();
      await copySql.end();
      await dropSchema(schema);
      await dropSchema(storeSchema);
      await deleteTopic(topic);
    },
  };
}

/** The rig's interface. */
export type IngestRig = Awaited<ReturnType<typeof createIngestRig>>;
