// The Kafka event of one stored execution: key, JSON value and CloudEvents binary-mode headers.
import { type StoredExecution, toExecutionJson } from "../domain/execution.ts";
import type { EventMessage } from "../domain/ports.ts";

/** CloudEvents type of every event this service publishes. */
export const EVENT_TYPE = "execution.created";

/**
 * Builds the message: keyed by testCaseKey so one test case's events land on one partition in
 * order; `ce_id` is the execution id, which consumers use to drop the duplicates that
 * at-least-once delivery allows.
 */
export function toEventMessage(execution: StoredExecution, source: string): EventMessage {
  return {
    key: execution.testCaseKey,
    value: JSON.stringify(toExecutionJson(execution)),
    headers: {
      ce_specversion: "1.0",
      ce_id: execution.id,
      ce_type: EVENT_TYPE,
      ce_source: source,
      ce_time: execution.createdAt,
      "content-type": "application/json",
    },
  };
}
