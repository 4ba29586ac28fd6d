// Flow control between storing and publishing: while more events than a cap wait to be published
// and Kafka is up, a batch waits a little before it is stored. On a machine whose CPU both share,
// that hands publishing the time it needs to keep pace, instead of falling minutes behind; the wait
// is bounded, so a batch is slowed, never refused, and nothing waits while Kafka is down.

/** What the gate reads, each time it looks. */
export interface PaceGateDeps {
  /** Events stored and not yet published that this instance holds. */
  backlog(): number;
  /** Whether Kafka is reachable: while it is not, nothing waits (batches must keep succeeding). */
  kafkaUp(): boolean;
  /** The cap, in events; 0 turns the gate off. */
  max(): number;
  /** Longest wait of one batch, in milliseconds; then it is stored anyway. */
  maxWaitMs(): number;
}

/** Milliseconds between looks at the backlog while waiting. */
const STEP_MS = 10;

/** Creates the gate; `wait()` resolves with the milliseconds it held the batch back. */
export function createPaceGate(deps: PaceGateDeps) {
  const open = () => {
    const max = deps.max();
    return max <= 0 || !deps.kafkaUp() || deps.backlog() < max;
  };
  return {
    async wait(): Promise<number> {
      if (open()) return 0;
      const began = performance.now();
      const until = began + deps.maxWaitMs();
      while (!open() && performance.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, STEP_MS));
      }
      return performance.now() - began;
    },
  };
}
