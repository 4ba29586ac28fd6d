// Outbox catch-up without traffic: a Deno.cron job (Deno Deploy runs it once a minute, starting an
// instance when none runs) makes relay passes until the outbox is empty, so the events a stopped
// instance left leased are published even when no request ever comes again.

import type { Logger } from "../domain/ports.ts";
import { safeMessage } from "../redact.ts";

/** The cron job's name, as Deno Deploy's dashboard and logs show it. */
export const CATCH_UP_CRON_NAME = "execution-ingest outbox catch-up";
/** Every minute, the shortest schedule cron allows. */
export const CATCH_UP_CRON_SCHEDULE = "* * * * *";

/** What a catch-up needs from the running service. */
export interface CatchUpDeps {
  /** One relay pass now; the number of events it handed to the publisher. */
  relayNow(): Promise<number>;
  /** Events still in the outbox (leased or due), dead letters aside. */
  pending(): Promise<number>;
  /** True once the service is shutting down: the catch-up ends at once. */
  stopped(): boolean;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** @default performance.now */
  now?: () => number;
}

/** Options of catchUp. */
export interface CatchUpOptions {
  /**
   * Longest run, in milliseconds: below the schedule's minute so that runs never overlap, and
   * longer than a lease, so that a stopped instance's chunks come due within one run.
   * @default 50000
   */
  budgetMs?: number;
  /** Pause between passes while events remain, in milliseconds. @default 1000 */
  stepMs?: number;
}

/** What one catch-up did. */
export interface CatchUpResult {
  passes: number;
  /** Events handed to the publisher by these passes (not counting what the relay's timer took). */
  handedOver: number;
  /** Events still in the outbox when it ended; 0 unless other instances hold some, or time ran out. */
  pendingLeft: number;
}

/**
 * Runs relay passes until the outbox is empty, the budget is spent or the service stops. Chunks
 * still leased to a stopped instance come due when the lease ends (OUTBOX_LEASE_MS, 10 s by
 * default); until then passes find nothing and the run waits, which also keeps the instance that
 * runs the job alive while the events it took are sent.
 */
export async function catchUp(
  deps: CatchUpDeps,
  options: CatchUpOptions = {},
): Promise<CatchUpResult> {
  const now = deps.now ?? (() => performance.now());
  const sleep = deps.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const budgetMs = options.budgetMs ?? 50_000;
  const stepMs = options.stepMs ?? 1000;
  const began = now();
  const left = () => budgetMs - (now() - began);
  let passes = 0;
  let handedOver = 0;
  for (;;) {
    const pendingLeft = await deps.pending();
    if (pendingLeft === 0 || deps.stopped() || left() <= 0) {
      return { passes, handedOver, pendingLeft };
    }
    const queued = await deps.relayNow();
    passes++;
    handedOver += queued;
    // A pass that found work is followed by another at once: the publisher may have room for more.
    if (queued === 0) await sleep(Math.min(stepMs, Math.max(0, left())));
  }
}

/**
 * The catch-up as the running service offers it: timed and logged, never throwing (a failed run is
 * logged and the next one tries again). Undefined when publishing is off or the run failed.
 */
export function createCatchUpJob(
  deps: Omit<CatchUpDeps, "relayNow"> & { relayNow?: CatchUpDeps["relayNow"]; logger: Logger },
) {
  return async (options?: CatchUpOptions): Promise<CatchUpResult | undefined> => {
    if (!deps.relayNow) return;
    const began = performance.now();
    try {
      const result = await catchUp({ ...deps, relayNow: deps.relayNow }, options);
      const durationMs = Math.round(performance.now() - began);
      deps.logger.info({ ...result, durationMs }, "Outbox catch-up done");
      return result;
    } catch (error) {
      deps.logger.warn(
        { problem: safeMessage(error) },
        "Outbox catch-up failed; the next run tries again",
      );
    }
  };
}

/** The runtime's Deno.cron, where it has one. */
type Cron = (name: string, schedule: string, handler: () => Promise<void>) => Promise<void>;

/**
 * Registers `job` as the catch-up cron job when the runtime offers Deno.cron (Deno Deploy; locally
 * with `"unstable": ["cron"]` in deno.json); returns whether it did. Deno Deploy finds cron jobs by
 * evaluating the entry module's top level, so call this there, before the server starts.
 */
export function registerCatchUpCron(
  job: () => Promise<void>,
  runtime: { cron?: Cron } = Deno as unknown as { cron?: Cron },
): boolean {
  if (typeof runtime.cron !== "function") return false;
  // The promise settles only when the job is closed, which this service never does.
  void runtime.cron(CATCH_UP_CRON_NAME, CATCH_UP_CRON_SCHEDULE, job);
  return true;
}
