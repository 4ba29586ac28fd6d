// The outbox relay: every interval, lease the pending events whose time has come and feed the channel.
import type { StoredExecution } from "../domain/execution.ts";
import type { Logger, OutboxPort } from "../domain/ports.ts";
import type { Channel } from "./channel.ts";
import { errorClass } from "./publisher.ts";

/** Relay settings. */
export interface RelaySettings {
  /** Time between passes, in milliseconds. @default 1000 */
  intervalMs: number;
  /** Most events leased per pass. @default 2000 */
  batchMax: number;
  /** How long a leased event is left to this instance before others may take it. @default 10000 */
  leaseMs: number;
}

/** What createRelay needs. */
export interface RelayDeps {
  outbox: OutboxPort;
  channel: Channel<StoredExecution>;
  logger: Logger;
  settings: () => RelaySettings;
}

/** Creates the relay; start() runs it until stop(). */
export function createRelay(deps: RelayDeps) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = true;
  let current: Promise<number> = Promise.resolve(0);

  /** One pass: leases only as many events as the channel has room for. Returns how many it queued. */
  async function pass(): Promise<number> {
    const { batchMax, leaseMs } = deps.settings();
    const room = Math.min(batchMax, deps.channel.capacity - deps.channel.size);
    if (room <= 0) return 0;
    try {
      const due = await deps.outbox.claimDue(room, leaseMs);
      if (due.length === 0) return 0;
      const queued = deps.channel.offer(due);
      deps.logger.info({ claimed: due.length, queued }, "Relayed pending outbox events");
      return queued;
    } catch (error) {
      deps.logger.warn(
        { errorClass: errorClass(error) },
        "Outbox relay pass failed; will try again",
      );
      return 0;
    }
  }

  function schedule(delayMs: number) {
    if (stopped) return;
    timer = setTimeout(() => {
      current = pass();
      // A full pass suggests more is due: go again at once rather than after a whole interval.
      current.then((queued) =>
        schedule(queued >= deps.settings().batchMax ? 0 : deps.settings().intervalMs)
      );
    }, delayMs);
  }

  return {
    pass,
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(0);
    },
    /** Stops scheduling and waits for a pass in progress. */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
