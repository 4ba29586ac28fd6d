// Composition root: builds every part of the service from the configuration and hands each its
// settings, serves HTTP, reloads on SIGHUP and shuts down cleanly. No policy of its own lives here.
import { v7 as uuidv7 } from "uuid";
import denoConfig from "../deno.json" with { type: "json" };
import { createApp } from "./app.ts";
import { type Config, ConfigError, loadConfig, readTunablesFile, type Tunables } from "./config.ts";
import { createBatchRetention } from "./db/batch_retention.ts";
import { createBatchStore } from "./db/batch_store.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { createExecutionStore } from "./db/execution_store.ts";
import { createOutboxStore, type OutboxStore } from "./db/outbox_store.ts";
import { createSessionRevocations } from "./db/session_revocations.ts";
import { createIngestor } from "./domain/ingest.ts";
import type { EventProducer, Logger } from "./domain/ports.ts";
import { createKeyRing } from "./http/auth.ts";
import { createByteBudget } from "./http/byte_budget.ts";
import { bindListener, type Listener } from "./http/listener.ts";
import { memoryCheck } from "./memory_budget.ts";
import { createLimiter } from "./limiter.ts";
import { createPaceGate } from "./pace_gate.ts";
import { type AppLogger, createLogger } from "./logger.ts";
import { createMetrics, type Metrics } from "./metrics/metrics.ts";
import { toEventMessage } from "./publish/event.ts";
import {
  CATCH_UP_CRON_NAME,
  CATCH_UP_CRON_SCHEDULE,
  createCatchUpJob,
  registerCatchUpCron,
} from "./publish/catch_up.ts";
import { createLazyProducer, loadProducer } from "./publish/load_producer.ts";
import { createPublishing, type PublishingHandle } from "./publish/publishing.ts";
import { startPublishingWorker } from "./publish/publishing_worker.ts";
import { safeMessage } from "./redact.ts";
import {
  batchLimits,
  createLiveSettings,
  databaseOptions,
  kafkaOptions,
  type LiveSettings,
  memoryBounds,
} from "./settings.ts";

/** Options for tests and tools that start the service in-process. */
export interface StartOptions {
  logger?: AppLogger;
  /** Passed to the pool: sees every statement's text. */
  onQuery?: (query: string) => void;
  /** Wraps the Kafka producer (tests inject send failures through it). */
  wrapProducer?: (producer: EventProducer) => EventProducer;
  /** A port bound beforehand (runMain binds first, so a port in use is reported before any I/O). */
  listener?: Listener;
}

/** A running service. */
export type Service = Awaited<ReturnType<typeof startService>>;

/** Starts every part of the service from a parsed configuration. */
export async function startService(config: Config, options: StartOptions = {}) {
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL });
  const keys = createKeyRing(config.API_KEYS, config.ADMIN_API_KEYS);
  if (!keys.enabled) {
    logger.warn(
      {},
      "ACCESS CONTROL IS OFF: no API_KEYS or ADMIN_API_KEYS are set; anyone who can reach this port can write and re-queue. Never run like this in production",
    );
  }
  const settings = createLiveSettings(config);
  let shuttingDown = false;
  let stopping: Promise<void> | undefined;

  const database = await openDatabase(
    { ...databaseOptions(config), onQuery: options.onQuery },
    logger,
  );
  const { db } = database;
  const metrics = createMetrics({ version: denoConfig.version, kafkaClient: config.KAFKA_CLIENT });
  const store = createExecutionStore(db, {
    leaseMs: config.OUTBOX_LEASE_MS,
    onInsert: (rows, seconds) => metrics.observeInsert(rows, seconds),
  });
  const outbox = createOutboxStore(db);
  const publishing = startPublishing(config, settings, {
    database,
    outbox,
    logger,
    metrics,
    wrapProducer: options.wrapProducer,
  });
  const kafkaState = () => publishing?.status().kafka ?? "disabled";
  settings.onChange((next) => {
    publishing?.reload(settings.publishing(), next.LOG_LEVEL);
    logger.level = next.LOG_LEVEL;
  });

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
    kafkaState,
  });

  const ingestor = createIngestor({
    repository: store.repository,
    sink: { offer: (chunk) => publishing?.offer(chunk) },
    newId: uuidv7,
    settings: settings.ingest(db.poolMax),
    onRecordFailure: (batchId, error, failuresDropped) => {
      metrics.observeRecordFailure(failuresDropped ? "failures" : "batch");
      logger.error(
        {
          batchId,
          kind: error.kind,
          error: error.message,
          part: failuresDropped ? "failures" : "batch",
        },
        failuresDropped
          ? "Cannot save the batch's failed items; saving the batch without them"
          : "Cannot save the batch's record; GET /v1/batches/{batchId} will not find it",
      );
    },
  });
  const batch = {
    ingest: ingestor.ingest,
    batchLimiter: createLimiter({
      concurrency: config.BATCH_MAX_CONCURRENT,
      queueMax: config.BATCH_QUEUE_MAX,
      timeoutMs: config.BATCH_QUEUE_TIMEOUT_MS,
    }),
    pace: createPaceGate({
      pending: outbox.pendingEvents,
      kafkaUp: () => kafkaState() === "up",
      max: () => settings.tunables.PUBLISH_BACKLOG_MAX,
      maxWaitMs: () => settings.tunables.PUBLISH_BACKLOG_WAIT_MS,
    }),
    bodies: {
      budget: createByteBudget(config.BATCH_BYTES_IN_FLIGHT),
      shuttingDown: () => shuttingDown,
    },
    limits: batchLimits(config),
  };
  const app = createApp({
    executions: { ...batch, getExecution: store.getExecution, batches: createBatchStore(db) },
    admin: { listDeadLetters: outbox.listDeadLetters, requeue: outbox.requeue },
    console: {
      sessions: {
        // Without a configured secret, sessions last as long as this process.
        secret: config.CONSOLE_SESSION_SECRET ??
          Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16)).join(""),
        ttlSeconds: config.CONSOLE_SESSION_TTL_MIN * 60,
        revocations: createSessionRevocations(db),
      },
      formMaxBytes: config.CONSOLE_FORM_MAX_BYTES,
      publishing: {
        view: async () => {
          const stats = await outbox.stats();
          return {
            kafka: kafkaState(),
            pending: stats.pending,
            oldestPendingSeconds: stats.oldestPendingSeconds,
            deadLetters: stats.failed,
            ratePerSecond: metrics.publishRate(),
          };
        },
        listDeadLetters: outbox.listDeadLetters,
        requeue: outbox.requeue,
      },
    },
    cli: { bundlePath: config.CLI_BUNDLE_PATH },
    ops: {
      readiness: { ping: database.ping, kafkaStatus: kafkaState, shuttingDown: () => shuttingDown },
    },
    keys,
    metrics,
    logger,
  });

  const retention = createBatchRetention(db, { days: config.BATCH_RETENTION_DAYS, logger });
  retention.start();

  const server = options.listener ?? bindListener({ hostname: config.HOST, port: config.PORT });
  server.serve(app.fetch);
  const { port, url } = server;
  logger.info(
    { host: config.HOST, port, url, docs: `${url}/docs`, env: config.APP_ENV },
    `execution-ingest is listening on ${url} (API docs: ${url}/docs)`,
  );

  return {
    app,
    db,
    /** Deletes batches past BATCH_RETENTION_DAYS now (it also runs at start and every hour). */
    sweepBatches: retention.sweep,
    port,
    url,
    publishing,
    get tunables() {
      return settings.tunables;
    },
    /** Applies new tunables without a restart; logs what changed. */
    reload(next: Tunables) {
      const changed = settings.replace(next);
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
      pending: outbox.pendingEvents,
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
    if (!await within(server.shutdown(), left())) {
      logger.warn(
        {},
        "Connections still open at the shutdown deadline; they close as the process exits",
      );
    }
    await publishing?.stop(left());
    await retention.stop();
    // A query still running past the deadline is cut rather than waited for.
    await database.close(Math.ceil(left() / 1000));
    logger.info({ durationMs: Math.round(performance.now() - began) }, "Shut down");
    logger.flush();
  }
}

/** Connections of the publishing worker's own pool: the relay's claims and the settles. */
const PUBLISHING_POOL_MAX = 2;

/** Publishing to Kafka, in a worker thread where the database allows a second pool; none without brokers. */
function startPublishing(
  config: Config,
  settings: LiveSettings,
  deps: {
    database: Database;
    outbox: OutboxStore;
    logger: Logger;
    metrics: Metrics;
    wrapProducer?: StartOptions["wrapProducer"];
  },
): PublishingHandle | undefined {
  const { logger, metrics } = deps;
  if (config.KAFKA_BROKERS.length === 0) {
    logger.warn(
      {},
      "No KAFKA_BROKERS: publishing is off. Events wait in the outbox and are published once KAFKA_BROKERS is set",
    );
    return undefined;
  }
  // In a worker thread, publishing has its own event loop and core, so HTTP work never delays
  // it; a database that serves one connection (the embedded one) keeps it in this thread.
  const workerPool = deps.database.secondPool(PUBLISHING_POOL_MAX);
  const inWorker = config.PUBLISH_IN_WORKER && workerPool !== undefined && !deps.wrapProducer;
  const kafka = kafkaOptions(config);
  const publishing = inWorker
    ? startPublishingWorker({
      init: {
        db: workerPool,
        client: config.KAFKA_CLIENT,
        kafka,
        eventSource: config.EVENT_SOURCE,
        settings: settings.publishing(),
        logLevel: settings.tunables.LOG_LEVEL,
      },
      outbox: deps.outbox.port,
      logger,
      observer: metrics.publishObserver,
    })
    : createPublishing({
      outbox: deps.outbox.port,
      producer: (deps.wrapProducer ?? ((producer) => producer))(
        // The client is loaded by the first send, not on the start path.
        createLazyProducer(() => loadProducer(config.KAFKA_CLIENT, kafka, logger)),
      ),
      logger,
      settings: settings.publishing(),
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
  return publishing;
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
    config = base.CONFIG_FILE
      ? { ...base, ...(await readTunablesFile(base, base.CONFIG_FILE)) }
      : base;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(safeMessage(error));
    Deno.exit(2);
  }
  // A heap below what the byte bounds allow would die under legal load: refused like a bad setting.
  const memory = memoryCheck(memoryBounds(config), config.DENO_DEPLOYMENT_ID !== undefined);
  if (memory.problem) {
    console.error(memory.problem);
    Deno.exit(2);
  }
  const logger = createLogger({ level: config.LOG_LEVEL });
  if (memory.warning) logger.warn({}, memory.warning);
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
      service.reload(await readTunablesFile(base, base.CONFIG_FILE));
    } catch (error) {
      logger.error(
        { file: base.CONFIG_FILE, problem: safeMessage(error) },
        "Cannot reload the configuration; keeping the current one",
      );
    }
  });
}

if (import.meta.main) {
  // Deno Deploy discovers cron jobs by evaluating the entry module's top level before the server
  // starts; one registered later is never run. Without Deno.cron, the relay's timer does the work.
  const cron = registerCatchUpCron(async () => void await (await started.promise).catchUp());
  await runMain({ cron });
}
