// The sending loop: gives id-less rows an id, posts batches in order, and collects every row not stored.
import { v7 as uuidv7 } from "uuid";
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
  /** Ids for rows that have none. @default a UUIDv7, time-ordered like the server's own */
  newId?: () => string;
  onProgress?: (progress: SubmitProgress) => void;
}

/** Gives each readable row without an id one, so a retry after a lost answer cannot store it twice. */
export function withIds(items: readonly InputItem[], newId: () => string): InputItem[] {
  return items.map((item) => {
    if (item.problem !== undefined) return item;
    const row = item.value as Record<string, unknown>;
    return row.id === undefined ? { ...item, value: { id: newId(), ...row } } : item;
  });
}

/** Sends every readable row in batches, one request at a time, and judges every row of the input. */
export async function submitItems(
  items: readonly InputItem[],
  client: Pick<BatchClient, "send">,
  options: SubmitOptions = {},
): Promise<SubmitOutcome> {
  const batchSize = options.batchSize ?? 1000;
  const prepared = withIds(items, options.newId ?? uuidv7);
  const sendable = prepared.filter((item) => item.problem === undefined);
  const failures: Failure[] = prepared.filter((item) => item.problem !== undefined).map((item) => ({
    index: item.index,
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
        else if (verdict.error) failures.push(failureOf(batch[position], verdict.error));
      });
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
  failures.sort((a, b) => a.index - b.index);
  return outcome;
}

function failureOf(
  item: InputItem,
  error: { code: string; message: string; details?: ValidationDetail[] },
): Failure {
  const failure: Failure = {
    index: item.index,
    line: item.line,
    value: item.value,
    code: error.code,
    message: error.message,
  };
  if (error.details) failure.details = error.details;
  return failure;
}
