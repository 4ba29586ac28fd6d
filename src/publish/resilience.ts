// The publish resilience policy: cockatiel's retry around a circuit breaker, built once per settings.
import {
  circuitBreaker,
  CircuitBreakerPolicy,
  ConsecutiveBreaker,
  handleWhen,
  type IPolicy,
  isBrokenCircuitError,
  type RetryPolicy,
  wrap,
} from "cockatiel";
import { PublishError } from "../domain/errors.ts";
import { createRetryPolicy, type RetrySettings } from "./retry_policy.ts";

/** When the breaker opens and how long it stays open. */
export interface BreakerSettings {
  /** Consecutive "Kafka unavailable" failures that open the breaker. @default 5 */
  threshold: number;
  /** Milliseconds the breaker stays open before one send probes the broker. @default 5000 */
  halfOpenAfterMs: number;
}

/** What the resilience policy is built from. */
export interface ResilienceSettings {
  retry: RetrySettings;
  breaker: BreakerSettings;
}

/** The policy every send goes through, and the breaker that says whether Kafka is up. */
export interface Resilience {
  /** retry(breaker(send)): a retry never passes an open breaker, and each try counts in it. */
  policy: IPolicy;
  retry: RetryPolicy;
  breaker: CircuitBreakerPolicy;
  settings: ResilienceSettings;
}

/** True for failures that say the broker, not the event, is the problem (they open the breaker). */
export function isOutage(error: unknown): boolean {
  return error instanceof PublishError && error.kind === "unavailable";
}

/**
 * Builds the policy. Only outages count towards opening the breaker: an event the broker refuses
 * says nothing about the broker. Retries skip what cannot change by waiting: an open breaker
 * (its own pause rules) and a closed producer (shutdown).
 */
export function createResilience(settings: ResilienceSettings): Resilience {
  const breaker = circuitBreaker(handleWhen(isOutage), {
    halfOpenAfter: settings.breaker.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(settings.breaker.threshold),
  });
  const retry = createRetryPolicy(
    settings.retry,
    Math.random,
    (error: unknown) =>
      !isBrokenCircuitError(error) && !(error instanceof PublishError && error.kind === "closed"),
  );
  return { policy: wrap(retry, breaker), retry, breaker, settings };
}

/** Two settings are the same policy (so a reload that changes neither keeps the breaker's state). */
export function sameResilience(a: ResilienceSettings, b: ResilienceSettings): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
