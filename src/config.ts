// The only reader of configuration: environment variables (and the optional tunables file), one zod schema.
import { z } from "zod";
import { redactSecrets } from "./redact.ts";

const int = (min: number, max: number, fallback: number) =>
  z.coerce.number({ message: "must be a number" }).int("must be a whole number").min(
    min,
    `must be at least ${min}`,
  )
    .max(max, `must be at most ${max}`).default(fallback);
const ms = (min: number, max: number, fallback: number) => int(min, max, fallback);
const list = z.string().default("").transform((value) =>
  value.split(",").map((item) => item.trim()).filter((item) => item.length > 0)
);

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/;
const validPort = (port: string) => Number(port) >= 1 && Number(port) <= 65_535;

/** Each broker as host:port, as the Kafka clients need it; refused at start-up, not at first send. */
const brokers = list.superRefine((entries, ctx) => {
  for (const entry of entries) {
    const match = HOST_PORT.exec(entry);
    if (!match || !validPort(match[2])) {
      ctx.addIssue({
        code: "custom",
        message: `"${entry.slice(0, 100)}" is not host:port with a port from 1 to 65535, ` +
          "such as kafka-1.internal:9092",
      });
    }
  }
});

/**
 * A postgres:// URL that postgres.js can read, every host with a port from 1 to 65535 when one is
 * given. The message quotes the URL with its password masked.
 */
const databaseUrl = z.string().superRefine((url, ctx) => {
  const problem = `must be a postgres:// URL with a host and a port from 1 to 65535, such as ` +
    `postgres://ingest@db.internal:5432/ingest (got "${redactSecrets(url).slice(0, 200)}")`;
  const authority = /^postgres(?:ql)?:\/\/([^/?#]*)/.exec(url)?.[1];
  // postgres.js reads several hosts from one URL ("a:5432,b:5432") and parses it with the first.
  const hosts = authority?.slice(authority.lastIndexOf("@") + 1).split(",") ?? [];
  const ok = authority !== undefined && hosts.every((host) => {
    const port = /:(\d*)$/.exec(host)?.[1];
    return host.length > 0 && (port === undefined || (port !== "" && validPort(port)));
  }) && URL.canParse(url.replace(authority, authority.split(",")[0]));
  if (!ok) ctx.addIssue({ code: "custom", message: problem });
});
/** Settings that may change on a running service (SIGHUP re-reads CONFIG_FILE). */
export const TunablesSchema = z.object({
  BATCH_CHUNK_SIZE: int(1, 10_000, 500),
  PUBLISH_CHANNEL_CAPACITY: int(1, 1_000_000, 20_000),
  PUBLISH_CHANNEL_MAX_BYTES: int(64 * 1024, 4 * 1024 * 1024 * 1024, 16 * 1024 * 1024),
  PUBLISH_CONCURRENCY: int(1, 64, 4),
  PUBLISH_BATCH_MAX: int(1, 10_000, 1000),
  // Below the broker's message.max.bytes (1 MiB by default), with room for one more message.
  PUBLISH_BATCH_MAX_BYTES: int(64 * 1024, 1024 * 1024 * 1024, 768 * 1024),
  PUBLISH_RETRY_ATTEMPTS: int(0, 100, 3),
  PUBLISH_RETRY_INITIAL_DELAY_MS: ms(0, 600_000, 200),
  PUBLISH_RETRY_MULTIPLIER: z.coerce.number({ message: "must be a number" }).min(
    1,
    "must be at least 1",
  )
    .max(10, "must be at most 10").default(2),
  PUBLISH_RETRY_MAX_DELAY_MS: ms(0, 3_600_000, 5_000),
  PUBLISH_RETRY_JITTER: z.coerce.number({ message: "must be a number" }).min(
    0,
    "must be at least 0",
  )
    .max(1, "must be at most 1").default(0.2),
  PUBLISH_BREAKER_THRESHOLD: int(1, 1000, 5),
  PUBLISH_BACKLOG_MAX: int(0, 100_000_000, 20_000),
  PUBLISH_BACKLOG_WAIT_MS: ms(0, 60_000, 1000),
  PUBLISH_BREAKER_HALF_OPEN_MS: ms(10, 3_600_000, 5_000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
});

const BaseSchema = z.object({
  APP_ENV: z.enum(["development", "production"]).default("development"),
  HOST: z.string().default("127.0.0.1"),
  PORT: int(0, 65_535, 8080),
  DATABASE_URL: databaseUrl.optional(),
  DATA_DIR: z.string().default("./data"),
  DB_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case SQL identifier")
    .default(
      "public",
    ),
  DB_POOL_MAX: int(1, 1000, 10),
  DB_IDLE_TIMEOUT_S: int(0, 86_400, 30),
  DB_MAX_LIFETIME_S: int(0, 86_400, 1800),
  DB_CONNECT_TIMEOUT_S: int(1, 600, 5),
  DB_STATEMENT_TIMEOUT_MS: ms(0, 3_600_000, 30_000),
  DB_ACQUIRE_TIMEOUT_MS: ms(1, 600_000, 10_000),
  DB_QUEUE_MAX: int(0, 1_000_000, 1000),
  BATCH_MAX_ITEMS: int(1, 1_000_000, 10_000),
  BATCH_MAX_BYTES: int(1024, 1024 * 1024 * 1024, 16 * 1024 * 1024),
  BATCH_MAX_CONCURRENT: int(1, 1000, 16),
  BATCH_CHUNK_CONCURRENCY: int(1, 64, 2),
  BATCH_QUEUE_MAX: int(0, 100_000, 256),
  BATCH_QUEUE_TIMEOUT_MS: ms(1, 600_000, 15_000),
  BATCH_READ_TIMEOUT_MS: ms(100, 3_600_000, 30_000),
  // 24 MiB: what the start task's heap holds with room to spare (README, "Memory budget").
  BATCH_BYTES_IN_FLIGHT: int(1024, 16 * 1024 * 1024 * 1024, 24 * 1024 * 1024),
  BATCH_MAX_VALUES: int(1000, 100_000_000, 500_000),
  BATCH_FAILURES_KEPT: int(0, 1_000_000, 1000),
  BATCH_RETENTION_DAYS: int(0, 36_500, 30),
  KAFKA_BROKERS: brokers,
  KAFKA_TOPIC: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, "must be a valid Kafka topic name")
    .default(
      "executions",
    ),
  KAFKA_CLIENT: z.enum(["platformatic", "kafkajs"], {
    message: "must be platformatic or kafkajs",
  }).default("platformatic"),
  KAFKA_CLIENT_ID: z.string().min(1).default("execution-ingest"),
  PUBLISH_IN_WORKER: z.enum(["true", "false"], { message: "must be true or false" }).default(
    "true",
  ).transform((value) => value === "true"),
  KAFKA_CONNECT_TIMEOUT_MS: ms(100, 600_000, 3000),
  KAFKA_REQUEST_TIMEOUT_MS: ms(100, 600_000, 30_000),
  EVENT_SOURCE: z.string().min(1).default("/execution-ingest"),
  OUTBOX_RELAY_INTERVAL_MS: ms(10, 3_600_000, 1000),
  OUTBOX_RELAY_BATCH: int(1, 100_000, 5000),
  OUTBOX_RELAY_MAX_BYTES: int(64 * 1024, 4 * 1024 * 1024 * 1024, 4 * 1024 * 1024),
  OUTBOX_LEASE_MS: ms(100, 3_600_000, 10_000),
  API_KEYS: list,
  ADMIN_API_KEYS: list,
  SHUTDOWN_TIMEOUT_MS: ms(0, 600_000, 10_000),
  // Signs the operator console's session cookies; without it each process draws its own (refused
  // on Deno Deploy, where several instances serve one console).
  CONSOLE_SESSION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  CONSOLE_SESSION_TTL_MIN: int(1, 10_080, 480),
  CONSOLE_FORM_MAX_BYTES: int(1024, 1024 * 1024, 8192),
  CONFIG_FILE: z.string().optional(),
  // Written by `deno task build:cli` (the start task and the image run it); served at /cli/submit.mjs.
  CLI_BUNDLE_PATH: z.string().min(1).default("dist/submit.mjs"),
  /** Set by Deno Deploy in every instance: the service is on the platform (see deployRules). */
  DENO_DEPLOYMENT_ID: z.string().optional(),
}).extend(TunablesSchema.shape);

/** The whole configuration schema: every variable the service reads, with its default. */
export const ConfigSchema = BaseSchema.superRefine((config, ctx) => {
  if (config.DENO_DEPLOYMENT_ID !== undefined) deployRules(config, ctx);
  // Deno Deploy serves a public URL: no keys there would leave every route open, as in production.
  const onDeploy = config.DENO_DEPLOYMENT_ID !== undefined;
  if (
    (config.APP_ENV === "production" || onDeploy) &&
    config.API_KEYS.length + config.ADMIN_API_KEYS.length === 0
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["API_KEYS"],
      message: onDeploy
        ? "Deno Deploy needs at least one API key (DENO_DEPLOYMENT_ID is set)"
        : "production mode needs at least one API key (or set APP_ENV=development)",
    });
  }
  if (config.BATCH_BYTES_IN_FLIGHT < config.BATCH_MAX_BYTES) {
    ctx.addIssue({
      code: "custom",
      path: ["BATCH_BYTES_IN_FLIGHT"],
      message: `must be at least BATCH_MAX_BYTES (${config.BATCH_MAX_BYTES}), or a body of ` +
        "the largest allowed size could never be read",
    });
  }
});

/**
 * Deno Deploy stops an instance whenever traffic stops (SIGINT, then SIGKILL 5 s later) and keeps
 * none of its disk: defaults that differ there, applied under whatever the environment sets.
 */
export const DEPLOY_DEFAULTS: Readonly<Record<string, string>> = {
  SHUTDOWN_TIMEOUT_MS: "4000",
};
/** Deno Deploy's SIGKILL comes this long after its SIGINT. */
const DEPLOY_KILL_AFTER_MS = 5000;

/** What Deno Deploy cannot do: each problem names the variable and what to set instead. */
function deployRules(config: z.infer<typeof BaseSchema>, ctx: z.RefinementCtx) {
  const problem = (path: string, message: string) =>
    ctx.addIssue({
      code: "custom",
      path: [path],
      message: `${message} (DENO_DEPLOYMENT_ID is set)`,
    });
  if (config.DATABASE_URL === undefined) {
    problem(
      "DATABASE_URL",
      "is required on Deno Deploy: the embedded database would write to a disk that is not kept " +
        "when the instance stops, and every instance would have its own; point it at a PostgreSQL server",
    );
  }
  if (config.KAFKA_BROKERS.length === 0) {
    problem(
      "KAFKA_BROKERS",
      "is required on Deno Deploy: without brokers no instance publishes, and events would only pile up in the outbox",
    );
  }
  if (config.CONSOLE_SESSION_SECRET === undefined) {
    problem(
      "CONSOLE_SESSION_SECRET",
      "is required on Deno Deploy: several instances serve the console, and without one shared " +
        "secret each signs its own sessions, so a session from one is refused by the next; set " +
        "at least 32 random characters, the same on every instance",
    );
  }
  if (config.SHUTDOWN_TIMEOUT_MS >= DEPLOY_KILL_AFTER_MS) {
    problem(
      "SHUTDOWN_TIMEOUT_MS",
      `must be below ${DEPLOY_KILL_AFTER_MS} on Deno Deploy, which kills an instance ` +
        `${DEPLOY_KILL_AFTER_MS / 1000} s after asking it to stop`,
    );
  }
}

/** The parsed configuration. */
export type Config = z.infer<typeof ConfigSchema>;
/** The settings that can change at run time. */
export type Tunables = z.infer<typeof TunablesSchema>;

/** Thrown when configuration is invalid; its message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message
  );
}

/** Parses the environment once; empty values count as unset. Throws ConfigError. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) =>
      value !== undefined && value.trim() !== "" && key in ConfigSchema.shape
    ),
  );
  const defaults = present.DENO_DEPLOYMENT_ID === undefined ? {} : DEPLOY_DEFAULTS;
  const result = ConfigSchema.safeParse({ ...defaults, ...present });
  if (!result.success) throw new ConfigError(problemsOf(result.error));
  return result.data;
}

/** The tunables of a parsed configuration: the environment's values, before any file. */
export function tunablesOf(config: Config): Tunables {
  return TunablesSchema.parse(
    Object.fromEntries(
      Object.keys(TunablesSchema.shape).map((key) => [key, config[key as keyof Config]]),
    ),
  );
}

/** Reads the tunables file at `path`, layered over the environment's values. Throws ConfigError. */
export async function readTunablesFile(base: Config, path: string): Promise<Tunables> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError([`CONFIG_FILE: cannot read "${path}" (${(error as Error).name})`]);
  }
  return parseTunablesFile(text, tunablesOf(base), path);
}

/**
 * Parses the tunables file (JSON, same variable names), layered over the environment's values.
 * Unknown keys are refused so that a typo is not silently ignored. Throws ConfigError.
 */
export function parseTunablesFile(text: string, base: Tunables, fileName: string): Tunables {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`${fileName}: is not valid JSON (${(error as Error).message})`]);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ConfigError([
      `${fileName}: must hold a JSON object of settings, such as {"BATCH_CHUNK_SIZE": 500}`,
    ]);
  }
  const result = TunablesSchema.strict().safeParse({ ...base, ...json });
  if (!result.success) {
    throw new ConfigError(problemsOf(result.error).map((p) => `${fileName}: ${p}`));
  }
  return result.data;
}
