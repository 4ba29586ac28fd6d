// The structured JSON logger: one line per event, sensitive fields redacted by path as a second guard.
import pino from "pino";
import { redactSecrets } from "./redact.ts";

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
      // Field names cannot catch a password inside a message (a driver's error quoting a URL):
      // every string at the top level of a line has URL passwords masked on the way out.
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map(maskStrings) as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

function maskStrings(arg: unknown): unknown {
  if (typeof arg === "string") return redactSecrets(arg);
  if (arg === null || typeof arg !== "object" || Array.isArray(arg) || arg instanceof Error) {
    return arg;
  }
  let copy: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(arg)) {
    if (typeof value !== "string") continue;
    const masked = redactSecrets(value);
    if (masked !== value) (copy ??= { ...arg })[key] = masked;
  }
  return copy ?? arg;
}

/** The logger type. */
export type AppLogger = ReturnType<typeof createLogger>;
