// The two Kafka adapters side by side in one process against the project's broker: the same events
// (the service's own messages, six CloudEvents headers), taking turns, events/s and CPU per event.
import { parseArgs } from "node:util";
import process from "node:process";
import type { EventMessage, EventProducer } from "../src/domain/ports.ts";
import type { StoredExecution } from "../src/domain/execution.ts";
import { toEventMessage } from "../src/publish/event.ts";
import type { KafkaProducerOptions } from "../src/publish/kafka_errors.ts";
import { createKafkajsProducer } from "../src/publish/kafkajs_producer.ts";
import { createPlatformaticProducer } from "../src/publish/platformatic_producer.ts";
import {
  captureLogs,
  createTopic,
  deleteTopic,
  KAFKA_BROKERS,
  uniqueName,
} from "../tests/_helpers.ts";
import { execution as fixture } from "../tests/_fakes/fixtures.ts";
import { stored } from "../tests/_fakes/publishing.ts";
import { median } from "./stats.ts";

const CLIENTS: Record<string, (options: KafkaProducerOptions) => EventProducer> = {
  platformatic: createPlatformaticProducer,
  kafkajs: (options) => createKafkajsProducer({ ...options, logger: captureLogs("error").logger }),
};

/** `n` messages as the service builds them, from executions like the load test's. */
export function messages(n: number): EventMessage[] {
  const createdAt = new Date().toISOString();
  return Array.from({ length: n }, (_, i) => {
    // The tests' execution, every optional field it leaves out null, as stored.
    const execution = {
      ...stored(i),
      ...fixture(i),
      batchId: "0195f0e2-0000-7000-8000-000000000001",
      createdAt,
    } as StoredExecution;
    return toEventMessage(execution, "/execution-ingest");
  });
}

/** One round: `events` messages in sends of `batch`, `concurrency` sends at a time. */
async function round(producer: EventProducer, events: number, batch: number, concurrency: number) {
  const batches = Array.from({ length: Math.ceil(events / batch) }, () => messages(batch));
  const cpu = process.cpuUsage();
  const began = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < batches.length) await producer.send(batches[next++]);
  }));
  const seconds = (performance.now() - began) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    perSecond: events / seconds,
    cpuMicrosPerEvent: (used.user + used.system) / events,
  };
}

/** Options of runProducerBench. */
export interface ProducerBenchOptions {
  /** Events per round. @default 50000 */
  events?: number;
  /** Events per send. @default 1000 */
  batch?: number;
  /** Sends in flight at once. @default 4 */
  concurrency?: number;
  /** Rounds, the clients taking turns. @default 3 */
  rounds?: number;
  /** The clients to run. @default both */
  clients?: string[];
}

/** Runs both adapters in turns on one fresh topic; medians per client. */
export async function runProducerBench(options: ProducerBenchOptions = {}) {
  const events = options.events ?? 50_000, batch = options.batch ?? 1000;
  const concurrency = options.concurrency ?? 4, rounds = options.rounds ?? 3;
  const chosen = options.clients ?? Object.keys(CLIENTS);
  const topic = uniqueName("producer_bench");
  await createTopic(topic, 3);
  const producers = Object.fromEntries(
    Object.entries(CLIENTS).filter(([name]) => chosen.includes(name)).map((
      [name, create],
    ) => [name, create({ brokers: KAFKA_BROKERS, topic, clientId: uniqueName(name) })]),
  );
  const results: Record<string, Array<{ perSecond: number; cpuMicrosPerEvent: number }>> = {};
  try {
    // A warm-up send each (connections, metadata, JIT), then the clients take turns.
    for (const producer of Object.values(producers)) await producer.send(messages(batch));
    for (let r = 0; r < rounds; r++) {
      for (const [name, producer] of Object.entries(producers)) {
        (results[name] ??= []).push(await round(producer, events, batch, concurrency));
      }
    }
  } finally {
    for (const producer of Object.values(producers)) await producer.close();
    await deleteTopic(topic, { ignoreFailure: true });
  }
  return {
    options: { events, batch, concurrency, rounds },
    clients: Object.fromEntries(
      Object.entries(results).map(([name, rows]) => [name, {
        perSecond: median(rows.map((row) => row.perSecond)),
        cpuMicrosPerEvent: median(rows.map((row) => row.cpuMicrosPerEvent)),
      }]),
    ),
  };
}

/** The human-readable result. */
export function formatProducerBench(result: Awaited<ReturnType<typeof runProducerBench>>) {
  const { events, batch, concurrency, rounds } = result.options;
  const lines = [
    `Kafka adapters, ${events} events of the service's format per round, sends of ${batch}, ` +
    `${concurrency} at a time, acks=-1, ${rounds} rounds taking turns (medians):`,
  ];
  for (const [name, row] of Object.entries(result.clients)) {
    lines.push(
      `  ${name.padEnd(13)} ${Math.round(row.perSecond).toLocaleString("en")} events/s, ` +
        `${row.cpuMicrosPerEvent.toFixed(1)} µs CPU per event`,
    );
  }
  const { platformatic, kafkajs } = result.clients;
  if (platformatic && kafkajs) {
    lines.push(
      `  platformatic/kafkajs: ${(platformatic.perSecond / kafkajs.perSecond).toFixed(2)}x`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      events: { type: "string", default: "50000" },
      batch: { type: "string", default: "1000" },
      concurrency: { type: "string", default: "4" },
      rounds: { type: "string", default: "3" },
      clients: { type: "string", default: Object.keys(CLIENTS).join(",") },
    },
  });
  const result = await runProducerBench({
    events: Number(values.events),
    batch: Number(values.batch),
    concurrency: Number(values.concurrency),
    rounds: Number(values.rounds),
    clients: values.clients.split(","),
  });
  console.log(formatProducerBench(result));
}
