// The outbox relay: lease the due chunks nobody holds (what a full channel, an outage or a stopped
// instance left behind) and hand them to the publisher, every interval; pass() runs one at once.
import type { Logger, OutboxPort } from "../domain/ports.ts";
import type { Publisher } from "./publisher.ts";
import { errorClass } from "./publisher.ts";

/** Relay settings. */
export interface RelaySettings {
  /** Time between passes, in milliseconds. @default 1000 */
  intervalMs: number;
  /** Most events leased per pass. @default 5000 */
  batchMax: number;
  /** Most estimated bytes leased per pass (one chunk at least, whatever its size). @default 4194304 */
  batchMaxBytes: number;
  /** How long a claimed chunk is left to this instance before others may take it. @default 10000 */
  leaseMs: number;
}

/** What createRelay needs. */
export interface RelayDeps {
  outbox: OutboxPort;
  publisher: Pick<Publisher, "accept" | "heldIds" | "room" | "roomBytes">;
  logger: Logger;
  settings: () => RelaySettings;
}

/** Creates the relay; start() runs it until stop(). */
export function createRelay(deps: RelayDeps) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = true;
  let current: Promise<number> = Promise.resolve(0);

  /**
   * One pass: leases only as many events and bytes as the publisher has room for, skipping the
   * chunks it already holds (so no event is sent twice by one instance). Returns how many events
   * it handed over.
   */
  async function pass(): Promise<number> {
    const { batchMax, batchMaxBytes, leaseMs } = deps.settings();
    const room = Math.min(batchMax, deps.publisher.room);
    const roomBytes = Math.min(batchMaxBytes, deps.publisher.roomBytes);
    if (room <= 0 || roomBytes <= 0) return 0;
    try {
      const due = await deps.outbox.claimDue(room, leaseMs, deps.publisher.heldIds(), roomBytes);
      if (due.length === 0) return 0;
      const queued = await deps.publisher.accept(due);
      const unreadable = due.reduce((n, chunk) => n + chunk.unreadable.length, 0);
      if (unreadable > 0) {
        deps.logger.error(
          { chunks: due.length, unreadable },
          "Outbox events whose execution cannot be read were kept as dead letters",
        );
      }
      deps.logger.debug({ chunks: due.length, queued }, "Relayed pending outbox events");
      return queued;
    } catch (error) {
      deps.logger.warn(
        { errorClass: errorClass(error) },
        "Outbox relay pass failed; will try again",
      );
      return 0;
    }
  }

  /** Runs passes back to back while they find work, then waits an interval. */
  async function run() {
    try {
      let queued: number;
      do {
        current = pass();
        queued = await current;
      } while (!stopped && queued > 0);
    } finally {
      if (!stopped) timer = setTimeout(run, deps.settings().intervalMs);
    }
  }

  return {
    pass,
    start() {
      if (!stopped) return;
      stopped = false;
      void run();
    },
    /** Stops scheduling and waits for a pass in progress. */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
