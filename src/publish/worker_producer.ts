// The EventProducer the service uses: kafkajs in a worker (publish/kafka_worker.ts), spoken to by messages.
import type { StoredExecution } from "../domain/execution.ts";
import type { EventProducer, Logger } from "../domain/ports.ts";
import type { KafkaProducerOptions } from "./kafka_producer.ts";
import type { KafkaWorkerReply, KafkaWorkerRequest } from "./kafka_worker.ts";

/** Starts the worker; like the in-thread producer, nothing connects to Kafka until the first send. */
export function createWorkerProducer(options: KafkaProducerOptions): EventProducer {
  const { logger, ...workerOptions } = options;
  const worker = new Worker(new URL("./kafka_worker.ts", import.meta.url).href, { type: "module" });
  const pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  let next = 0;
  let closed = false;

  worker.onmessage = ({ data }: MessageEvent<KafkaWorkerReply>) => {
    if (data.type === "log") {
      (logger as Logger).debug(data.fields, data.message);
      return;
    }
    const waiter = pending.get(data.id);
    if (!waiter) return;
    pending.delete(data.id);
    if (data.type === "done") waiter.resolve();
    else waiter.reject(Object.assign(new Error(data.error.message), data.error));
  };
  worker.onerror = (event) => {
    event.preventDefault();
    const error = new Error(`Kafka worker failed: ${event.message}`);
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  post({ type: "init", options: workerOptions });

  function post(request: KafkaWorkerRequest) {
    worker.postMessage(request);
  }

  function call(request: (id: number) => KafkaWorkerRequest): Promise<void> {
    const id = next++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      post(request(id));
    });
  }

  return {
    send(executions: readonly StoredExecution[]) {
      if (closed) return Promise.reject(new Error("The Kafka producer is closed"));
      return call((id) => ({ type: "send", id, executions: executions as StoredExecution[] }));
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await call((id) => ({ type: "close", id }));
      } finally {
        worker.terminate();
      }
    },
  };
}
