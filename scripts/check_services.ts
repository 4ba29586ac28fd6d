// Fails fast, naming the service, when the PostgreSQL or Kafka the tests need is not reachable.
import { Kafka, logLevel } from "kafkajs";
import postgres from "postgres";

const databaseUrl = Deno.env.get("DATABASE_URL") ?? "postgres://postgres@127.0.0.1:5432/test";
const brokers = (Deno.env.get("KAFKA_BROKERS") ?? "").split(",").filter(Boolean);
const redacted = databaseUrl.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
let failed = false;

const sql = postgres(databaseUrl, { max: 1, connect_timeout: 5, onnotice: () => {} });
try {
  const [{ version }] = await sql`select current_setting('server_version') as version`;
  console.error(`PostgreSQL ${version} is reachable at ${redacted}`);
} catch (error) {
  failed = true;
  console.error(`PostgreSQL is NOT reachable at ${redacted}: ${(error as Error).message}`);
  console.error("Start it, or point DATABASE_URL at a running server.");
} finally {
  await sql.end({ timeout: 1 }).catch(() => {});
}

if (brokers.length === 0) {
  failed = true;
  console.error("Kafka: KAFKA_BROKERS is empty; the test command should have started a broker.");
} else {
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
  } catch (error) {
    failed = true;
    console.error(`Kafka is NOT reachable at ${brokers.join(",")}: ${(error as Error).message}`);
    console.error(
      "Unset KAFKA_BROKERS to let the test command start its own broker (scripts/kafka.sh).",
    );
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

Deno.exit(failed ? 1 : 0);
