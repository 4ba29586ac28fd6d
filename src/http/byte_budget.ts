// A budget of request-body bytes held in memory across all requests at once.

/** Bytes taken from a budget and given back when the request that read them is done. */
export interface ByteBudget {
  /** Takes `bytes` if the budget still holds them; false (and nothing taken) when it does not. */
  take(bytes: number): boolean;
  /** Gives `bytes` back. */
  give(bytes: number): void;
  /** Bytes taken now. */
  readonly inUse: number;
  readonly capacity: number;
}

/** Creates a budget of `capacity` bytes. */
export function createByteBudget(capacity: number): ByteBudget {
  let inUse = 0;
  return {
    take(bytes) {
      if (inUse + bytes > capacity) return false;
      inUse += bytes;
      return true;
    },
    give(bytes) {
      inUse = Math.max(0, inUse - bytes);
    },
    get inUse() {
      return inUse;
    },
    capacity,
  };
}
