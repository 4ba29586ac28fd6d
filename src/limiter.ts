// A counting semaphore with a bounded wait queue and a deadline: callers get a clear "saturated"
// answer instead of an unbounded pile-up (used in front of the pool and of batch requests).

/** Thrown when no slot can be had: the queue is full or the deadline passed. */
export class SaturatedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SaturatedError";
  }
}

/** Options of createLimiter. */
export interface LimiterOptions {
  /** How many tasks run at once. */
  concurrency: number;
  /** How many tasks may wait; one more is refused at once. @default 1000 */
  queueMax?: number;
  /** How long a task may wait for a slot, in milliseconds. @default 10000 */
  timeoutMs?: number;
}

/** A running limiter: `run` waits for a slot, runs the task, and frees the slot. */
export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Tasks running now. */
  readonly active: number;
  /** Tasks waiting for a slot now. */
  readonly waiting: number;
}

/** Creates a limiter. */
export function createLimiter(options: LimiterOptions): Limiter {
  const queueMax = options.queueMax ?? 1000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let active = 0;
  const queue: Array<{ grant: () => void; timer: ReturnType<typeof setTimeout> }> = [];

  function acquire(): Promise<void> {
    if (active < options.concurrency) {
      active++;
      return Promise.resolve();
    }
    if (queue.length >= queueMax) {
      return Promise.reject(new SaturatedError(`${queue.length} tasks are already waiting`));
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          clearTimeout(entry.timer);
          resolve();
        },
        timer: setTimeout(() => {
          queue.splice(queue.indexOf(entry), 1);
          reject(new SaturatedError(`no slot was free within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      queue.push(entry);
    });
  }

  function release() {
    const next = queue.shift();
    // The slot passes straight to the next waiter, so `active` is unchanged.
    if (next) next.grant();
    else active--;
  }

  return {
    async run(task) {
      await acquire();
      try {
        return await task();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
  };
}
