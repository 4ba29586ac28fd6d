// Query parameters parsed by a route's zod schema; the first problem becomes a 400 that names the
// parameter, so a client learns which one to fix.
import type { z } from "zod";
import { ApiError, ApiErrorCode } from "./errors.ts";

/** A UUID as a path or query parameter may spell it (any case). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Parses `query` with `schema`, or throws INVALID_PARAMETER for its first problem; `unknownReason`
 * is what the message says of a parameter the route does not know.
 */
export function parseQuery<T extends z.ZodType>(
  schema: T,
  query: Record<string, string>,
  unknownReason: string,
): z.infer<T> {
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  const name = issue.code === "unrecognized_keys" ? issue.keys[0] : String(issue.path[0]);
  const reason = issue.code === "unrecognized_keys" ? unknownReason : issue.message;
  throw new ApiError(
    400,
    ApiErrorCode.INVALID_PARAMETER,
    `Cannot use the query parameter "${name.slice(0, 64)}": ${reason}`,
  );
}
