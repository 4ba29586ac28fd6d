// The kafkajs adapter behind the EventProducer port: connects lazily, sends with acks from all replicas.
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import type { StoredExecution } from "../domain/execution.ts";
import type { EventProducer, Logger } from "../domain/ports.ts";
import { toKafkaMessage } from "./event.ts";

/** Options of createKafkaProducer. */
export interface KafkaProducerOptions {
  brokers: string[];
  topic: string;
  clientId: string;
  /** CloudEvents `ce_source` of every event. */
  source: string;
  /** Milliseconds to establish a connection. @default 3000 */
  connectionTimeoutMs?: number;
  /** Milliseconds to wait for a broker's answer. @default 10000 */
  requestTimeoutMs?: number;
  logger: Logger;
}

/** Creates the producer; nothing connects until the first send, so the service starts without Kafka. */
export function createKafkaProducer(options: KafkaProducerOptions): EventProducer {
  const { logger } = options;
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    // One retry policy rules: ours (publish/retry_policy.ts). kafkajs's own retrier would multiply
    // it (5 retries inside each of ours) and hide the attempts from our logs and metrics.
    retry: { retries: 0 },
    // kafkajs logs every failed connection at error; our publisher logs what matters once.
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log }) => {
      const fields = { component: "kafkajs", namespace, broker: log.broker, kafkaLevel: level };
      logger.debug(fields, String(log.message));
    },
  });
  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;

  function connected(): Promise<Producer> {
    connecting ??= (async () => {
      const next = kafka.producer({
        allowAutoTopicCreation: true,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: 0 },
      });
      try {
        await next.connect();
      } catch (error) {
        connecting = undefined;
        await next.disconnect().catch(() => {});
        throw error;
      }
      next.on(next.events.DISCONNECT, () => {
        if (producer === next) {
          producer = undefined;
          connecting = undefined;
        }
      });
      producer = next;
      return next;
    })();
    return connecting;
  }

  return {
    async send(executions: readonly StoredExecution[]) {
      const client = await connected();
      await client.send({
        topic: options.topic,
        acks: -1,
        messages: executions.map((execution) => toKafkaMessage(execution, options.source)),
      });
    },
    async close() {
      const current = connecting;
      connecting = undefined;
      producer = undefined;
      if (current) await (await current.catch(() => undefined))?.disconnect();
    },
  };
}
