// What both Kafka adapters share: which protocol errors are the messages' fault, and how a failure reads.
import { PublishError, type PublishFailureKind } from "../domain/errors.ts";

/**
 * Kafka protocol errors that say these messages, not the broker, are the problem. Every other
 * failure (connection, timeout, leader election, authorisation, an unknown topic) is the broker's
 * or the configuration's: the events wait in the outbox instead of becoming dead letters.
 */
export const MESSAGE_FAULTS = new Set([
  "CORRUPT_MESSAGE",
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "INVALID_TIMESTAMP",
  "UNSUPPORTED_FOR_MESSAGE_FORMAT",
]);

/** Options both adapters take. */
export interface KafkaProducerOptions {
  brokers: string[];
  topic: string;
  clientId: string;
  /** Milliseconds to establish a connection. @default 3000 */
  connectionTimeoutMs?: number;
  /** Milliseconds to wait for a broker's answer. @default 30000 */
  requestTimeoutMs?: number;
}

/**
 * The port's error for a failed send: names the brokers and the client's own words for the cause
 * (its first line, cut short), never a message's content.
 */
export function publishFailure(
  kind: PublishFailureKind,
  options: Pick<KafkaProducerOptions, "brokers">,
  events: number,
  cause: unknown,
  reason: string,
): PublishError {
  const text = reason.split("\n")[0].slice(0, 300);
  return new PublishError(
    kind,
    `Cannot send ${events} event${events === 1 ? "" : "s"} to Kafka at ${
      options.brokers.join(",")
    }: ${text}`,
    { cause },
  );
}
