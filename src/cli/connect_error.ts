// Tells a fetch that never reached a server (nothing listens, no such host, a port fetch refuses)
// from one that may pass on a later try, in the words of Node.js (error codes) and Deno (messages).

const RULES: ReadonlyArray<[reason: string, codes: readonly string[], message: RegExp]> = [
  ["connection refused (is the service running there?)", ["ECONNREFUSED"], /connection refused/i],
  [
    "no such host",
    ["ENOTFOUND"],
    /name or service not known|nodename nor servname|no such host is known/i,
  ],
  ["fetch refuses that port", ["ERR_INVALID_PORT"], /bad port|requests to port \d+ are blocked/i],
];

/** The errors of `error`'s cause chain, an AggregateError's errors included. */
function* chain(error: unknown, depth = 0): Generator<unknown> {
  if (error === null || error === undefined || depth > 5) return;
  yield error;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) yield* chain(inner, depth + 1);
  }
  if (error instanceof Error) yield* chain(error.cause, depth + 1);
}

/**
 * Why a failed fetch could not reach the server at all, or undefined when it may have been a
 * passing problem (a reset, a timeout): retrying a refused connection only delays the hint that
 * the URL is wrong.
 */
export function neverConnected(error: unknown): string | undefined {
  for (const inner of chain(error)) {
    const code = (inner as { code?: unknown }).code;
    const message = inner instanceof Error ? inner.message : String(inner);
    for (const [reason, codes, pattern] of RULES) {
      if ((typeof code === "string" && codes.includes(code)) || pattern.test(message)) {
        return reason;
      }
    }
  }
  return undefined;
}
