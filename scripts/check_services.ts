// Fails fast, one line per problem that says what to do, when the PostgreSQL or Kafka that the tests
// and benchmarks need is not there. Usage: check_services.ts [postgres] [kafka] (both by default).
import { Kafka, logLevel } from "kafkajs";
import postgres from "postgres";
import { redactSecrets } from "../src/redact.ts";

const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";

/** Why PostgreSQL cannot be used, and the one thing to do about it. */
export function postgresAdvice(databaseUrl: string, error: { code?: string; message: string }) {
  const url = new URL(databaseUrl);
  const where = `${url.hostname}:${url.port || 5432}`;
  const user = decodeURIComponent(url.username) || "postgres";
  const database = decodeURIComponent(url.pathname.slice(1)) || user;
  const fromEnv = databaseUrl === DEFAULT_DATABASE_URL ? "" : " (from DATABASE_URL)";
  switch (error.code) {
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EHOSTUNREACH":
    case "CONNECT_TIMEOUT":
      return `nothing answers at ${where}${fromEnv}: ${error.message}. Start a PostgreSQL server ` +
        "there (Debian: apt-get install postgresql), or point DATABASE_URL at one.";
    case "3D000":
      return `the server at ${where} has no database "${database}". Create it: ` +
        `createdb -h ${url.hostname} -U ${user} ${database}`;
    case "28P01":
      return `the server at ${where} refused user "${user}" without a password. Let it in ` +
        `(pg_hba.conf: "host all ${user} 127.0.0.1/32 trust", then reload PostgreSQL), or put ` +
        "the password in DATABASE_URL.";
    case "28000":
      return /role .* does not exist/.test(error.message)
        ? `the server at ${where} has no role "${user}". Create it as a superuser: ` +
          `createuser -h ${url.hostname} --superuser ${user}, or name another user in DATABASE_URL.`
        : `the server at ${where} refused user "${user}": ${error.message}. Allow it in ` +
          `pg_hba.conf ("host all ${user} 127.0.0.1/32 trust"), then reload PostgreSQL.`;
    default:
      return `cannot use ${redactSecrets(databaseUrl)}: ${error.message}`;
  }
}

async function checkPostgres(databaseUrl: string): Promise<boolean> {
  const sql = postgres(databaseUrl, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const [{ version }] = await sql`select current_setting('server_version') as version`;
    console.error(`PostgreSQL ${version} is reachable at ${redactSecrets(databaseUrl)}`);
    return true;
  } catch (error) {
    console.error(`PostgreSQL: ${postgresAdvice(databaseUrl, error as Error & { code?: string })}`);
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

async function checkKafka(brokers: string[]): Promise<boolean> {
  if (brokers.length === 0) {
    console.error("Kafka: KAFKA_BROKERS is empty; the test command should have started a broker.");
    return false;
  }
  const admin = new Kafka({
    clientId: "check-services",
    brokers,
    connectionTimeout: 3000,
    retry: { retries: 2, initialRetryTime: 300 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    console.error(`Kafka is reachable at ${brokers.join(",")} (${cluster.brokers.length} broker)`);
    return true;
  } catch (error) {
    console.error(
      `Kafka: nothing usable answers at ${brokers.join(",")} (${(error as Error).message}). ` +
        "Unset KAFKA_BROKERS to let the command start its own broker (scripts/kafka.sh).",
    );
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

if (import.meta.main) {
  const wanted = Deno.args.length ? Deno.args : ["postgres", "kafka"];
  let ok = true;
  if (wanted.includes("postgres")) {
    ok = await checkPostgres(Deno.env.get("DATABASE_URL") || DEFAULT_DATABASE_URL) && ok;
  }
  if (wanted.includes("kafka")) {
    const brokers = (Deno.env.get("KAFKA_BROKERS") ?? "").split(",").filter(Boolean);
    ok = await checkKafka(brokers) && ok;
  }
  Deno.exit(ok ? 0 : 1);
}
