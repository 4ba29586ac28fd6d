// A bounded in-memory channel: producers never block (what does not fit is refused), consumers wait.

/** Options of createChannel. */
export interface ChannelOptions<T> {
  /** Most weight held at once; may be changed at run time with setCapacity. */
  capacity: number;
  /** An item's weight (a chunk weighs its events). @default every item weighs 1 */
  weight?: (item: T) => number;
}

/** A bounded multi-producer, multi-consumer channel, measured in weight. */
export interface Channel<T> {
  /**
   * Adds items in order while the channel holds less than its capacity (an item is taken whole,
   * so the channel may go over by less than one item); returns how many it took. Never blocks.
   */
  offer(items: readonly T[]): number;
  /** Puts items back in front, whatever the capacity (they were taken from it a moment ago). */
  putBack(items: readonly T[]): void;
  /**
   * Waits until an item is there (or the channel closes), then takes items up to `max` weight;
   * at least one, however heavy, when `max` is positive.
   */
  take(max: number): Promise<T[]>;
  /** Takes items up to `max` weight (at least one when `max` is positive) without waiting. */
  drain(max: number): T[];
  /** Every item held, without taking it. */
  peek(): readonly T[];
  setCapacity(capacity: number): void;
  /** Wakes every waiting consumer with an empty list; later offers take nothing. */
  close(): void;
  /** The weight held. */
  readonly size: number;
  readonly capacity: number;
  readonly closed: boolean;
}

/** Creates a channel. */
export function createChannel<T>(options: ChannelOptions<T>): Channel<T> {
  let capacity = options.capacity;
  const weight = options.weight ?? (() => 1);
  let closed = false;
  // A ring would save the shift cost, but takes are batched (hundreds of events at a time).
  let items: T[] = [];
  let size = 0;
  const waiters: Array<() => void> = [];

  function wake() {
    while (waiters.length > 0 && (items.length > 0 || closed)) waiters.shift()!();
  }

  function drain(max: number): T[] {
    if (max <= 0) return [];
    let count = 0, taken = 0;
    while (count < items.length) {
      const w = weight(items[count]);
      if (count > 0 && taken + w > max) break;
      taken += w;
      count++;
    }
    size -= taken;
    if (count === items.length) {
      const all = items;
      items = [];
      return all;
    }
    return items.splice(0, count);
  }

  return {
    offer(incoming) {
      if (closed) return 0;
      let taken = 0;
      while (taken < incoming.length && size < capacity) {
        const item = incoming[taken++];
        items.push(item);
        size += weight(item);
      }
      if (taken > 0) wake();
      return taken;
    },
    putBack(returned) {
      if (returned.length === 0) return;
      items = [...returned, ...items];
      for (const item of returned) size += weight(item);
      wake();
    },
    async take(max) {
      while (items.length === 0 && !closed) {
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return drain(max);
    },
    drain,
    peek: () => items,
    setCapacity(next) {
      capacity = next;
    },
    close() {
      closed = true;
      wake();
    },
    get size() {
      return size;
    },
    get capacity() {
      return capacity;
    },
    get closed() {
      return closed;
    },
  };
}
