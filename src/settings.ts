// What each part of the service is given from the parsed configuration, and the live settings a
// reload replaces: each consumer reads its own view through a getter, or is told of the change.
import { type Config, type Tunables, tunablesOf } from "./config.ts";
import type { DatabaseOptions } from "./db/database.ts";
import type { IngestSettings } from "./domain/ingest.ts";
import type { BatchLimits } from "./http/batch_body.ts";
import type { MemoryBounds } from "./memory_budget.ts";
import type { KafkaProducerOptions } from "./publish/kafka_errors.ts";
import type { PublishingSettings } from "./publish/publishing.ts";

/** The database to open and its pool. */
export function databaseOptions(config: Config): DatabaseOptions {
  return {
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    pool: {
      schema: config.DB_SCHEMA,
      poolMax: config.DB_POOL_MAX,
      idleTimeoutSeconds: config.DB_IDLE_TIMEOUT_S,
      maxLifetimeSeconds: config.DB_MAX_LIFETIME_S,
      connectTimeoutSeconds: config.DB_CONNECT_TIMEOUT_S,
      statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
      acquireTimeoutMs: config.DB_ACQUIRE_TIMEOUT_MS,
      queueMax: config.DB_QUEUE_MAX,
    },
  };
}

/** The Kafka producer's connection. */
export function kafkaOptions(config: Config): KafkaProducerOptions {
  return {
    brokers: config.KAFKA_BROKERS,
    topic: config.KAFKA_TOPIC,
    clientId: config.KAFKA_CLIENT_ID,
    connectionTimeoutMs: config.KAFKA_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: config.KAFKA_REQUEST_TIMEOUT_MS,
  };
}

/** The limits of one batch request's body (fixed for the process's life). */
export function batchLimits(config: Config): BatchLimits {
  return {
    maxItems: config.BATCH_MAX_ITEMS,
    maxBytes: config.BATCH_MAX_BYTES,
    readTimeoutMs: config.BATCH_READ_TIMEOUT_MS,
    maxValues: config.BATCH_MAX_VALUES,
  };
}

/**
 * The byte bounds of the memory budget: the bodies in flight; publishing's events held (the channel
 * with the chunks being sent and posted to the worker, one relay claim, each loop's send). The
 * console's forms and uploads and the JUnit reader hold their bytes inside BATCH_BYTES_IN_FLIGHT
 * (the reader keeps one testcase at a time), so nothing else is held by the HTTP thread.
 */
export function memoryBounds(config: Config): MemoryBounds {
  const publishing = config.KAFKA_BROKERS.length > 0;
  return {
    bodyBytesInFlight: config.BATCH_BYTES_IN_FLIGHT,
    // Without brokers nothing is published, so nothing is held for it.
    publishingBytes: publishing
      ? {
        PUBLISH_CHANNEL_MAX_BYTES: config.PUBLISH_CHANNEL_MAX_BYTES,
        OUTBOX_RELAY_MAX_BYTES: config.OUTBOX_RELAY_MAX_BYTES,
        "PUBLISH_CONCURRENCY×PUBLISH_BATCH_MAX_BYTES": config.PUBLISH_CONCURRENCY *
          config.PUBLISH_BATCH_MAX_BYTES,
      }
      : {},
    // The embedded database serves one connection, so publishing stays in the HTTP thread there.
    publishingInWorker: config.PUBLISH_IN_WORKER && config.DATABASE_URL !== undefined,
  };
}

/** Publishing's settings under the given tunables. */
function publishingSettings(config: Config, t: Tunables): PublishingSettings {
  return {
    channelCapacity: t.PUBLISH_CHANNEL_CAPACITY,
    channelMaxBytes: t.PUBLISH_CHANNEL_MAX_BYTES,
    publisher: {
      concurrency: t.PUBLISH_CONCURRENCY,
      batchMax: t.PUBLISH_BATCH_MAX,
      batchMaxBytes: t.PUBLISH_BATCH_MAX_BYTES,
      leaseMs: config.OUTBOX_LEASE_MS,
      resilience: {
        retry: {
          attempts: t.PUBLISH_RETRY_ATTEMPTS,
          initialDelayMs: t.PUBLISH_RETRY_INITIAL_DELAY_MS,
          multiplier: t.PUBLISH_RETRY_MULTIPLIER,
          maxDelayMs: t.PUBLISH_RETRY_MAX_DELAY_MS,
          jitter: t.PUBLISH_RETRY_JITTER,
        },
        breaker: {
          threshold: t.PUBLISH_BREAKER_THRESHOLD,
          halfOpenAfterMs: t.PUBLISH_BREAKER_HALF_OPEN_MS,
        },
      },
    },
    relay: {
      intervalMs: config.OUTBOX_RELAY_INTERVAL_MS,
      batchMax: config.OUTBOX_RELAY_BATCH,
      batchMaxBytes: config.OUTBOX_RELAY_MAX_BYTES,
      leaseMs: config.OUTBOX_LEASE_MS,
    },
  };
}

/** The tunables in force, replaced as a whole by a reload. */
export function createLiveSettings(config: Config) {
  let tunables = tunablesOf(config);
  const listeners: Array<(next: Tunables) => void> = [];
  return {
    get tunables(): Tunables {
      return tunables;
    },
    /**
     * The ingest use case's getter, read at the start of each batch. Chunks of one batch side by
     * side each take a connection: more of them than the pool holds would only queue.
     */
    ingest(poolMax: number): () => IngestSettings {
      const chunkConcurrency = Math.min(config.BATCH_CHUNK_CONCURRENCY, poolMax);
      const failuresKept = config.BATCH_FAILURES_KEPT;
      return () => ({ chunkSize: tunables.BATCH_CHUNK_SIZE, chunkConcurrency, failuresKept });
    },
    /** Publishing's settings now; publishing is handed them again on every change. */
    publishing: (): PublishingSettings => publishingSettings(config, tunables),
    /** Calls `listener` with the new tunables after each replace. */
    onChange(listener: (next: Tunables) => void) {
      listeners.push(listener);
    },
    /** Puts `next` in force and tells the listeners; returns the settings that changed. */
    replace(next: Tunables): Partial<Tunables> {
      const changed = Object.fromEntries(
        Object.entries(next).filter(([key, value]) => tunables[key as keyof Tunables] !== value),
      ) as Partial<Tunables>;
      tunables = next;
      for (const listener of listeners) listener(next);
      return changed;
    },
  };
}

/** The live settings' handle. */
export type LiveSettings = ReturnType<typeof createLiveSettings>;
