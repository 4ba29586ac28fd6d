// Counts an uploaded file's rows from its bytes, before any parser builds them: JSON and NDJSON with
// the API's own item counters, CSV by its records, so a file of millions of tiny rows is refused
// while it is still bytes.
import type { InputFormat } from "../../cli/read_executions.ts";
import { createJsonCounter, createNdjsonCounter } from "../item_counter.ts";

const QUOTE = 0x22, NEWLINE = 0x0a, COMMA = 0x2c, OPEN_ARRAY = 0x5b;
const isBlank = (byte: number) => byte === 0x20 || byte === 0x09 || byte === 0x0d;
const BOM = [0xef, 0xbb, 0xbf];
// A top-level JSON array is counted as the API's `{"executions": [...]}` body is: behind this key.
const AS_EXECUTIONS = new TextEncoder().encode('{"executions":');

/**
 * The rows a file of `format` holds, as its reader will find them, or an upper bound of them; a
 * file that is not valid in its format may count anything (its reader then says what is wrong).
 * Undefined for JUnit XML, whose reader bounds what it reads itself.
 */
export function countRows(format: InputFormat, bytes: Uint8Array): number | undefined {
  const start = BOM.every((byte, i) => bytes[i] === byte) ? BOM.length : 0;
  const body = bytes.subarray(start);
  if (format === "json") {
    const counter = createJsonCounter();
    const first = body.findIndex((byte) => !isBlank(byte) && byte !== NEWLINE);
    if (first !== -1 && body[first] === OPEN_ARRAY) counter.push(AS_EXECUTIONS);
    return counter.push(body);
  }
  if (format === "ndjson") return createNdjsonCounter().push(body);
  if (format === "csv") return Math.max(0, countCsvRecords(body) - 1);
  return undefined;
}

/**
 * CSV records holding something besides commas and blanks (the header among them): line breaks
 * inside quotes do not end a record. An upper bound of the records the CSV reader keeps.
 */
function countCsvRecords(bytes: Uint8Array): number {
  let count = 0, quoted = false, content = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      quoted = !quoted;
      content = true;
    } else if (quoted) continue;
    else if (byte === NEWLINE) {
      if (content) count++;
      content = false;
    } else if (byte !== COMMA && !isBlank(byte)) content = true;
  }
  return content ? count + 1 : count;
}
