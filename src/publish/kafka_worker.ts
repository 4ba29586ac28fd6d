// Worker that owns the kafkajs producer: message encoding (Buffer-heavy under Deno's Node layer)
// runs here, off the event loop that serves HTTP.
import type { StoredExecution } from "../domain/execution.ts";
import type { Logger } from "../domain/ports.ts";
import { createKafkaProducer, type KafkaProducerOptions } from "./kafka_producer.ts";
import { isBrokerUnavailable } from "./publisher.ts";

/** What the main thread asks. */
export type KafkaWorkerRequest =
  | { type: "init"; options: Omit<KafkaProducerOptions, "logger"> }
  | { type: "send"; id: number; executions: StoredExecution[] }
  | { type: "close"; id: number };

/** What the worker answers; errors keep the fields the publisher classifies them by. */
export type KafkaWorkerReply =
  | { type: "done"; id: number }
  | { type: "failed"; id: number; error: { name: string; message: string; retriable?: boolean } }
  | { type: "log"; fields: object; message: string };

const self = globalThis as unknown as {
  postMessage(reply: KafkaWorkerReply): void;
  onmessage: ((event: MessageEvent<KafkaWorkerRequest>) => void) | null;
};

const logger: Logger = {
  debug: (fields, message) => self.postMessage({ type: "log", fields, message }),
  info: (fields, message) => self.postMessage({ type: "log", fields, message }),
  warn: (fields, message) => self.postMessage({ type: "log", fields, message }),
  error: (fields, message) => self.postMessage({ type: "log", fields, message }),
};

let producer: ReturnType<typeof createKafkaProducer> | undefined;

function failure(id: number, error: unknown): KafkaWorkerReply {
  const e = error as { name?: string; message?: string } | undefined;
  // The cause chain does not survive the trip between threads, so the outage verdict is taken
  // here and carried as `retriable`, which the publisher reads as "broker unavailable".
  return {
    type: "failed",
    id,
    error: {
      name: e?.name ?? "Error",
      message: String(e?.message ?? error),
      retriable: isBrokerUnavailable(error),
    },
  };
}

self.onmessage = async ({ data }) => {
  if (data.type === "init") {
    producer = createKafkaProducer({ ...data.options, logger });
    return;
  }
  try {
    if (data.type === "send") await producer!.send(data.executions);
    else await producer?.close();
    self.postMessage({ type: "done", id: data.id });
  } catch (error) {
    self.postMessage(failure(data.id, error));
  }
};
