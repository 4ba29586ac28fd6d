// Posts one batch to the service, retrying what is worth retrying, and sorts the answer into kinds.
import { DelegateBackoff, handleType, type IRetryBackoffContext, retry } from "cockatiel";
import type { BatchResult } from "../domain/ingest.ts";
import { neverConnected } from "./connect_error.ts";

/** What became of one batch the server answered. */
export type BatchAnswer =
  /** 200, 207 or 422 with a verdict per item. */
  | { kind: "result"; result: BatchResult }
  /** 413: too many items or bytes for the server; a smaller batch may pass. */
  | { kind: "too_large"; code: string; message: string }
  /** Any other 4xx: the server refused the request as a whole. */
  | { kind: "rejected"; code: string; message: string };

/** Why submitting stopped: the server refuses this client ("refused") or cannot be had ("unreachable"). */
export class SubmitStoppedError extends Error {
  constructor(
    readonly reason: "refused" | "unreachable",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SubmitStoppedError";
  }
}

/** A failure a later try may not have: 429, 5xx, a network error or a timeout. */
class RetryableError extends Error {
  constructor(message: string, readonly retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RetryableError";
  }
}

/** A retry about to happen, for the progress display. */
export interface RetryNotice {
  /** 1 for the first retry. */
  retry: number;
  maxRetries: number;
  delayMs: number;
  reason: string;
}

/** How to reach the service and how hard to try. */
export interface BatchClientOptions {
  /** Base URL of the service, such as http://127.0.0.1:8080. */
  url: string;
  /** Sent as `Authorization: Bearer <key>` when set. */
  apiKey?: string;
  /** Retries of one batch after its first try. @default 5 */
  maxRetries?: number;
  /** Delay before the first retry when the server names none, in milliseconds. @default 500 */
  initialDelayMs?: number;
  /** Longest delay of the exponential backoff, in milliseconds. @default 30000 */
  maxDelayMs?: number;
  /** Time to wait for one answer, in milliseconds. @default 120000 */
  timeoutMs?: number;
  /** Called before each retry's wait. */
  onRetry?: (notice: RetryNotice) => void;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** @default Math.random */
  random?: () => number;
}

/** The longest Retry-After honoured, so a misconfigured server cannot park the CLI for hours. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** Milliseconds a Retry-After header asks for (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const value = header.trim();
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Number.isNaN(ms) ? undefined : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/** Exponential backoff with equal jitter: retry n waits between half and all of initial × 2^(n-1), capped. */
export function backoffDelayMs(
  retryNumber: number,
  settings: { initialDelayMs: number; maxDelayMs: number },
  random: () => number = Math.random,
): number {
  const base = Math.min(settings.maxDelayMs, settings.initialDelayMs * 2 ** (retryNumber - 1));
  return Math.round(base / 2 + (base / 2) * random());
}

/** Creates the client; `send` posts one batch and answers, or throws SubmitStoppedError. */
export function createBatchClient(options: BatchClientOptions) {
  const endpoint = `${options.url.replace(/\/+$/, "")}/v1/executions/batch`;
  const maxRetries = options.maxRetries ?? 5;
  const settings = {
    initialDelayMs: options.initialDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 30_000,
  };
  const timeoutMs = options.timeoutMs ?? 120_000;
  const doFetch = options.fetch ?? globalThis.fetch;
  const headers: Record<string, string> = { "content-type": "application/json" };
  // Until the server has answered once, a connection that cannot be made ends the run at once.
  let answered = false;
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

  const policy = retry(handleType(RetryableError), {
    maxAttempts: maxRetries,
    backoff: new DelegateBackoff((context: IRetryBackoffContext<unknown>) => {
      const error = "error" in context.result ? context.result.error : undefined;
      const asked = error instanceof RetryableError ? error.retryAfterMs : undefined;
      return asked ?? backoffDelayMs(context.attempt, settings, options.random);
    }),
  });
  policy.onRetry((event) => {
    const reason = "error" in event ? (event.error as Error).message : "unexpected answer";
    options.onRetry?.({ retry: event.attempt, maxRetries, delayMs: event.delay, reason });
  });

  async function attempt(body: string, count: number): Promise<BatchAnswer> {
    let response: Response;
    let text: string;
    try {
      response = await doFetch(endpoint, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const never = answered ? undefined : neverConnected(error);
      if (never) {
        throw new SubmitStoppedError(
          "unreachable",
          `Cannot reach ${endpoint}: ${never}; check --url (or EXECUTION_INGEST_URL)`,
          { cause: error },
        );
      }
      const reason = (error as Error).name === "TimeoutError"
        ? `no answer within ${timeoutMs / 1000} s`
        : (error as Error).message;
      throw new RetryableError(`Cannot reach ${endpoint}: ${reason}`, undefined, { cause: error });
    }
    answered = true;
    return classify(response, text, count);
  }

  function classify(response: Response, text: string, count: number): BatchAnswer {
    const { status } = response;
    const body = parseJson(text);
    const code = errorField(body, "code") ?? `HTTP_${status}`;
    const message = errorField(body, "message") ?? (text.slice(0, 200) || response.statusText);
    if (status === 429 || status >= 500) {
      throw new RetryableError(
        `HTTP ${status} ${code}: ${message}`,
        parseRetryAfter(response.headers.get("retry-after")),
      );
    }
    if (status === 200 || status === 207 || status === 422) {
      const items = (body as { items?: unknown } | undefined)?.items;
      if (Array.isArray(items) && items.length === count) {
        return { kind: "result", result: body as BatchResult };
      }
      if (status !== 422) {
        throw new SubmitStoppedError(
          "unreachable",
          `The answer from ${endpoint} is not a verdict on ${count} executions (HTTP ${status})`,
        );
      }
    }
    if (status === 401) {
      throw new SubmitStoppedError(
        "refused",
        options.apiKey
          ? `The server refused the API key (${message}): check --api-key`
          : "The server needs an API key: pass --api-key (or set EXECUTION_INGEST_API_KEY)",
      );
    }
    if (status === 403) {
      throw new SubmitStoppedError("refused", `The API key may not submit executions: ${message}`);
    }
    if (status === 404) {
      throw new SubmitStoppedError(
        "refused",
        `Cannot POST ${endpoint}: the server has no such route (HTTP 404); ` +
          "is --url the service's base URL, such as http://127.0.0.1:8080?",
      );
    }
    if (status === 413) return { kind: "too_large", code, message };
    return { kind: "rejected", code, message: `HTTP ${status}: ${message}` };
  }

  return {
    /** The URL batches are posted to. */
    endpoint,
    /** Posts one batch; throws SubmitStoppedError when the server refuses us or retries ran out. */
    async send(items: readonly unknown[]): Promise<BatchAnswer> {
      const body = JSON.stringify({ executions: items });
      try {
        return await policy.execute(() => attempt(body, items.length));
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        const tries = maxRetries === 1 ? "1 retry" : `${maxRetries} retries`;
        throw new SubmitStoppedError("unreachable", `Gave up after ${tries}: ${error.message}`, {
          cause: error,
        });
      }
    },
  };
}

/** The client type. */
export type BatchClient = ReturnType<typeof createBatchClient>;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorField(body: unknown, field: "code" | "message"): string | undefined {
  const value = (body as { error?: Record<string, unknown> } | undefined)?.error?.[field];
  return typeof value === "string" ? value : undefined;
}
