// A sliding-window rate: events counted per second over the last minute, for the operator console.

/** Options of createRateMeter. */
export interface RateMeterOptions {
  /** Seconds the rate is averaged over. @default 60 */
  windowSeconds?: number;
  /** The clock, in milliseconds. @default Date.now */
  now?: () => number;
}

/** Counts events in one-second buckets and gives their rate over the window. */
export function createRateMeter(options: RateMeterOptions = {}) {
  const window = options.windowSeconds ?? 60;
  const now = options.now ?? Date.now;
  const counts = new Float64Array(window);
  // The second each bucket last counted; a bucket from an older lap of the ring is stale.
  const seconds = new Float64Array(window).fill(-Infinity);
  const started = Math.floor(now() / 1000);

  return {
    /** Counts `n` events now. */
    add(n: number) {
      const second = Math.floor(now() / 1000);
      const slot = second % window;
      if (seconds[slot] !== second) {
        seconds[slot] = second;
        counts[slot] = 0;
      }
      counts[slot] += n;
    },
    /** Events per second over the window (over the time since start while that is shorter). */
    perSecond(): number {
      const second = Math.floor(now() / 1000);
      let total = 0;
      for (let slot = 0; slot < window; slot++) {
        if (second - seconds[slot] < window) total += counts[slot];
      }
      return total / Math.max(1, Math.min(window, second - started + 1));
    },
  };
}
