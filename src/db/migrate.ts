// Forward-only SQL migrations: files in ./migrations applied in name order, recorded in a table.
import type { Sql } from "postgres";

const MIGRATIONS_DIR = new URL("./migrations/", import.meta.url);

/** One migration file. */
export interface Migration {
  version: string;
  sql: string;
}

/** Reads the migration files, ordered by name. */
export async function readMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".sql")) continue;
    const sql = await Deno.readTextFile(new URL(entry.name, dir));
    migrations.push({ version: entry.name.replace(/\.sql$/, ""), sql });
  }
  return migrations.sort((a, b) => a.version.localeCompare(b.version));
}

/**
 * Applies the migrations not yet recorded, in one transaction under an advisory lock, so that
 * instances starting together apply each exactly once. Returns the versions applied now.
 */
export async function migrate(
  sql: Sql,
  schema: string,
  migrations?: Migration[],
): Promise<string[]> {
  const files = migrations ?? await readMigrations();
  await sql`create schema if not exists ${sql(schema)}`;
  return await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext(${"execution-ingest:migrate:" + schema}))`;
    await tx`create table if not exists ${tx(schema)}.schema_migrations (
      version text primary key,
      applied_at timestamptz not null default now()
    )`;
    const done = new Set(
      (await tx`select version from ${tx(schema)}.schema_migrations`).map((row) => row.version),
    );
    const applied: string[] = [];
    for (const migration of files) {
      if (done.has(migration.version)) continue;
      await tx.unsafe(`set local search_path to "${schema.replaceAll('"', '""')}"`);
      await tx.unsafe(migration.sql);
      await tx`insert into ${tx(schema)}.schema_migrations (version) values (${migration.version})`;
      applied.push(migration.version);
    }
    return applied;
  });
}
