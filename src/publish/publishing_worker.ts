// Publishing in a worker thread, as the service sees it: stored chunks go in, reports come out; a worker
// that dies or stops reporting is replaced, and stopping it has a deadline.
import type { Logger, OutboxPort, PublishObserver } from "../domain/ports.ts";
import { errorClass } from "./publisher.ts";
import {
  type PublishingHandle,
  type PublishingSettings,
  type PublishingStatus,
} from "./publishing.ts";
import type {
  PublishingReport,
  PublishingWorkerInit,
  WorkerReply,
  WorkerRequest,
} from "./publishing_worker_entry.ts";

/** Options of startPublishingWorker. */
export interface PublishingWorkerOptions {
  init: Omit<PublishingWorkerInit, "reportEveryMs">;
  /** Where a chunk the worker has no room for is handed back, due at once, instead of posted. */
  outbox: Pick<OutboxPort, "release">;
  logger: Logger;
  observer?: PublishObserver;
  /** Milliseconds between the worker's reports. @default 250 */
  reportEveryMs?: number;
  /** Milliseconds without a report after which the worker counts as stuck and is replaced. @default 15000 */
  silenceMs?: number;
  /** The worker script (tests swap in one that misbehaves). @default ./publishing_worker_entry.ts */
  workerUrl?: URL;
}

/**
 * Starts the worker. Chunks a worker held when it died keep their lease until it ends; then the
 * next worker's relay claims them, so nothing is lost (what was in flight may be sent twice).
 * A stored chunk is posted to the worker only if its bytes fit in the worker's channel beside what
 * it holds and what is still on its way to it; otherwise it waits in the outbox, so the messages
 * queued for the worker never hold more than PUBLISH_CHANNEL_MAX_BYTES.
 */
export function startPublishingWorker(options: PublishingWorkerOptions): PublishingHandle {
  const { logger, observer } = options;
  const reportEveryMs = options.reportEveryMs ?? 250;
  const silenceMs = options.silenceMs ?? 15_000;
  const url = (options.workerUrl ?? new URL("./publishing_worker_entry.ts", import.meta.url)).href;
  let init: PublishingWorkerInit = { ...options.init, reportEveryMs };
  const idle = (): PublishingStatus => ({
    kafka: "unknown",
    channelSize: 0,
    channelCapacity: init.settings.channelCapacity,
    heldBytes: 0,
    offeredBytes: 0,
  });
  let status = idle();
  // Bytes of the chunks posted to the current worker; less its reported offeredBytes, those on
  // their way to it (posted, not yet taken from its message queue).
  let posted = 0;
  let lastHeard = Date.now();
  let stopping = false;
  let onStopped: (() => void) | undefined;
  // Relay passes asked of the worker, by id, until it answers (or dies: then they count 0).
  const relays = new Map<number, (queued: number) => void>();
  let nextRelay = 0;
  const settleRelays = () => {
    for (const resolve of relays.values()) resolve(0);
    relays.clear();
  };
  let worker = spawn();
  const watchdog = setInterval(() => {
    if (!stopping && Date.now() - lastHeard > silenceMs) {
      replace(`it sent no report for ${silenceMs} ms`);
    }
  }, Math.min(silenceMs, 1000));

  function spawn(): Worker {
    const started = new Worker(url, { type: "module" });
    lastHeard = Date.now();
    started.onmessage = ({ data }: MessageEvent<WorkerReply>) => {
      lastHeard = Date.now();
      if (data.type === "log") logger[data.level](data.fields, data.message);
      else if (data.type === "report") apply(data.report);
      else if (data.type === "relayed") {
        relays.get(data.id)?.(data.queued);
        relays.delete(data.id);
      } else if (data.type === "stopped") onStopped?.();
      else logger.error({ problem: data.message }, "The publishing worker failed");
    };
    started.onerror = (event) => {
      event.preventDefault();
      replace(`it stopped (${event.message})`);
    };
    started.postMessage({ type: "init", init } satisfies WorkerRequest);
    return started;
  }

  function replace(reason: string) {
    worker.terminate();
    settleRelays();
    status = idle();
    posted = 0;
    if (stopping) {
      onStopped?.();
      return;
    }
    logger.error({}, `Replacing the publishing worker: ${reason}`);
    worker = spawn();
  }

  function apply(report: PublishingReport) {
    status = report.status;
    if (!observer) return;
    for (const seconds of report.sends) observer.sent(seconds);
    if (report.lags.length > 0) observer.published(report.lags);
    if (report.retried > 0) observer.retried(report.retried);
    if (report.deadLettered > 0) observer.deadLettered(report.deadLettered);
    if (report.unavailable > 0) observer.unavailable(report.unavailable);
  }

  return {
    offer(chunk) {
      // A chunk offered while stopping stays leased in the outbox for whoever runs next.
      if (stopping) return;
      const onItsWay = posted - status.offeredBytes;
      const held = status.heldBytes + onItsWay;
      // An empty worker takes a chunk larger than its bound, as its channel does. While Kafka is
      // down the worker holds only what one send takes (the publisher's bound in force then).
      const { channelMaxBytes, publisher } = init.settings;
      const bound = status.kafka === "down"
        ? Math.min(channelMaxBytes, publisher.batchMaxBytes)
        : channelMaxBytes;
      if (held > 0 && held + chunk.bytes > bound) {
        const release = { id: chunk.id, pendingIds: [], deadLetters: [], whole: true };
        options.outbox.release([release], 0).catch((error) =>
          logger.warn(
            { errorClass: errorClass(error) },
            "Cannot hand a chunk the publishing worker has no room for back to the outbox; its lease ends by itself",
          )
        );
        return;
      }
      posted += chunk.bytes;
      worker.postMessage({ type: "offer", chunk } satisfies WorkerRequest);
    },
    reload(settings: PublishingSettings, logLevel?: string) {
      init = { ...init, settings, logLevel: logLevel ?? init.logLevel };
      worker.postMessage(
        { type: "reload", settings, logLevel: init.logLevel } satisfies WorkerRequest,
      );
    },
    relayNow() {
      if (stopping) return Promise.resolve(0);
      const id = nextRelay++;
      return new Promise<number>((resolve) => {
        relays.set(id, resolve);
        worker.postMessage({ type: "relay", id } satisfies WorkerRequest);
      });
    },
    async stop(deadlineMs) {
      if (stopping) return;
      stopping = true;
      settleRelays();
      clearInterval(watchdog);
      // The worker gets the deadline less a reserve for handing chunks back and closing its
      // clients; at the deadline itself it is terminated, whatever it is doing (what it held then
      // comes due again when its lease ends).
      const reserve = Math.min(2000, Math.floor(deadlineMs / 4));
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        onStopped = resolve;
        timer = setTimeout(() => {
          logger.warn({}, "The publishing worker did not stop in time; terminating it");
          resolve();
        }, deadlineMs);
        worker.postMessage(
          { type: "stop", deadlineMs: Math.max(0, deadlineMs - reserve) } satisfies WorkerRequest,
        );
      });
      clearTimeout(timer);
      worker.terminate();
    },
    status: () => status,
  };
}
