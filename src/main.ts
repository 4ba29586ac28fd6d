// Composition root: load config, create clients, start the server, reload on SIGHUP, shut down cleanly.
import { v7 as uuidv7 } from "uuid";
import denoConfig from "../deno.json" with { type: "json" };
import { createApp } from "./app.ts";
import {
  type Config,
  ConfigError,
  loadConfig,
  parseTunablesFile,
  type Tunables,
  TunablesSchema,
} from "./config.ts";
import { createDb, type DbOptions, pinSession } from "./db/client.ts";
import { createExecutionStore } from "./db/execution_store.ts";
import { migrate } from "./db/migrate.ts";
import { createOutboxStore } from "./db/outbox_store.ts";
import { createIngestor } from "./domain/ingest.ts";
import { createLimiter } from "./domain/limiter.ts";
import type { EventProducer, EventSink } from "./domain/ports.ts";
import { createKeyRing } from "./http/auth.ts";
import { bindListener, type Listener, listenUrl } from "./http/listener.ts";
import { createByteBudget } from "./http/byte_budget.ts";
import { createReadiness } from "./http/readiness.ts";
import { type AppLogger, createLogger } from "./logger.ts";
import { createMetrics } from "./metrics/metrics.ts";
import { toEventMessage } from "./publish/event.ts";
import type { KafkaProducerOptions } from "./publish/kafka_errors.ts";
import {
  CATCH_UP_CRON_NAME,
  CATCH_UP_CRON_SCHEDULE,
  createCatchUpJob,
  registerCatchUpCron,
} from "./publish/catch_up.ts";
import { createLazyProducer, loadProducer } from "./publish/load_producer.ts";
import {
  createPublishing,
  type PublishingHandle,
  type PublishingSettings,
} from "./publish/publishing.ts";
import { startPublishingWorker } from "./publish/publishing_worker.ts";
import { safeMessage } from "./redact.ts";

/** Options for tests and tools that start the service in-process. */
export interface StartOptions {
  logger?: AppLogger;
  /** Passed to the pool: sees every statement's text. */
  onQuery?: DbOptions["onQuery"];
  /** Wraps the Kafka producer (tests inject send failures through it). */
  wrapProducer?: (producer: EventProducer) => EventProducer;
  /** Serve HTTP. @default true */
  serve?: boolean;
  /** A port bound beforehand (runMain binds first, so a port in use is reported before any I/O). */
  listener?: Listener;
}

/** A running service. */
export type Service = Awaited<ReturnType<typeof startService>>;

function tunablesOf(config: Config): Tunables {
  return TunablesSchema.parse(
    Object.fromEntries(
      Object.keys(TunablesSchema.shape).map((key) => [key, config[key as keyof Config]]),
    ),
  );
}

/** Connections of the publishing worker's own pool: the relay's claims and the settles. */
const PUBLISHING_POOL_MAX = 2;

function publishingSettings(config: Config, t: Tunables): PublishingSettings {
  return {
    channelCapacity: t.PUBLISH_CHANNEL_CAPACITY,
    publisher: {
      concurrency: t.PUBLISH_CONCURRENCY,
      batchMax: t.PUBLISH_BATCH_MAX,
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
      leaseMs: config.OUTBOX_LEASE_MS,
    },
  };
}

function kafkaOptions(config: Config): KafkaProducerOptions {
  return {
    brokers: config.KAFKA_BROKERS,
    topic: config.KAFKA_TOPIC,
    clientId: config.KAFKA_CLIENT_ID,
    connectionTimeoutMs: config.KAFKA_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: config.KAFKA_REQUEST_TIMEOUT_MS,
  };
}

function dbOptions(config: Config, embedded: { url: string } | undefined): DbOptions {
  return {
    url: config.DATABASE_URL ?? embedded!.url,
    schema: config.DB_SCHEMA,
    // The embedded server serves one connection, and all its connections share one session.
    poolMax: embedded ? 1 : config.DB_POOL_MAX,
    // Each reconnect to the embedded server would leave prepared statements in its one session.
    idleTimeoutSeconds: embedded ? 0 : config.DB_IDLE_TIMEOUT_S,
    maxLifetimeSeconds: embedded ? 0 : config.DB_MAX_LIFETIME_S,
    connectTimeoutSeconds: config.DB_CONNECT_TIMEOUT_S,
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
    acquireTimeoutMs: config.DB_ACQUIRE_TIMEOUT_MS,
    queueMax: config.DB_QUEUE_MAX,
  };
}

/** Starts every part of the service from a parsed configuration. */
export async function startService(config: Config, options: StartOptions = {}) {
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL });
  let tunables = tunablesOf(config);
  let shuttingDown = false;
  let stopping: Promise<void> | undefined;

  if (
    config.APP_ENV === "production" && config.API_KEYS.length + config.ADMIN_API_KEYS.length === 0
  ) {
    throw new ConfigError([
      "API_KEYS: production mode needs at least one API key (or set APP_ENV=development)",
    ]);
  }
  if (config.API_KEYS.length + config.ADMIN_API_KEYS.length === 0) {
    logger.warn(
      {},
      "ACCESS CONTROL IS OFF: no API_KEYS or ADMIN_API_KEYS are set; anyone who can reach this port can write and re-queue. Never run like this in production",
    );
  }

  // Loaded only when needed: PGlite costs memory and start-up time a real server does not.
  const embedded = config.DATABASE_URL
    ? undefined
    : await (await import("./db/embedded_postgres.ts")).startEmbeddedPostgres({
      dataDir: `${config.DATA_DIR}/pglite`,
    });
  if (embedded) {
    logger.info(
      { dataDir: `${config.DATA_DIR}/pglite` },
      "No DATABASE_URL: using the embedded PostgreSQL (PGlite); for production, point DATABASE_URL at a PostgreSQL server",
    );
  }
  const db = createDb({ ...dbOptions(config, embedded), onQuery: options.onQuery });
  try {
    // A first query without array parameters avoids porsager/postgres#789 on a new pool; it is
    // also the one bounded by the connect timeout, naming the host when the server misbehaves.
    await db.ping();
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  try {
    // The embedded server ignores connection parameters; its one shared session keeps these.
    if (embedded) await pinSession(db);
    const applied = await migrate(db.sql, config.DB_SCHEMA);
    logger.info(
      { schema: config.DB_SCHEMA, applied },
      applied.length ? "Migrations applied" : "Schema is current",
    );
  } catch (error) {
    await db.close(1).catch(() => {});
    await embedded?.stop();
    throw new Error(
      `Cannot start: the schema cannot be migrated (${safeMessage(error)})`,
      { cause: error },
    );
  }

  const metrics = createMetrics({ version: denoConfig.version, kafkaClient: config.KAFKA_CLIENT });
  const store = createExecutionStore(db, {
    leaseMs: config.OUTBOX_LEASE_MS,
    onInsert: (rows, seconds) => metrics.observeInsert(rows, seconds),
  });
  const outbox = createOutboxStore(db);

  let publishing: PublishingHandle | undefined;
  if (config.KAFKA_BROKERS.length > 0) {
    // In a worker thread, publishing has its own event loop and core, so HTTP work never delays
    // it; the embedded server takes one connection only, so there it shares the service's.
    const inWorker = config.PUBLISH_IN_WORKER && !embedded && !options.wrapProducer;
    publishing = inWorker
      ? startPublishingWorker({
        init: {
          db: { ...dbOptions(config, embedded), poolMax: PUBLISHING_POOL_MAX },
          client: config.KAFKA_CLIENT,
          kafka: kafkaOptions(config),
          eventSource: config.EVENT_SOURCE,
          settings: publishingSettings(config, tunables),
          logLevel: tunables.LOG_LEVEL,
        },
        logger,
        observer: metrics.publishObserver,
      })
      : createPublishing({
        outbox: outbox.port,
        producer: (options.wrapProducer ?? ((producer) => producer))(
          // The client is loaded by the first send, not on the start path.
          createLazyProducer(() => loadProducer(config.KAFKA_CLIENT, kafkaOptions(config), logger)),
        ),
        logger,
        settings: publishingSettings(config, tunables),
        encode: (execution) => toEventMessage(execution, config.EVENT_SOURCE),
        observer: metrics.publishObserver,
      });
    logger.info(
      {
        brokers: config.KAFKA_BROKERS,
        topic: config.KAFKA_TOPIC,
        client: config.KAFKA_CLIENT,
        thread: inWorker ? "worker" : "main",
      },
      "Publishing to Kafka",
    );
  } else {
    logger.warn(
      {},
      "No KAFKA_BROKERS: publishing is off. Events wait in the outbox and are published once KAFKA_BROKERS is set",
    );
  }
  const sink: EventSink = { offer: (chunk) => publishing?.offer(chunk) };

  metrics.bind({
    channel: {
      get size() {
        return publishing?.status().channelSize ?? 0;
      },
      get capacity() {
        return publishing?.status().channelCapacity ?? 0;
      },
    },
    pool: {
      get active() {
        return db.limiter.active;
      },
      get waiting() {
        return db.limiter.waiting;
      },
      size: db.poolMax,
    },
    outboxStats: () => outbox.stats(),
    kafkaState: () => publishing?.status().kafka ?? "disabled",
  });

  const ingestor = createIngestor({ repository: store.repository, sink, newId: uuidv7 });
  const batchLimiter = createLimiter({
    concurrency: config.BATCH_MAX_CONCURRENT,
    queueMax: config.BATCH_QUEUE_MAX,
    timeoutMs: config.BATCH_QUEUE_TIMEOUT_MS,
  });

  const readiness = createReadiness({
    ping: () => db.run(async (sql) => void await sql`select 1`),
    kafkaStatus: () => publishing?.status().kafka ?? "disabled",
    shuttingDown: () => shuttingDown,
  });
  const bodies = {
    budget: createByteBudget(config.BATCH_BYTES_IN_FLIGHT),
    shuttingDown: () => shuttingDown,
  };

  const app = createApp({
    executions: {
      ingest: ingestor.ingest,
      getExecution: store.getExecution,
      getBatch: store.getBatch,
      batchLimiter,
      bodies,
      limits: () => ({
        maxItems: config.BATCH_MAX_ITEMS,
        maxBytes: config.BATCH_MAX_BYTES,
        readTimeoutMs: config.BATCH_READ_TIMEOUT_MS,
        chunkSize: tunables.BATCH_CHUNK_SIZE,
        // The embedded server has one connection: chunks side by side would only queue.
        chunkConcurrency: embedded ? 1 : config.BATCH_CHUNK_CONCURRENCY,
      }),
    },
    admin: { listDeadLetters: outbox.listDeadLetters, requeue: outbox.requeue },
    ops: { readiness },
    keys: createKeyRing(config.API_KEYS, config.ADMIN_API_KEYS),
    metrics,
    logger,
  });

  const server = options.listener ??
    (options.serve === false
      ? undefined
      : bindListener({ hostname: config.HOST, port: config.PORT }));
  server?.serve(app.fetch);
  const port = server ? server.port : 0;
  const url = server ? server.url : listenUrl(config.HOST, 0);
  logger.info(
    { host: config.HOST, port, url, docs: `${url}/docs`, env: config.APP_ENV },
    `execution-ingest is listening on ${url} (API docs: ${url}/docs)`,
  );

  return {
    app,
    db,
    port,
    url,
    publishing,
    get tunables() {
      return tunables;
    },
    /** Applies new tunables without a restart; logs what changed. */
    reload(next: Tunables) {
      const changed = Object.fromEntries(
        Object.entries(next).filter(([key, value]) => tunables[key as keyof Tunables] !== value),
      );
      tunables = next;
      publishing?.reload(publishingSettings(config, next), next.LOG_LEVEL);
      logger.level = next.LOG_LEVEL;
      logger.info(
        { changed },
        Object.keys(changed).length
          ? "Configuration reloaded"
          : "Configuration reloaded; nothing changed",
      );
    },
    /** The catch-up cron job's work: relay passes until the outbox is empty (publish/catch_up.ts). */
    catchUp: createCatchUpJob({
      relayNow: publishing?.relayNow,
      pending: async () => (await outbox.stats()).pending,
      stopped: () => shuttingDown,
      logger,
    }),
    /**
     * Stops accepting, finishes in-flight requests, flushes what it can, closes every client, all
     * within SHUTDOWN_TIMEOUT_MS. Calling it again joins the shutdown already under way.
     */
    stop(): Promise<void> {
      stopping ??= shutDown();
      return stopping;
    },
  };

  async function shutDown() {
    shuttingDown = true;
    const began = performance.now();
    const left = () => Math.max(0, config.SHUTDOWN_TIMEOUT_MS - (performance.now() - began));
    logger.info({}, "Shutting down: no new connections; finishing requests in flight");
    // Deno's graceful shutdown stops reading request bodies at once (those uploads are answered
    // 503 UPLOAD_INTERRUPTED) but waits for a client that keeps its connection open: that wait
    // ends at the deadline, and the connection with the process. (Aborting Deno.serve's signal
    // once shutdown() began throws BadResource in Deno 2.9, so it cannot cut them here.)
    if (server && !await within(server.shutdown(), left())) {
      logger.warn(
        {},
        "Connections still open at the shutdown deadline; they close as the process exits",
      );
    }
    await publishing?.stop(left());
    // A query still running past the deadline is cut rather than waited for.
    await db.close(Math.ceil(left() / 1000));
    await embedded?.stop();
    logger.info({ durationMs: Math.round(performance.now() - began) }, "Shut down");
    logger.flush();
  }
}

/** True when `work` settled within `ms`; false (leaving it to run on) when the time ran out. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([work.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The service runMain started: the catch-up cron job, registered before it, waits for it. */
const started = Promise.withResolvers<Service>();

async function runMain(options: { cron: boolean }) {
  // The environment is parsed once; `base` is what every SIGHUP layers the file over again.
  let base: Config;
  let config: Config;
  try {
    base = loadConfig(Deno.env.toObject());
    // The tunables file, when set, overrides the environment from the start, as on every SIGHUP.
    config = base.CONFIG_FILE ? { ...base, ...(await readTunables(base, base.CONFIG_FILE)) } : base;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(safeMessage(error));
    Deno.exit(2);
  }
  const logger = createLogger({ level: config.LOG_LEVEL });
  let service: Service;
  try {
    // Bound before the database starts: a port in use is the first thing reported, not the last.
    const listener = bindListener({ hostname: config.HOST, port: config.PORT });
    service = await startService(config, { logger, listener });
    started.resolve(service);
  } catch (error) {
    logger.fatal({ problem: safeMessage(error) }, "Cannot start");
    logger.flush();
    Deno.exit(error instanceof ConfigError ? 2 : 1);
  }
  if (options.cron) {
    logger.info(
      { job: CATCH_UP_CRON_NAME, schedule: CATCH_UP_CRON_SCHEDULE },
      "Deno.cron runs the outbox catch-up every minute, with or without traffic",
    );
  }
  // Ctrl-C in a terminal reaches both `deno task` and the service, so signals come in pairs:
  // a second one joins the shutdown under way instead of cutting it short.
  let exiting = false;
  const stop = async (signal: string) => {
    logger.info({ signal, alreadyShuttingDown: exiting }, "Signal received");
    if (exiting) return;
    exiting = true;
    // Every step of stop() has its deadline; this is the guard should one of them not keep it.
    setTimeout(() => {
      logger.error({}, "Shutdown overran SHUTDOWN_TIMEOUT_MS; exiting now");
      logger.flush();
      Deno.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + 5000);
    await service.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
  Deno.addSignalListener("SIGHUP", async () => {
    if (!base.CONFIG_FILE) {
      logger.warn({}, "SIGHUP received but CONFIG_FILE is not set; nothing to reload");
      return;
    }
    try {
      service.reload(await readTunables(base, base.CONFIG_FILE));
    } catch (error) {
      logger.error(
        { file: base.CONFIG_FILE, problem: safeMessage(error) },
        "Cannot reload the configuration; keeping the current one",
      );
    }
  });
}

/** The tunables file layered over the environment's values. Throws ConfigError. */
async function readTunables(base: Config, path: string): Promise<Tunables> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError([`CONFIG_FILE: cannot read "${path}" (${(error as Error).name})`]);
  }
  return parseTunablesFile(text, tunablesOf(base), path);
}

if (import.meta.main) {
  // Deno Deploy discovers cron jobs by evaluating the entry module's top level before the server
  // starts; one registered later is never run. Without Deno.cron, the relay's timer does the work.
  const cron = registerCatchUpCron(async () => void await (await started.promise).catchUp());
  await runMain({ cron });
}
