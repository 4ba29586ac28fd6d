// The in-process tier's service: createApp(deps) with the real ingest use case, limiter, body budget
// and metrics over the shared fakes (tests/_fakes/), asked through app.request(): no port, no
// database, no broker, so a route's behaviour is tested in milliseconds.
import { createApp } from "../src/app.ts";
import { createIngestor, type IngestSettings } from "../src/domain/ingest.ts";
import { createKeyRing } from "../src/http/auth.ts";
import type { BatchLimits } from "../src/http/batch_body.ts";
import { createByteBudget } from "../src/http/byte_budget.ts";
import type { ReadinessDeps } from "../src/http/ops_routes.ts";
import { createLimiter } from "../src/limiter.ts";
import { createMetrics } from "../src/metrics/metrics.ts";
import { recordingLogger } from "./_fakes/fixtures.ts";
import { fakeSink, fakeStore } from "./_fakes/store.ts";

/** Options of createTestApp; every one has the service's default unless said. */
export interface TestAppOptions {
  userKeys?: string[];
  adminKeys?: string[];
  /** The ingest use case's settings, read at each batch (change them through `settings`). */
  settings?: IngestSettings;
  limits?: Partial<BatchLimits>;
  /** Batches handled at once, and waiting. @default 16 and 256 */
  batchConcurrency?: number;
  batchQueueMax?: number;
  /** Bytes of bodies held at once. @default 25165824 */
  bytesInFlight?: number;
  readiness?: Partial<ReadinessDeps>;
}

/** Builds the app over fresh fakes; `request` is app.request with a base URL. */
export function createTestApp(options: TestAppOptions = {}) {
  const store = fakeStore();
  const { logger, lines } = recordingLogger();
  const metrics = createMetrics({ version: "test", kafkaClient: "platformatic" });
  const settings: IngestSettings = { chunkSize: 500, chunkConcurrency: 2, ...options.settings };
  const published = fakeSink();
  let shuttingDown = false;
  const ingestor = createIngestor({
    repository: store.repository,
    sink: published.sink,
    newId: () => crypto.randomUUID(),
    settings: () => settings,
  });
  const app = createApp({
    executions: {
      ingest: ingestor.ingest,
      batchLimiter: createLimiter({
        concurrency: options.batchConcurrency ?? 16,
        queueMax: options.batchQueueMax ?? 256,
        timeoutMs: 15_000,
      }),
      bodies: {
        budget: createByteBudget(options.bytesInFlight ?? 24 * 1024 * 1024),
        shuttingDown: () => shuttingDown,
      },
      limits: {
        maxItems: 10_000,
        maxBytes: 16 * 1024 * 1024,
        readTimeoutMs: 30_000,
        maxValues: 500_000,
        ...options.limits,
      },
      getExecution: store.getExecution,
      batches: store.batches,
    },
    // Mounted for access control (a user key is refused there); the routes' work is tested
    // against the real service, so there are no dead letters here.
    admin: {
      listDeadLetters: () => Promise.resolve([]),
      requeue: (ids) => Promise.resolve(ids?.length ?? 0),
    },
    ops: {
      readiness: {
        ping: () => Promise.resolve(),
        kafkaStatus: () => "up",
        shuttingDown: () => shuttingDown,
        ...options.readiness,
      },
    },
    keys: createKeyRing(options.userKeys ?? [], options.adminKeys ?? []),
    metrics,
    logger,
  });
  return {
    app,
    store,
    /** The ingest use case's settings: a test changes them as a reload would. */
    settings,
    /** Lines the app logged. */
    lines,
    /** Chunk ids handed to publishing. */
    offered: published.chunkIds,
    /** Makes the app's readiness and body reading see a shutdown under way. */
    shutDown: () => void (shuttingDown = true),
    request: async (path: string, init?: RequestInit): Promise<Response> =>
      await app.request(new Request(`http://in-process${path}`, init)),
  };
}

/** POSTs a JSON batch to the in-process app. */
export function postBatch(
  test: ReturnType<typeof createTestApp>,
  items: unknown[],
  headers: Record<string, string> = {},
): Promise<Response> {
  const body = JSON.stringify({ executions: items });
  return test.request("/v1/executions/batch", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "content-length": String(new TextEncoder().encode(body).length),
      ...headers,
    },
    body,
  });
}
