// A bounded in-memory channel: producers never block (what does not fit is refused), consumers wait.

/** Options of createChannel. */
export interface ChannelOptions<T> {
  /** Most weight held at once; may be changed at run time with setCapacity. */
  capacity: number;
  /** An item's weight (a chunk weighs its events). @default every item weighs 1 */
  weight?: (item: T) => number;
  /**
   * Most bytes held at once, a second bound beside the weight; may be changed with setCapacity.
   * Unlike the weight it is never exceeded, but by a single item larger than it in an empty
   * channel (so that such an item still moves on). @default no bound
   */
  maxBytes?: number;
  /** An item's size in bytes. @default every item is 0 bytes */
  bytes?: (item: T) => number;
}

/** A bounded multi-producer, multi-consumer channel, measured in weight. */
export interface Channel<T> {
  /**
   * Adds items in order while the channel holds less than its capacity (an item is taken whole,
   * so the channel may go over by less than one item) and each fits in the bytes left; returns
   * how many it took. Never blocks.
   */
  offer(items: readonly T[]): number;
  /** Puts items back in front, whatever the capacity (they were taken from it a moment ago). */
  putBack(items: readonly T[]): void;
  /**
   * Waits until an item is there (or the channel closes), then takes items up to `max` weight
   * and `maxBytes` bytes; at least one, however heavy, when `max` is positive.
   */
  take(max: number, maxBytes?: number): Promise<T[]>;
  /** Takes items as take does (at least one when `max` is positive) without waiting. */
  drain(max: number, maxBytes?: number): T[];
  /** Every item held, without taking it. */
  peek(): readonly T[];
  setCapacity(capacity: number, maxBytes?: number): void;
  /** Wakes every waiting consumer with an empty list; later offers take nothing. */
  close(): void;
  /** The weight held. */
  readonly size: number;
  readonly capacity: number;
  /** The bytes held. */
  readonly bytes: number;
  readonly maxBytes: number;
  readonly closed: boolean;
}

/** Creates a channel. */
export function createChannel<T>(options: ChannelOptions<T>): Channel<T> {
  let capacity = options.capacity;
  let maxBytes = options.maxBytes ?? Infinity;
  const weight = options.weight ?? (() => 1);
  const bytesOf = options.bytes ?? (() => 0);
  let closed = false;
  // A ring would save the shift cost, but takes are batched (hundreds of events at a time).
  let items: T[] = [];
  let size = 0, bytes = 0;
  const waiters: Array<() => void> = [];

  function wake() {
    while (waiters.length > 0 && (items.length > 0 || closed)) waiters.shift()!();
  }

  function drain(max: number, most = Infinity): T[] {
    if (max <= 0) return [];
    let count = 0, taken = 0, takenBytes = 0;
    while (count < items.length) {
      const w = weight(items[count]), b = bytesOf(items[count]);
      if (count > 0 && (taken + w > max || takenBytes + b > most)) break;
      taken += w;
      takenBytes += b;
      count++;
    }
    size -= taken;
    bytes -= takenBytes;
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
        const item = incoming[taken];
        const b = bytesOf(item);
        if (items.length > 0 && bytes + b > maxBytes) break;
        taken++;
        items.push(item);
        size += weight(item);
        bytes += b;
      }
      if (taken > 0) wake();
      return taken;
    },
    putBack(returned) {
      if (returned.length === 0) return;
      items = [...returned, ...items];
      for (const item of returned) {
        size += weight(item);
        bytes += bytesOf(item);
      }
      wake();
    },
    async take(max, most) {
      while (items.length === 0 && !closed) {
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return drain(max, most);
    },
    drain,
    peek: () => items,
    setCapacity(next, nextBytes) {
      capacity = next;
      if (nextBytes !== undefined) maxBytes = nextBytes;
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
    get bytes() {
      return bytes;
    },
    get maxBytes() {
      return maxBytes;
    },
    get closed() {
      return closed;
    },
  };
}
