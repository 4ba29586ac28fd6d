// The kafkajs adapter behind the EventProducer port: connects lazily, sends with acks from all replicas.
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import type { PublishFailureKind } from "../domain/errors.ts";
import type { EventProducer, Logger } from "../domain/ports.ts";
import { type KafkaProducerOptions, MESSAGE_FAULTS, publishFailure } from "./kafka_errors.ts";

/**
 * Classifies a kafkajs error by its chain of causes: a protocol error that is the messages' fault
 * makes it "rejected"; anything else (connection, timeout, no leader, retries exhausted) is the
 * broker's. The reason quotes the innermost cause, which says what actually happened.
 */
export function classifyKafkajsError(error: unknown): { kind: PublishFailureKind; reason: string } {
  const chain: Array<{ name?: string; type?: string; message?: string }> = [];
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    chain.push(e as { name?: string; type?: string; message?: string });
    const { cause, originalError } = e as { cause?: unknown; originalError?: unknown };
    e = cause ?? originalError;
  }
  const fault = chain.some((e) => e.type !== undefined && MESSAGE_FAULTS.has(e.type));
  const root = chain.at(-1) ?? {};
  const label = [root.name, root.type].filter(Boolean).join(":");
  return {
    kind: fault ? "rejected" : "unavailable",
    reason: `${root.message ?? String(error)}${label ? ` (${label})` : ""}`,
  };
}

/** Creates the producer; nothing connects until the first send, so the service starts without Kafka. */
export function createKafkajsProducer(
  options: KafkaProducerOptions & { logger: Logger },
): EventProducer {
  const { logger } = options;
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    // One retry policy rules: ours (publish/resilience.ts). kafkajs's own retrier would multiply
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
  let closed = false;

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
    async send(messages) {
      try {
        if (closed) throw new Error("the producer is closed");
        const client = await connected();
        await client.send({ topic: options.topic, acks: -1, messages: messages as never });
      } catch (error) {
        const { kind, reason } = classifyKafkajsError(error);
        throw publishFailure(closed ? "closed" : kind, options, messages.length, error, reason);
      }
    },
    async close() {
      closed = true;
      const current = connecting;
      connecting = undefined;
      producer = undefined;
      if (current) await (await current.catch(() => undefined))?.disconnect();
    },
  };
}
