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
 * is a guess, and parsing afterwards says what is wrong.
 */
export function createJsonCounter(): ItemCounter {
  let depth = 0, inString = false, backslashes = 0;
  let key = "", candidate = "", counting = false, expecting = false, current = 0, count = 0;
  return {
    push(chunk) {
      let i = 0;
      while (i < chunk.length) {
        if (inString) {
          // Only the top-level keys are read; other strings are skipped to their closing quote.
          const quote = chunk.indexOf(QUOTE, i);
          const end = quote === -1 ? chunk.length : quote;
          let run = 0;
          while (run < end - i && chunk[end - 1 - run] === BACKSLASH) run++;
          if (depth === 1 && candidate.length <= EXECUTIONS.length) {
            candidate += String.fromCharCode(...chunk.subarray(i, Math.min(end, i + 16)));
          }
          if (quote === -1) {
            backslashes = run === end - i ? backslashes + run : run;
            break;
          }
          const escaped = (run === end - i ? backslashes + run : run) % 2 === 1;
          backslashes = 0;
          i = quote + 1;
          if (escaped) {
            if (depth === 1) candidate += '"';
            continue;
          }
          inString = false;
          continue;
        }
        const byte = chunk[i++];
        if (isBlank(byte) || byte === NEWLINE) continue;
        if (counting && depth === 2 && expecting && byte !== CLOSE_ARRAY) {
          expecting = false;
          if (++current > count) count = current;
        }
        if (byte === QUOTE) {
          inString = true;
          if (depth === 1) candidate = "";
        } else if (byte === COLON && depth === 1) {
          key = candidate;
        } else if (byte === COMMA) {
          if (depth === 2) expecting = true;
        } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
          depth++;
          if (depth === 2 && byte === OPEN_ARRAY && key === EXECUTIONS) {
            counting = true;
            expecting = true;
            current = 0;
          }
        } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
          if (depth === 2) counting = false;
          depth--;
        }
      }
      return count;
    },
    get count() {
      return count;
    },
  };
}
