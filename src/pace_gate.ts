// Flow control between storing and publishing: while more events than a cap wait in the outbox
// and Kafka is up, a batch waits a little before it is stored. On a machine whose CPU both share,
// that hands publishing the time it needs to keep pace, instead of falling minutes behind; the wait
// is bounded, so a batch is slowed, never refused, and nothing waits while Kafka is down.
//
// The backlog is read from the outbox, not counted by this instance: events that another
// instance's relay publishes leave it as they do for the instance that stored them, and an empty
// outbox opens the gate on every instance at once.

/** What the gate reads, each time it looks. */
export interface PaceGateDeps {
  /** Events stored and not yet published, by every instance on the database (the outbox). */
  pending(): Promise<number>;
  /** Whether Kafka is reachable: while it is not, nothing waits (batches must keep succeeding). */
  kafkaUp(): boolean;
  /** The cap, in events; 0 turns the gate off. */
  max(): number;
  /** Longest wait of one batch, in milliseconds; then it is stored anyway. */
  maxWaitMs(): number;
}

/** Options of createPaceGate. */
export interface PaceGateOptions {
  /**
   * How long one reading of the outbox serves every batch that asks, in milliseconds: under load
   * the outbox is read a few times a second, not once per batch. @default 100
   */
  freshMs?: number;
}

/** Milliseconds between looks at the backlog while waiting. */
const STEP_MS = 10;

/** Creates the gate; `wait()` resolves with the milliseconds it held the batch back. */
export function createPaceGate(deps: PaceGateDeps, options: PaceGateOptions = {}) {
  const freshMs = options.freshMs ?? 100;
  let last = { at: -Infinity, value: 0 };
  let reading: Promise<number> | undefined;

  /** The outbox's pending events, read again once the last reading is older than freshMs. */
  function pending(): Promise<number> {
    if (performance.now() - last.at < freshMs) return Promise.resolve(last.value);
    reading ??= deps.pending().then(
      (value) => {
        last = { at: performance.now(), value };
        return value;
      },
      // A database that cannot answer fails the batch's own insert; the gate does not add a wait.
      () => 0,
    ).finally(() => reading = undefined);
    return reading;
  }

  async function open(): Promise<boolean> {
    const max = deps.max();
    return max <= 0 || !deps.kafkaUp() || (await pending()) < max;
  }

  return {
    async wait(): Promise<number> {
      if (await open()) return 0;
      const began = performance.now();
      const until = began + deps.maxWaitMs();
      while (performance.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, STEP_MS));
        if (await open()) break;
      }
      return performance.now() - began;
    },
  };
}
