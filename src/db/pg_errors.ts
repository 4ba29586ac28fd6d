// Maps driver and server errors to the domain's StorageError with client-safe messages.
import { StorageError } from "../domain/errors.ts";
import { SaturatedError } from "../limiter.ts";

// SQLSTATE classes where the data itself was refused: splitting the chunk isolates the culprit.
// 22 data exception, 23 integrity constraint, 54 program limit (a value too big to index), P0 raise.
const REJECTING_CLASSES = new Set(["22", "23", "54", "P0"]);

const PHRASES: Record<string, string> = {
  "22001": "a value is too long for its column",
  "22003": "a number is out of range",
  "22007": "a date or time has an invalid format",
  "22008": "a date or time is out of range",
  "22021": "a value is not valid UTF-8",
  "22P02": "a value has an invalid format",
  "22P05": "a value holds a character PostgreSQL cannot store",
  "23502": "a required value is missing",
  "23505": "a unique constraint was violated",
  "23514": "a check constraint was violated",
  "54000": "a value is too large",
  "P0001": "a database rule refused it",
};

/** The SQLSTATE of a server error, if the error came from the server. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Wraps any error of a storage call as a StorageError; the cause keeps the original for logs. */
export function toStorageError(error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  if (error instanceof SaturatedError) {
    return new StorageError("saturated", `the database is busy: ${error.message}`, {
      cause: error,
    });
  }
  const state = sqlState(error);
  if (state && REJECTING_CLASSES.has(state.slice(0, 2))) {
    const phrase = PHRASES[state] ?? "the database rejected the values";
    return new StorageError("rejected", `${phrase} (SQLSTATE ${state})`, { cause: error });
  }
  if (state === "57014" || (error as Error)?.name === "DeadlineError") {
    return new StorageError("unavailable", "the database took too long (statement timeout)", {
      cause: error,
    });
  }
  return new StorageError("unavailable", "the database is unavailable", { cause: error });
}
