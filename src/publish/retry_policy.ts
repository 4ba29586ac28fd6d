// The publish retry policy: cockatiel's retry with an exponential backoff shaped by our settings.
import {
  ExponentialBackoff,
  type GeneratorFn,
  handleAll,
  handleWhen,
  retry,
  type RetryPolicy,
} from "cockatiel";

/** The configured retry policy. */
export interface RetrySettings {
  /** Retries after the first try. @default 3 */
  attempts: number;
  /** Delay before the first retry, in milliseconds. @default 200 */
  initialDelayMs: number;
  /** Factor between one delay and the next. @default 2 */
  multiplier: number;
  /** Longest delay, in milliseconds. @default 5000 */
  maxDelayMs: number;
  /** Random spread around each delay, as a fraction (0.2 = ±20 %). @default 0.2 */
  jitter: number;
}

/** The delay before retry `retry` (1-based), before jitter: initial × multiplier^(retry-1), capped. */
export function baseDelayMs(settings: RetrySettings, retryNumber: number): number {
  return Math.min(
    settings.maxDelayMs,
    settings.initialDelayMs * settings.multiplier ** (retryNumber - 1),
  );
}

/**
 * Builds a cockatiel retry policy from the settings; `random` is injectable for tests, and
 * `shouldRetry` (every error by default) says which errors are worth another try.
 */
export function createRetryPolicy(
  settings: RetrySettings,
  random: () => number = Math.random,
  shouldRetry?: (error: unknown) => boolean,
): RetryPolicy {
  // cockatiel's own generators fix the exponent at 2 and offer only full or half jitter, so
  // the generator is ours; the attempt counting, waiting and events stay cockatiel's.
  const generator: GeneratorFn<number> = (state = 0) => {
    const base = baseDelayMs(settings, state + 1);
    const spread = base * settings.jitter * (2 * random() - 1);
    return [Math.max(0, Math.min(settings.maxDelayMs, Math.round(base + spread))), state + 1];
  };
  return retry(shouldRetry ? handleWhen(shouldRetry) : handleAll, {
    maxAttempts: settings.attempts,
    backoff: new ExponentialBackoff({ generator, initialDelay: settings.initialDelayMs }),
  });
}
