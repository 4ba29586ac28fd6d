// A bounded in-memory channel: producers never block (what does not fit is refused), consumers wait.

/** Options of createChannel. */
export interface ChannelOptions {
  /** Most items held at once; may be changed at run time with setCapacity. */
  capacity: number;
}

/** A bounded multi-producer, multi-consumer channel. */
export interface Channel<T> {
  /** Adds as many of `items` as fit, in order; returns how many were taken. Never blocks. */
  offer(items: readonly T[]): number;
  /** Waits until at least one item is there (or the channel closes), then takes up to `max`. */
  take(max: number): Promise<T[]>;
  /** Takes up to `max` items at once without waiting. */
  drain(max: number): T[];
  setCapacity(capacity: number): void;
  /** Wakes every waiting consumer with an empty list; later takes return at once. */
  close(): void;
  readonly size: number;
  readonly capacity: number;
  readonly closed: boolean;
}

/** Creates a channel. */
export function createChannel<T>(options: ChannelOptions): Channel<T> {
  let capacity = options.capacity;
  let closed = false;
  // A ring would save the shift cost, but takes are batched (hundreds at a time) so splice is cheap.
  let items: T[] = [];
  const waiters: Array<() => void> = [];

  function wake() {
    while (waiters.length > 0 && (items.length > 0 || closed)) waiters.shift()!();
  }

  return {
    offer(incoming) {
      if (closed) return 0;
      const room = Math.max(0, capacity - items.length);
      const taken = Math.min(room, incoming.length);
      for (let i = 0; i < taken; i++) items.push(incoming[i]);
      if (taken > 0) wake();
      return taken;
    },
    async take(max) {
      while (items.length === 0 && !closed) {
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return this.drain(max);
    },
    drain(max) {
      if (items.length <= max) {
        const all = items;
        items = [];
        return all;
      }
      return items.splice(0, max);
    },
    setCapacity(next) {
      capacity = next;
    },
    close() {
      closed = true;
      wake();
    },
    get size() {
      return items.length;
    },
    get capacity() {
      return capacity;
    },
    get closed() {
      return closed;
    },
  };
}
