// Opens the service's database, a PostgreSQL server or the embedded one (PGlite), with its schema
// migrated: every choice the embedded server imposes on the pool is made here, and only here.
import type { Logger } from "../domain/ports.ts";
import { safeMessage } from "../redact.ts";
import { createDb, type Db, type DbOptions, pinSession } from "./client.ts";
import type { EmbeddedPostgres } from "./embedded_postgres.ts";
import { migrate } from "./migrate.ts";

/** Options of openDatabase. */
export interface DatabaseOptions {
  /** A PostgreSQL server's URL; absent, the embedded PostgreSQL keeps its data in `dataDir`. */
  url?: string;
  /** Where the embedded PostgreSQL keeps its data (in a `pglite` folder). */
  dataDir: string;
  /** The pool's settings (a server's; the embedded one overrides what it cannot serve). */
  pool: Omit<DbOptions, "url" | "onQuery">;
  /** Passed to the pool: sees every statement's text. */
  onQuery?: DbOptions["onQuery"];
}

/** An open, migrated database. */
export interface Database {
  readonly db: Db;
  /**
   * Options of another pool on the same database (for the publishing worker), or undefined when
   * the database serves one connection only, as the embedded one does.
   */
  secondPool(poolMax: number): DbOptions | undefined;
  /** One cheap round trip; rejects when the database is down (readiness asks it). */
  ping(): Promise<void>;
  /** Closes the pool, waiting up to `timeoutSeconds` for running queries, then the embedded server. */
  close(timeoutSeconds: number): Promise<void>;
}

/** Opens the pool (starting the embedded server first when there is no URL) and migrates the schema. */
export async function openDatabase(options: DatabaseOptions, logger: Logger): Promise<Database> {
  const embedded = options.url ? undefined : await startEmbedded(options.dataDir, logger);
  const pool: DbOptions = embedded
    ? {
      ...options.pool,
      url: embedded.url,
      // The embedded server serves one connection, and all its connections share one session;
      // each reconnect would leave prepared statements in that session.
      poolMax: 1,
      idleTimeoutSeconds: 0,
      maxLifetimeSeconds: 0,
    }
    : { ...options.pool, url: options.url! };
  const db = createDb({ ...pool, onQuery: options.onQuery });
  try {
    // A first query without array parameters avoids porsager/postgres#789 on a new pool; it is
    // also the one bounded by the connect timeout, naming the host when the server misbehaves.
    await db.ping();
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  try {
    // The embedded server ignores connection parameters; its one shared session keeps these.
    if (embedded) await pinSession(db);
    const applied = await migrate(db.sql, db.schema);
    logger.info(
      { schema: db.schema, applied },
      applied.length ? "Migrations applied" : "Schema is current",
    );
  } catch (error) {
    await db.close(1).catch(() => {});
    await embedded?.stop();
    throw new Error(
      `Cannot start: the schema cannot be migrated (${safeMessage(error)})`,
      { cause: error },
    );
  }
  return {
    db,
    secondPool: (poolMax) => (embedded ? undefined : { ...pool, poolMax }),
    ping: () => db.run(async (sql) => void await sql`select 1`),
    async close(timeoutSeconds) {
      await db.close(timeoutSeconds);
      await embedded?.stop();
    },
  };
}

// Loaded only when needed: PGlite costs memory and start-up time a real server does not.
async function startEmbedded(dataDir: string, logger: Logger): Promise<EmbeddedPostgres> {
  const { startEmbeddedPostgres } = await import("./embedded_postgres.ts");
  const embedded = await startEmbeddedPostgres({ dataDir: `${dataDir}/pglite` });
  logger.info(
    { dataDir: `${dataDir}/pglite` },
    "No DATABASE_URL: using the embedded PostgreSQL (PGlite); for production, point DATABASE_URL at a PostgreSQL server",
  );
  return embedded;
}
