// The publishing worker: its own small pool, its own Kafka client, the relay and the publisher loops,
// on the second core and on an event loop that HTTP work never delays.
import { createDb, type DbOptions } from "../db/client.ts";
import { createOutboxStore } from "../db/outbox_store.ts";
import type { Logger, OutboxChunk, PublishObserver } from "../domain/ports.ts";
import { toEventMessage } from "./event.ts";
import type { KafkaProducerOptions } from "./kafka_errors.ts";
import { type KafkaClientName, loadProducer } from "./load_producer.ts";
import {
  createPublishing,
  type PublishingHandle,
  type PublishingSettings,
  type PublishingStatus,
} from "./publishing.ts";

/** Everything the worker is started with (plain data: it crosses threads). */
export interface PublishingWorkerInit {
  db: Omit<DbOptions, "onQuery">;
  client: KafkaClientName;
  kafka: KafkaProducerOptions;
  eventSource: string;
  settings: PublishingSettings;
  logLevel: string;
  /** Milliseconds between reports (which are also the worker's heartbeat). */
  reportEveryMs: number;
}

/** What the worker observed since its last report. */
export interface PublishingReport {
  status: PublishingStatus;
  sends: number[];
  lags: number[];
  retried: number;
  deadLettered: number;
  unavailable: number;
}

/** What the service sends the worker. */
export type WorkerRequest =
  | { type: "init"; init: PublishingWorkerInit }
  | { type: "offer"; chunk: OutboxChunk }
  | { type: "reload"; settings: PublishingSettings; logLevel: string }
  | { type: "relay"; id: number }
  | { type: "stop"; deadlineMs: number };

/** What the worker sends the service. */
export type WorkerReply =
  | { type: "log"; level: keyof Logger; fields: object; message: string }
  | { type: "report"; report: PublishingReport }
  | { type: "relayed"; id: number; queued: number }
  | { type: "stopped" }
  | { type: "failed"; message: string };

const LEVELS = ["debug", "info", "warn", "error"] as const;
const self = globalThis as unknown as {
  postMessage(reply: WorkerReply): void;
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
};

let level = 1;
// Lines go to the service's logger, so they share its format, redaction and destination.
const logger: Logger = Object.fromEntries(
  LEVELS.map((name, rank) => [
    name,
    (fields: object, message: string) => {
      if (rank >= level) self.postMessage({ type: "log", level: name, fields, message });
    },
  ]),
) as unknown as Logger;

function setLevel(name: string) {
  const rank = LEVELS.indexOf(name as typeof LEVELS[number]);
  level = rank >= 0 ? rank : name === "silent" ? LEVELS.length : 1;
}

let report: Omit<PublishingReport, "status"> = fresh();
function fresh() {
  return { sends: [], lags: [], retried: 0, deadLettered: 0, unavailable: 0 };
}
const observer: PublishObserver = {
  sent: (seconds) => void report.sends.push(seconds),
  published: (lags) => {
    for (const lag of lags) report.lags.push(lag);
  },
  retried: (count) => void (report.retried += count),
  deadLettered: (count) => void (report.deadLettered += count),
  unavailable: (count) => void (report.unavailable += count),
};

let publishing: PublishingHandle | undefined;
let closeDb: (() => Promise<void>) | undefined;
let reporter: ReturnType<typeof setInterval> | undefined;

function sendReport() {
  if (!publishing) return;
  self.postMessage({ type: "report", report: { status: publishing.status(), ...report } });
  report = fresh();
}

async function start(init: PublishingWorkerInit) {
  setLevel(init.logLevel);
  const db = createDb(init.db);
  closeDb = () => db.close(5);
  // A first query without array parameters avoids porsager/postgres#789 on a new pool.
  await db.sql`select 1`;
  const producer = await loadProducer(init.client, init.kafka, logger);
  publishing = createPublishing({
    outbox: createOutboxStore(db).port,
    producer,
    logger,
    settings: init.settings,
    encode: (execution) => toEventMessage(execution, init.eventSource),
    observer,
  });
  reporter = setInterval(sendReport, init.reportEveryMs);
  sendReport();
}

self.onmessage = async ({ data }) => {
  try {
    if (data.type === "init") await start(data.init);
    else if (data.type === "offer") publishing?.offer(data.chunk);
    else if (data.type === "relay") {
      // Always answered: the service's catch-up waits for this reply.
      const queued = await publishing?.relayNow().catch(() => 0) ?? 0;
      self.postMessage({ type: "relayed", id: data.id, queued });
    } else if (data.type === "reload") {
      setLevel(data.logLevel);
      publishing?.reload(data.settings);
    } else if (data.type === "stop") {
      await publishing?.stop(data.deadlineMs);
      clearInterval(reporter);
      sendReport();
      await closeDb?.();
      self.postMessage({ type: "stopped" });
    }
  } catch (error) {
    self.postMessage({ type: "failed", message: (error as Error)?.message ?? String(error) });
  }
};
