// The one postgres.js pool, behind a limiter that bounds waiting and maps failures to StorageError.
import postgres, { type Sql } from "postgres";
import { createLimiter, type Limiter } from "../limiter.ts";
import { redactSecrets, safeMessage } from "../redact.ts";
import { toStorageError } from "./pg_errors.ts";
import { parseTimestamp, serializeTimestamp } from "./timestamp.ts";

// Every session runs in UTC with ISO dates, whatever the server's or the database's defaults: the
// timestamp parser then only ever reads "+00", and a read never depends on the database's zone.
const SESSION = { TimeZone: "UTC", DateStyle: "ISO, MDY" } as const;
const TIMESTAMP_OIDS = [1114, 1184];

/** Options of createDb; settings.ts maps them from the configuration, db/database.ts opens the pool. */
export interface DbOptions {
  url: string;
  /** Schema holding the tables; every connection's search_path points at it. @default "public" */
  schema?: string;
  /** Connections in the pool. @default 10 */
  poolMax?: number;
  /** Seconds before an idle connection is closed. @default 30 */
  idleTimeoutSeconds?: number;
  /** Seconds before a connection is replaced. @default 1800 */
  maxLifetimeSeconds?: number;
  /** Seconds to wait for a new connection. @default 5 */
  connectTimeoutSeconds?: number;
  /** Server-side limit per statement, in milliseconds. @default 30000 */
  statementTimeoutMs?: number;
  /** How long a query may wait for a free connection, in milliseconds. @default 10000 */
  acquireTimeoutMs?: number;
  /** How many queries may wait for a connection. @default 1000 */
  queueMax?: number;
  /** Called with the text of every statement sent (tests count statements with it). */
  onQuery?: (query: string) => void;
}

/** The database handle every store receives. */
export interface Db {
  /** The raw pool; prefer `run`, which bounds waiting and maps errors. */
  readonly sql: Sql;
  readonly schema: string;
  /** The limiter in front of the pool (its counts feed the pool metrics). */
  readonly limiter: Limiter;
  readonly poolMax: number;
  /** Runs one unit of work on the pool; failures come out as StorageError. */
  run<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  /**
   * The first round trip of a new pool, within the connect timeout plus one second. postgres.js
   * retries without end, and without a log line, a server that reads the start-up message and
   * hangs up; past the deadline this rejects with an error naming the host (never the password).
   */
  ping(): Promise<void>;
  /** Closes the pool, waiting up to `timeoutSeconds` for running queries. */
  close(timeoutSeconds?: number): Promise<void>;
}

/** Creates the pool. No connection is opened until the first query. */
export function createDb(options: DbOptions): Db {
  const schema = options.schema ?? "public";
  const poolMax = options.poolMax ?? 10;
  const onQuery = options.onQuery;
  const connectTimeoutSeconds = options.connectTimeoutSeconds ?? 5;
  let sql: Sql;
  try {
    sql = postgres(options.url, {
      max: poolMax,
      idle_timeout: options.idleTimeoutSeconds ?? 30,
      max_lifetime: options.maxLifetimeSeconds ?? 1800,
      connect_timeout: connectTimeoutSeconds,
      connection: {
        application_name: "execution-ingest",
        search_path: schema,
        statement_timeout: options.statementTimeoutMs ?? 30_000,
        ...SESSION,
      },
      // Timestamps come back as exact ISO strings: `new Date(text)` reads year 0050 as 1950 and
      // cannot read offsets with seconds at all.
      types: {
        timestamp: {
          to: 1184,
          from: TIMESTAMP_OIDS,
          serialize: serializeTimestamp,
          parse: parseTimestamp,
        },
      },
      // Server notices (such as "relation already exists, skipping") are not worth a log line.
      onnotice: () => {},
      debug: onQuery ? (_connection, query) => onQuery(query) : undefined,
    });
  } catch (error) {
    // postgres.js quotes the whole URL, password included, when it cannot parse it.
    throw new Error(`Cannot use DATABASE_URL: ${safeMessage(error)}`);
  }
  const target = describeTarget(options.url);
  // Time for a new session: the connect timeout plus a second for the start-up (ping's deadline).
  const connectDeadlineMs = connectTimeoutSeconds * 1000 + 1000;
  // postgres.js can wait forever on a server that accepts a connection and then drops it during
  // start-up (seen with a dying proxy); past this deadline the caller gets "unavailable" instead.
  const deadlineMs = (options.statementTimeoutMs ?? 30_000) + connectDeadlineMs;
  const limiter = createLimiter({
    concurrency: poolMax,
    queueMax: options.queueMax ?? 1000,
    timeoutMs: options.acquireTimeoutMs ?? 10_000,
  });
  return {
    sql,
    schema,
    limiter,
    poolMax,
    async run(work) {
      try {
        return await limiter.run(() => withDeadline(work(sql), deadlineMs));
      } catch (error) {
        throw toStorageError(error);
      }
    },
    async ping() {
      try {
        await withDeadline(sql`select 1`, connectDeadlineMs);
      } catch (error) {
        // Stop the reconnect loop a server that hangs up during start-up keeps going.
        await sql.end({ timeout: 0 }).catch(() => {});
        const why = error instanceof DeadlineError
          ? `no session within ${connectDeadlineMs} ms (the server accepts connections but does not complete the start-up)`
          : safeMessage(error);
        throw new Error(`Cannot connect to PostgreSQL at ${target}: ${why}`, { cause: error });
      }
    },
    close: (timeoutSeconds = 5) => sql.end({ timeout: timeoutSeconds }),
  };
}

/** `host:port, database "db" as user "u"` from a database URL, for messages; never the password. */
function describeTarget(url: string): string {
  try {
    const parsed = new URL(url);
    const port = parsed.port || "5432";
    const user = parsed.username ? ` as user "${decodeURIComponent(parsed.username)}"` : "";
    return `${parsed.hostname}:${port}, database "${parsed.pathname.slice(1)}"${user}`;
  } catch {
    return redactSecrets(url);
  }
}

/** Pins the session settings on a server that ignores start-up parameters (the embedded one). */
export async function pinSession(db: Db): Promise<void> {
  await db.sql.unsafe(`set search_path to "${db.schema}"`);
  for (const [name, value] of Object.entries(SESSION)) {
    await db.sql.unsafe(`set ${name} to '${value}'`);
  }
}

/** Thrown when a unit of work outlives its deadline. */
export class DeadlineError extends Error {
  constructor(ms: number) {
    super(`no answer from the database within ${ms} ms`);
    this.name = "DeadlineError";
  }
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(ms)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
