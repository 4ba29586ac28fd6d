// Publisher loops: drain the channel in batches, send with the retry policy, settle the outbox in bulk.
import type { StoredExecution } from "../domain/execution.ts";
import type { EventProducer, Logger, OutboxPort } from "../domain/ports.ts";
import type { Channel } from "./channel.ts";
import { createRetryPolicy, type RetrySettings } from "./retry_policy.ts";

/** Publisher settings; read again for every batch, so a reload takes effect at once. */
export interface PublisherSettings {
  /** Parallel publisher loops. @default 2 */
  concurrency: number;
  /** Most events per send. @default 500 */
  batchMax: number;
  retry: RetrySettings;
}

/** What the publisher reports; the metrics module implements it. */
export interface PublishObserver {
  published(count: number, sendSeconds: number, lagSeconds: number[]): void;
  retried(count: number): void;
  deadLettered(count: number): void;
  unavailable(count: number): void;
}

/** What createPublisher needs. */
export interface PublisherDeps {
  channel: Channel<StoredExecution>;
  producer: EventProducer;
  outbox: OutboxPort;
  logger: Logger;
  settings: () => PublisherSettings;
  observer?: PublishObserver;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

// Errors that say Kafka as a whole is unreachable (or electing a leader): retrying each event
// on its own would not help, and the events must wait in the outbox rather than become dead letters.
const UNAVAILABLE_NAMES = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNumberOfRetriesExceeded",
  "KafkaJSLockTimeout",
  "KafkaJSMetadataNotLoaded",
]);

/** True when the error (or one of its causes) means the broker is unreachable or transiently not ready. */
export function isBrokerUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    const { name, retriable, cause, originalError } = e as {
      name?: string;
      retriable?: boolean;
      cause?: unknown;
      originalError?: unknown;
    };
    if ((name && UNAVAILABLE_NAMES.has(name)) || retriable === true) return true;
    e = cause ?? originalError;
  }
  return false;
}

/** A short class name for logs: never the message, which may quote a payload. */
export function errorClass(error: unknown): string {
  const e = error as { name?: string; type?: string } | undefined;
  return [e?.name ?? "Error", e?.type].filter(Boolean).join(":");
}

/** Creates the publisher; call start() to run its loops. */
export function createPublisher(deps: PublisherDeps) {
  const { channel, producer, outbox, logger } = deps;
  const now = deps.now ?? Date.now;
  const loops = new Set<Promise<void>>();
  let wanted = 0;
  let running = 0;
  let stopping = false;
  let pauseUntil = 0;
  let kafkaStatus: "unknown" | "up" | "down" = "unknown";

  /** Sends one batch: first all together; after a failure that is not an outage, each on its own. */
  async function publish(batch: StoredExecution[]): Promise<void> {
    const settings = deps.settings();
    const policy = createRetryPolicy(settings.retry);
    let remaining = batch;
    let lastUnavailable = false;
    const retryListener = policy.onRetry((event) => {
      deps.observer?.retried(1);
      logger.warn({
        attempt: event.attempt,
        delayMs: event.delay,
        events: remaining.length,
        errorClass: "error" in event ? errorClass(event.error) : "unknown",
      }, "Kafka send failed; retrying");
    });
    const began = now();
    try {
      await policy.execute(async ({ attempt }) => {
        if (attempt === 0 || lastUnavailable || remaining.length === 1) {
          try {
            await producer.send(remaining);
          } catch (error) {
            lastUnavailable = isBrokerUnavailable(error);
            throw error;
          }
          const sent = remaining;
          remaining = [];
          await settle(sent, began);
          return;
        }
        // Isolate the events that keep failing, so the others are not held back with them.
        const results = await Promise.allSettled(remaining.map((event) => producer.send([event])));
        const failed = results.flatMap((result, i) => result.status === "rejected" ? [i] : []);
        const firstError = failed.length > 0
          ? (results[failed[0]] as PromiseRejectedResult).reason
          : null;
        await settle(remaining.filter((_, i) => results[i].status === "fulfilled"), began);
        remaining = failed.map((i) => remaining[i]);
        if (firstError) {
          lastUnavailable = isBrokerUnavailable(firstError);
          throw firstError;
        }
      });
    } catch (error) {
      await giveUp(remaining, error, settings);
    } finally {
      retryListener.dispose();
    }
  }

  async function settle(events: StoredExecution[], began: number) {
    if (events.length === 0) return;
    kafkaStatus = "up";
    const at = now();
    deps.observer?.published(
      events.length,
      (at - began) / 1000,
      events.map((event) => (at - Date.parse(event.createdAt)) / 1000),
    );
    try {
      await outbox.markPublished(events.map((event) => event.id));
    } catch (error) {
      // Kafka has them; the relay will send them once more later, which at-least-once allows.
      logger.warn(
        { events: events.length, errorClass: errorClass(error) },
        "Cannot mark published events in the outbox; they will be sent again",
      );
    }
  }

  async function giveUp(events: StoredExecution[], error: unknown, settings: PublisherSettings) {
    if (events.length === 0) return;
    const ids = events.map((event) => event.id);
    const attempts = settings.retry.attempts + 1;
    try {
      if (isBrokerUnavailable(error)) {
        deps.observer?.unavailable(events.length);
        kafkaStatus = "down";
        pauseUntil = now() + settings.retry.maxDelayMs;
        logger.error(
          { events: events.length, attempts, errorClass: errorClass(error) },
          "Kafka is unavailable; events stay pending in the outbox and will be retried",
        );
        await outbox.release(ids, settings.retry.maxDelayMs);
      } else {
        deps.observer?.deadLettered(events.length);
        logger.error(
          {
            events: events.length,
            attempts,
            errorClass: errorClass(error),
            executionIds: ids.slice(0, 20),
          },
          "Cannot publish events after the last retry; kept as dead letters",
        );
        await outbox.markFailed(ids, attempts, errorClass(error));
      }
    } catch (storeError) {
      // Still pending in the outbox: the relay takes them once their lease ends.
      logger.error(
        { events: events.length, errorClass: errorClass(storeError) },
        "Cannot update the outbox",
      );
    }
  }

  async function loop() {
    try {
      while (!stopping && running <= wanted) {
        const wait = pauseUntil - now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 250)));
        if (stopping || running > wanted) break;
        const batch = await channel.take(deps.settings().batchMax);
        if (batch.length === 0) {
          if (channel.closed) break;
          continue;
        }
        await publish(batch);
      }
    } finally {
      // Counted down in the same turn as the decision to leave, so that several surplus loops
      // waking together cannot all leave and undershoot the wanted number.
      running--;
    }
  }

  function spawn() {
    running++;
    const done: Promise<void> = loop().catch((error) => {
      logger.error({ errorClass: errorClass(error) }, "Publisher loop failed");
    }).finally(() => loops.delete(done));
    loops.add(done);
  }

  return {
    /** Starts (or resizes to) `settings().concurrency` loops. */
    start() {
      this.resize(deps.settings().concurrency);
    },
    /** Changes the number of loops; surplus loops end after their current batch. */
    resize(concurrency: number) {
      wanted = concurrency;
      while (!stopping && running < wanted) spawn();
    },
    /** Publishes what the channel holds until it is empty or the deadline passes, then stops. */
    async stop(deadlineMs: number) {
      channel.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise((resolve) => timer = setTimeout(resolve, deadlineMs));
      await Promise.race([Promise.all([...loops]), deadline]);
      clearTimeout(timer);
      stopping = true;
      const left = channel.drain(Number.MAX_SAFE_INTEGER).length;
      if (left > 0) {
        logger.warn({ events: left }, "Shutdown deadline passed; events stay in the outbox");
      }
      await producer.close().catch(() => {});
    },
    get loops() {
      return running;
    },
    /** What the last send said of Kafka. */
    get kafkaStatus() {
      return kafkaStatus;
    },
  };
}

/** The publisher's interface. */
export type Publisher = ReturnType<typeof createPublisher>;
