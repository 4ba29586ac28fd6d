// The sending loop: posts batches in order and collects every row not stored, in its input's terms.
import type { BatchResult } from "../domain/ingest.ts";
import type { ValidationDetail } from "../domain/validate.ts";
import { type BatchClient, SubmitStoppedError } from "./batch_client.ts";
import type { InputItem } from "./read_executions.ts";

/** Codes the CLI gives rows itself (the server's item codes come on top of these). */
export const LocalErrorCode = {
  /** The row could not be read as an execution; it was not sent. */
  UNPARSEABLE: "UNPARSEABLE",
  /** Submitting stopped before the row's batch got an answer. */
  NOT_SENT: "NOT_SENT",
} as const;

/** A row that was not stored, with the reason. */
export interface Failure {
  index: number;
  /** The input file of the row, when there are several. */
  source?: number;
  line?: number;
  /** The row as sent (with the id the CLI gave it), or what could be read of it. */
  value: unknown;
  code: string;
  message: string;
  details?: ValidationDetail[];
}

/** What became of the whole input. */
export interface SubmitOutcome {
  total: number;
  created: number;
  duplicates: number;
  /** Requests answered with verdicts. */
  batches: number;
  /** In input order. */
  failures: Failure[];
  /** Set when submitting stopped early; the unsent rows are NOT_SENT failures. */
  stopped?: SubmitStoppedError;
}

/** Progress after each answered request. */
export interface SubmitProgress {
  sent: number;
  total: number;
  batches: number;
}

/** How to submit. */
export interface SubmitOptions {
  /** Rows per request. @default 1000 */
  batchSize?: number;
  onProgress?: (progress: SubmitProgress) => void;
  /** Called with each answered batch and the rows it held. */
  onBatch?: (result: BatchResult, rows: readonly InputItem[]) => void;
  /** Names an input file in a message about a row of another file. @default `input ${source}` */
  fileName?: (source: number) => string;
}

/**
 * Sends every readable row in batches, one request at a time, and judges every row of the input.
 * Rows are sent as they are: ids are given before (see prepare_rows.ts).
 */
export async function submitItems(
  items: readonly InputItem[],
  client: Pick<BatchClient, "send">,
  options: SubmitOptions = {},
): Promise<SubmitOutcome> {
  const batchSize = options.batchSize ?? 1000;
  const fileName = options.fileName;
  const sendable = items.filter((item) => item.problem === undefined);
  const failures: Failure[] = items.filter((item) => item.problem !== undefined).map((item) => ({
    index: item.index,
    source: item.source,
    line: item.line,
    value: item.value,
    code: LocalErrorCode.UNPARSEABLE,
    message: item.problem!,
  }));
  const outcome: SubmitOutcome = {
    total: items.length,
    created: 0,
    duplicates: 0,
    batches: 0,
    failures,
  };
  // Batches go out one at a time and in order, so the rows judged so far are always a prefix.
  let sent = 0;

  const judge = (batch: InputItem[], fail?: { code: string; message: string }) => {
    sent += batch.length;
    outcome.batches++;
    options.onProgress?.({ sent, total: sendable.length, batches: outcome.batches });
    if (fail) { for (const item of batch) failures.push(failureOf(item, fail)); }
  };

  async function send(batch: InputItem[]): Promise<void> {
    const answer = await client.send(batch.map((item) => item.value));
    if (answer.kind === "result") {
      answer.result.items.forEach((verdict, position) => {
        if (verdict.status === "created") outcome.created++;
        else if (verdict.status === "duplicate") outcome.duplicates++;
        else if (verdict.error) {
          const message = inInputTerms(verdict.error.message, batch, batch[position], fileName);
          failures.push(failureOf(batch[position], { ...verdict.error, message }));
        }
      });
      options.onBatch?.(answer.result, batch);
      judge(batch);
    } else if (answer.kind === "too_large" && batch.length > 1) {
      const middle = Math.ceil(batch.length / 2);
      await send(batch.slice(0, middle));
      await send(batch.slice(middle));
    } else {
      judge(batch, answer);
    }
  }

  try {
    for (let start = 0; start < sendable.length; start += batchSize) {
      await send(sendable.slice(start, start + batchSize));
    }
  } catch (error) {
    if (!(error instanceof SubmitStoppedError)) throw error;
    outcome.stopped = error;
    for (const item of sendable.slice(sent)) {
      failures.push(failureOf(item, {
        code: LocalErrorCode.NOT_SENT,
        message: `Not sent: ${error.message}`,
      }));
    }
  }
  failures.sort((a, b) => (a.source ?? 0) - (b.source ?? 0) || a.index - b.index);
  return outcome;
}

/**
 * The server numbers items within a request ("at index 7"); the rows' users know them by their
 * place in their file, which the failure file's `index` gives. Messages are renumbered to match.
 */
export function inInputTerms(
  message: string,
  batch: readonly InputItem[],
  row: InputItem,
  fileName: (source: number) => string = (source) => `input ${source}`,
): string {
  return message.replace(/\bat index (\d+)\b/g, (whole, position: string) => {
    const named = batch[Number(position)];
    if (named === undefined) return whole;
    const elsewhere = (named.source ?? 0) !== (row.source ?? 0);
    return `at index ${named.index}${elsewhere ? ` of ${fileName(named.source ?? 0)}` : ""}`;
  });
}

/** A row not stored, with the reason; also how the console's upload lists its failed rows. */
export function failureOf(
  item: InputItem,
  error: { code: string; message: string; details?: ValidationDetail[] },
): Failure {
  const failure: Failure = {
    index: item.index,
    source: item.source,
    line: item.line,
    value: item.value,
    code: error.code,
    message: error.message,
  };
  if (error.details) failure.details = error.details;
  return failure;
}
