// The structured JSON logger: one line per event, sensitive fields redacted by path as a second guard.
import pino from "pino";

/**
 * Fields that must never reach a log. The code never logs payloads in the first place; redaction
 * catches a mistake that would slip one in.
 */
export const REDACTED_PATHS = [
  "executedBy",
  "comment",
  "attributes",
  "*.executedBy",
  "*.comment",
  "*.attributes",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "password",
  "*.password",
  "apiKey",
  "*.apiKey",
  "databaseUrl",
  "*.databaseUrl",
];

/** Options of createLogger. */
export interface LoggerOptions {
  /** @default "info" */
  level?: string;
  /** Where lines go; stdout when absent. Tests pass a collector. */
  destination?: { write(line: string): void };
}

/** Creates the logger. */
export function createLogger(options: LoggerOptions = {}) {
  return pino(
    {
      level: options.level ?? "info",
      base: { service: "execution-ingest" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: "[REDACTED]" },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** The logger type. */
export type AppLogger = ReturnType<typeof createLogger>;
