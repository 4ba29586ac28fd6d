// The one postgres.js pool, behind a limiter that bounds waiting and maps failures to StorageError.
import postgres, { type Sql } from "postgres";
import { createLimiter, type Limiter } from "../domain/limiter.ts";
import { toStorageError } from "./pg_errors.ts";

/** Options of createDb; config.ts supplies them from the environment. */
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
  /** Closes the pool, waiting up to `timeoutSeconds` for running queries. */
  close(timeoutSeconds?: number): Promise<void>;
}

/** Creates the pool. No connection is opened until the first query. */
export function createDb(options: DbOptions): Db {
  const schema = options.schema ?? "public";
  const poolMax = options.poolMax ?? 10;
  const onQuery = options.onQuery;
  const sql = postgres(options.url, {
    max: poolMax,
    idle_timeout: options.idleTimeoutSeconds ?? 30,
    max_lifetime: options.maxLifetimeSeconds ?? 1800,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    connection: {
      application_name: "execution-ingest",
      search_path: schema,
      statement_timeout: options.statementTimeoutMs ?? 30_000,
    },
    // Server notices (such as "relation already exists, skipping") are not worth a log line.
    onnotice: () => {},
    debug: onQuery ? (_connection, query) => onQuery(query) : undefined,
  });
  // postgres.js can wait forever on a server that accepts a connection and then drops it during
  // start-up (seen with a dying proxy); past this deadline the caller gets "unavailable" instead.
  const deadlineMs = (options.statementTimeoutMs ?? 30_000) +
    (options.connectTimeoutSeconds ?? 5) * 1000 + 1000;
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
    close: (timeoutSeconds = 5) => sql.end({ timeout: timeoutSeconds }),
  };
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
