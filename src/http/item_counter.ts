// Counts a batch body's items while its bytes arrive, and bounds the shape of each item and of the
// whole body, so a batch that parsing would blow up is refused or cut down before any object exists.

/** A running count of the items seen so far in a body fed chunk by chunk. */
export interface ItemCounter {
  /** Feeds the next bytes of the body; returns the items counted so far. */
  push(chunk: Uint8Array): number;
  readonly count: number;
  /** Set once the body holds more than `maxValues` values: the body is refused whole. */
  readonly problem: ShapeProblem | undefined;
  /** Items past an item limit, with their bytes: they are left out of parsing and fail alone. */
  readonly oversized: readonly OversizedItem[];
  /** The number of the last executions array (JSON; NDJSON: 0), as OversizedItem.list counts. */
  readonly list: number;
}

/**
 * Bounds on what parsing would build. Values are counted as the opening brackets and the commas
 * outside strings: each object, array and element after the first, so at most one per container
 * short of the exact count, and exactly what costs memory in `[{},{},…]`.
 */
export interface ShapeLimits {
  /** Most values in the whole body (those of oversized items aside). @default Infinity */
  maxValues: number;
  /** Most values in one item. @default Infinity */
  maxItemValues: number;
  /** Most nesting in one item, its own object or array being level 1. @default Infinity */
  maxItemDepth: number;
  /** Most bytes of one item as sent. @default Infinity */
  maxItemBytes: number;
}

/** The body broke `maxValues`; `index` is the item it was in (-1: outside any item). */
export interface ShapeProblem {
  limit: "maxValues";
  index: number;
}

/** The limits one item can break. */
export type ItemLimit = "maxItemValues" | "maxItemDepth" | "maxItemBytes";

/** An item past an item limit: which one, and its bytes [start, end) in the body. */
export interface OversizedItem {
  index: number;
  limit: ItemLimit;
  start: number;
  /** -1 while the item has not ended (or when the body ended inside it). */
  end: number;
  /** The executions array it is in (JSON: the key may be repeated; the parser keeps the last). */
  list: number;
}

const NO_LIMITS: ShapeLimits = {
  maxValues: Infinity,
  maxItemValues: Infinity,
  maxItemDepth: Infinity,
  maxItemBytes: Infinity,
};

const QUOTE = 0x22, BACKSLASH = 0x5c, COLON = 0x3a, COMMA = 0x2c, NEWLINE = 0x0a;
const OPEN_OBJECT = 0x7b, CLOSE_OBJECT = 0x7d, OPEN_ARRAY = 0x5b, CLOSE_ARRAY = 0x5d;
const isBlank = (byte: number) => byte === 0x20 || byte === 0x09 || byte === 0x0d;
const EXECUTIONS = "executions";

/** The state both scans share: the limits, where the current item began, what went past them. */
interface ShapeScan {
  readonly limits: ShapeLimits;
  /** Bytes scanned before the current chunk. */
  offset: number;
  /** Values in the body so far, and in the current item. */
  values: number;
  itemValues: number;
  itemStart: number;
  /** The current item's entry in `oversized`, once it went past a limit (its values stop counting). */
  mark: OversizedItem | null;
  oversized: OversizedItem[];
  problem: ShapeProblem | undefined;
  count: number;
  list: number;
}

function shapeScan(limits: Partial<ShapeLimits>): ShapeScan {
  return {
    limits: { ...NO_LIMITS, ...limits },
    offset: 0,
    values: 0,
    itemValues: 0,
    itemStart: 0,
    mark: null,
    oversized: [],
    problem: undefined,
    count: 0,
    list: 0,
  };
}

function counterOf(state: ShapeScan, scan: (chunk: Uint8Array) => number): ItemCounter {
  return {
    push: (chunk) => state.problem ? state.count : scan(chunk),
    get count() {
      return state.count;
    },
    get problem() {
      return state.problem;
    },
    get oversized() {
      return state.oversized;
    },
    get list() {
      return state.list;
    },
  };
}

/** Marks the current item oversized (rare: off the hot path); returns the mark. */
function markItem(
  state: ShapeScan,
  limit: ItemLimit,
  index: number,
  start: number,
  list: number,
): OversizedItem {
  const mark = { index, limit, start, end: -1, list };
  state.oversized.push(mark);
  return mark;
}

/** Records that the body broke maxValues; the scan stops there (the caller refuses the body). */
function tooManyValues(state: ShapeScan, index: number, count: number): number {
  state.problem = { limit: "maxValues", index };
  state.count = count;
  return count;
}

/**
 * NDJSON: counts the lines holding anything but JSON whitespace (space, tab, CR), as the parser
 * that reads them afterwards does; each line is an item.
 */
export function createNdjsonCounter(limits: Partial<ShapeLimits> = {}): ItemCounter {
  const state: NdjsonScan = {
    ...shapeScan(limits),
    lineHasContent: false,
    inString: false,
    escaped: false,
    depth: 0,
  };
  return counterOf(state, (chunk) => scanNdjson(state, chunk));
}

/** Where an NDJSON scan stands between chunks. */
interface NdjsonScan extends ShapeScan {
  lineHasContent: boolean;
  inString: boolean;
  escaped: boolean;
  depth: number;
}

// Like scanJson: one function, the state in locals while the loop runs.
function scanNdjson(state: NdjsonScan, chunk: Uint8Array): number {
  let { count, lineHasContent, inString, escaped, depth, values, itemValues, itemStart, mark } =
    state;
  const { offset } = state;
  const { maxValues, maxItemValues, maxItemDepth, maxItemBytes } = state.limits;
  for (let i = 0; i < chunk.length; i++) {
    const byte = chunk[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === BACKSLASH) escaped = true;
      else if (byte === QUOTE) inString = false;
      // A line break ends the line even inside a string (the line is not JSON then).
      if (byte !== NEWLINE) continue;
      inString = escaped = false;
    }
    if (byte === NEWLINE) {
      if (lineHasContent) {
        if (mark === null && offset + i - itemStart > maxItemBytes) {
          mark = markItem(state, "maxItemBytes", count - 1, itemStart, 0);
        }
        if (mark !== null) mark.end = offset + i;
      }
      lineHasContent = false;
      mark = null;
      depth = 0;
      continue;
    }
    if (!lineHasContent) {
      if (isBlank(byte)) continue;
      lineHasContent = true;
      count++;
      itemValues = 0;
      itemStart = offset + i;
    }
    switch (byte) {
      case QUOTE:
        inString = true;
        continue;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        if (mark !== null) continue;
        if (++depth > maxItemDepth) {
          mark = markItem(state, "maxItemDepth", count - 1, itemStart, 0);
        } else if (++itemValues > maxItemValues) {
          mark = markItem(state, "maxItemValues", count - 1, itemStart, 0);
        } else if (++values > maxValues) return tooManyValues(state, count - 1, count);
        continue;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        depth--;
        continue;
      case COMMA:
        if (mark !== null) continue;
        if (++itemValues > maxItemValues) {
          mark = markItem(state, "maxItemValues", count - 1, itemStart, 0);
        } else if (++values > maxValues) return tooManyValues(state, count - 1, count);
        continue;
    }
  }
  if (lineHasContent && mark === null && offset + chunk.length - itemStart > maxItemBytes) {
    mark = markItem(state, "maxItemBytes", count - 1, itemStart, 0);
  }
  state.count = count;
  state.lineHasContent = lineHasContent;
  state.inString = inString;
  state.escaped = escaped;
  state.depth = depth;
  state.values = values;
  state.itemValues = itemValues;
  state.itemStart = itemStart;
  state.mark = mark;
  state.offset = offset + chunk.length;
  return count;
}

/**
 * JSON: counts the elements of the `executions` array of a `{"executions": [...]}` body (the
 * largest such array, if the key is repeated). Exact for valid JSON; for other text the count
 * is a guess, and parsing afterwards says what is wrong. One pass, byte by byte, in one tight
 * loop: a call per string (indexOf) cost more than JSON.parse of the same body.
 */
export function createJsonCounter(limits: Partial<ShapeLimits> = {}): ItemCounter {
  const state: JsonScan = {
    ...shapeScan(limits),
    inItem: false,
    depth: 0,
    inString: false,
    escaped: false,
    candidate: "",
    key: "",
    counting: false,
    expecting: false,
    current: 0,
  };
  return counterOf(state, (chunk) => scanJson(state, chunk));
}

/** Where a JSON scan stands between chunks. */
interface JsonScan extends ShapeScan {
  /** Whether an element of the executions array is open. */
  inItem: boolean;
  depth: number;
  inString: boolean;
  escaped: boolean;
  /** The top-level string being read: only strings at depth 1 are kept, only their first bytes. */
  candidate: string;
  /** The last top-level key read. */
  key: string;
  counting: boolean;
  expecting: boolean;
  current: number;
}

// One function for every counter, so V8 optimises it once; the state lives in locals in the loop.
// An item begins at its first byte at depth 2 of the executions array and ends at the comma or
// bracket after it; its size is checked there and at the end of each chunk.
function scanJson(state: JsonScan, chunk: Uint8Array): number {
  let { depth, inString, escaped, candidate, key, counting, expecting, current, count } = state;
  let { values, itemValues, itemStart, inItem, mark, list } = state;
  const { offset } = state;
  const { maxValues, maxItemValues, maxItemDepth, maxItemBytes } = state.limits;
  for (let i = 0; i < chunk.length; i++) {
    const byte = chunk[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === BACKSLASH) {
        escaped = true;
        continue;
      } else if (byte === QUOTE) {
        inString = false;
        continue;
      }
      if (depth === 1 && candidate.length <= EXECUTIONS.length) {
        candidate += String.fromCharCode(byte);
      }
      continue;
    }
    switch (byte) {
      case 0x20:
      case 0x09:
      case 0x0d:
      case NEWLINE:
        continue;
      case QUOTE:
        if (expecting && counting && depth === 2) {
          expecting = false;
          if (++current > count) count = current;
          itemValues = 0;
          itemStart = offset + i;
          inItem = true;
        }
        inString = true;
        if (depth === 1) candidate = "";
        continue;
      case COLON:
        if (depth === 1) key = candidate;
        continue;
      case COMMA:
        if (depth === 2 && inItem) {
          if (mark === null && offset + i - itemStart > maxItemBytes) {
            mark = markItem(state, "maxItemBytes", current - 1, itemStart, list);
          }
          if (mark !== null) mark.end = offset + i;
          inItem = false;
          mark = null;
        }
        if (depth === 2) expecting = true;
        if (mark !== null) continue;
        if (inItem && ++itemValues > maxItemValues) {
          mark = markItem(state, "maxItemValues", current - 1, itemStart, list);
        } else if (++values > maxValues) {
          return tooManyValues(state, inItem ? current - 1 : -1, count);
        }
        continue;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        if (expecting && counting && depth === 2) {
          expecting = false;
          if (++current > count) count = current;
          itemValues = 0;
          itemStart = offset + i;
          inItem = true;
        }
        depth++;
        if (depth === 2 && byte === OPEN_ARRAY && key === EXECUTIONS) {
          counting = true;
          expecting = true;
          current = 0;
          list++;
        }
        if (mark !== null) continue;
        if (inItem && depth - 2 > maxItemDepth) {
          mark = markItem(state, "maxItemDepth", current - 1, itemStart, list);
        } else if (inItem && ++itemValues > maxItemValues) {
          mark = markItem(state, "maxItemValues", current - 1, itemStart, list);
        } else if (++values > maxValues) {
          return tooManyValues(state, inItem ? current - 1 : -1, count);
        }
        continue;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        if (depth === 2) counting = false;
        depth--;
        if (inItem && depth <= 2) {
          // The item's own closing bracket (depth 2 now), or the array's after a scalar item.
          const end = offset + i + (depth === 2 ? 1 : 0);
          if (mark === null && end - itemStart > maxItemBytes) {
            mark = markItem(state, "maxItemBytes", current - 1, itemStart, list);
          }
          if (mark !== null) mark.end = end;
          inItem = false;
          mark = null;
        }
        continue;
      default:
        // The first byte of a number, true, false or null.
        if (expecting && counting && depth === 2) {
          expecting = false;
          if (++current > count) count = current;
          itemValues = 0;
          itemStart = offset + i;
          inItem = true;
        }
    }
  }
  if (inItem && mark === null && offset + chunk.length - itemStart > maxItemBytes) {
    mark = markItem(state, "maxItemBytes", current - 1, itemStart, list);
  }
  state.offset = offset + chunk.length;
  state.values = values;
  state.itemValues = itemValues;
  state.itemStart = itemStart;
  state.inItem = inItem;
  state.mark = mark;
  state.list = list;
  state.depth = depth;
  state.inString = inString;
  state.escaped = escaped;
  state.candidate = candidate;
  state.key = key;
  state.counting = counting;
  state.expecting = expecting;
  state.current = current;
  state.count = count;
  return count;
}
