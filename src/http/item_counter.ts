// Counts a batch body's items while its bytes arrive, so an oversized batch is refused before parsing.

/** A running count of the items seen so far in a body fed chunk by chunk. */
export interface ItemCounter {
  /** Feeds the next bytes of the body; returns the items counted so far. */
  push(chunk: Uint8Array): number;
  readonly count: number;
}

const QUOTE = 0x22, BACKSLASH = 0x5c, COLON = 0x3a, COMMA = 0x2c, NEWLINE = 0x0a;
const OPEN_OBJECT = 0x7b, CLOSE_OBJECT = 0x7d, OPEN_ARRAY = 0x5b, CLOSE_ARRAY = 0x5d;
const isBlank = (byte: number) => byte === 0x20 || byte === 0x09 || byte === 0x0d;
const EXECUTIONS = "executions";

/**
 * NDJSON: counts the lines holding anything but JSON whitespace (space, tab, CR), as the parser
 * that reads them afterwards does.
 */
export function createNdjsonCounter(): ItemCounter {
  let count = 0, lineHasContent = false;
  return {
    push(chunk) {
      for (let i = 0; i < chunk.length;) {
        if (!lineHasContent) {
          const byte = chunk[i++];
          if (byte === NEWLINE) continue;
          if (!isBlank(byte)) {
            lineHasContent = true;
            count++;
          }
          continue;
        }
        const end = chunk.indexOf(NEWLINE, i);
        if (end === -1) break;
        lineHasContent = false;
        i = end + 1;
      }
      return count;
    },
    get count() {
      return count;
    },
  };
}

/**
 * JSON: counts the elements of the `executions` array of a `{"executions": [...]}` body (the
 * largest such array, if the key is repeated). Exact for valid JSON; for other text the count
 * is a guess, and parsing afterwards says what is wrong. One pass, byte by byte, in one tight
 * loop: a call per string (indexOf) cost more than JSON.parse of the same body.
 */
export function createJsonCounter(): ItemCounter {
  const state: JsonScan = {
    depth: 0,
    inString: false,
    escaped: false,
    candidate: "",
    key: "",
    counting: false,
    expecting: false,
    current: 0,
    count: 0,
  };
  return {
    push: (chunk) => scanJson(state, chunk),
    get count() {
      return state.count;
    },
  };
}

/** Where a JSON scan stands between chunks. */
interface JsonScan {
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
  count: number;
}

// One function for every counter, so V8 optimises it once; the state lives in locals in the loop.
function scanJson(state: JsonScan, chunk: Uint8Array): number {
  let { depth, inString, escaped, candidate, key, counting, expecting, current, count } = state;
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
        }
        inString = true;
        if (depth === 1) candidate = "";
        continue;
      case COLON:
        if (depth === 1) key = candidate;
        continue;
      case COMMA:
        if (depth === 2) expecting = true;
        continue;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        if (expecting && counting && depth === 2) {
          expecting = false;
          if (++current > count) count = current;
        }
        depth++;
        if (depth === 2 && byte === OPEN_ARRAY && key === EXECUTIONS) {
          counting = true;
          expecting = true;
          current = 0;
        }
        continue;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        if (depth === 2) counting = false;
        depth--;
        continue;
      default:
        // The first byte of a number, true, false or null.
        if (expecting && counting && depth === 2) {
          expecting = false;
          if (++current > count) count = current;
        }
    }
  }
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
