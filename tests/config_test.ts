// loadConfig and parseTunablesFile: defaults, every bad variable named, empty = unset, lists, the tunables file.
import assert from "node:assert/strict";
import { loadConfig, parseTunablesFile, type Tunables, TunablesSchema } from "../src/config.ts";
import { problemsOf } from "./_config.ts";

Deno.test("loadConfig with an empty environment gives every default", () => {
  const config = loadConfig({});
  assert.deepEqual(
    {
      APP_ENV: config.APP_ENV,
      HOST: config.HOST,
      PORT: config.PORT,
      DATABASE_URL: config.DATABASE_URL,
      DATA_DIR: config.DATA_DIR,
      DB_SCHEMA: config.DB_SCHEMA,
      DB_POOL_MAX: config.DB_POOL_MAX,
      BATCH_MAX_ITEMS: config.BATCH_MAX_ITEMS,
      BATCH_MAX_BYTES: config.BATCH_MAX_BYTES,
      BATCH_CHUNK_SIZE: config.BATCH_CHUNK_SIZE,
      KAFKA_BROKERS: config.KAFKA_BROKERS,
      KAFKA_TOPIC: config.KAFKA_TOPIC,
      API_KEYS: config.API_KEYS,
      ADMIN_API_KEYS: config.ADMIN_API_KEYS,
      PUBLISH_RETRY_ATTEMPTS: config.PUBLISH_RETRY_ATTEMPTS,
      PUBLISH_RETRY_MULTIPLIER: config.PUBLISH_RETRY_MULTIPLIER,
      PUBLISH_RETRY_JITTER: config.PUBLISH_RETRY_JITTER,
      LOG_LEVEL: config.LOG_LEVEL,
      CONFIG_FILE: config.CONFIG_FILE,
    },
    {
      APP_ENV: "development",
      HOST: "127.0.0.1",
      PORT: 8080,
      DATABASE_URL: undefined,
      DATA_DIR: "./data",
      DB_SCHEMA: "public",
      DB_POOL_MAX: 10,
      BATCH_MAX_ITEMS: 10_000,
      BATCH_MAX_BYTES: 16 * 1024 * 1024,
      BATCH_CHUNK_SIZE: 500,
      KAFKA_BROKERS: [],
      KAFKA_TOPIC: "executions",
      API_KEYS: [],
      ADMIN_API_KEYS: [],
      PUBLISH_RETRY_ATTEMPTS: 3,
      PUBLISH_RETRY_MULTIPLIER: 2,
      PUBLISH_RETRY_JITTER: 0.2,
      LOG_LEVEL: "info",
      CONFIG_FILE: undefined,
    },
  );
});

Deno.test("loadConfig reads numbers, enums and URLs from their strings", () => {
  const config = loadConfig({
    APP_ENV: "production",
    API_KEYS: "key-0123456789",
    PORT: "9090",
    DATABASE_URL: "postgresql://user@db:5432/app",
    DB_SCHEMA: "ingest_1",
    PUBLISH_RETRY_JITTER: "0.5",
    LOG_LEVEL: "debug",
  });
  assert.equal(config.APP_ENV, "production");
  assert.equal(config.PORT, 9090);
  assert.equal(config.DATABASE_URL, "postgresql://user@db:5432/app");
  assert.equal(config.DB_SCHEMA, "ingest_1");
  assert.equal(config.PUBLISH_RETRY_JITTER, 0.5);
  assert.equal(config.LOG_LEVEL, "debug");
});

Deno.test("loadConfig names the variable whose value is invalid", async (t) => {
  const cases: Array<[string, string]> = [
    ["PORT", "eighty"],
    ["PORT", "65536"],
    ["PORT", "80.5"],
    ["DB_POOL_MAX", "0"],
    ["BATCH_MAX_BYTES", "1000"],
    ["DATABASE_URL", "mysql://localhost/db"],
    ["DB_SCHEMA", "Bad-Schema"],
    ["APP_ENV", "staging"],
    ["LOG_LEVEL", "loud"],
    ["KAFKA_TOPIC", "bad topic"],
    ["PUBLISH_RETRY_JITTER", "1.5"],
    ["DATABASE_URL", "postgres://u:pw@127.0.0.1:99999/db"],
    ["DATABASE_URL", "postgres://u:pw@/db"],
    ["DATABASE_URL", "postgres://host:port/db"],
    ["KAFKA_BROKERS", "nohost"],
    ["KAFKA_BROKERS", "a:9092,b"],
    ["KAFKA_BROKERS", ":9092"],
    ["KAFKA_BROKERS", "host:0"],
    ["BATCH_READ_TIMEOUT_MS", "10"],
    ["BATCH_BYTES_IN_FLIGHT", "1048576"],
  ];
  for (const [name, value] of cases) {
    await t.step(`${name}=${value}`, () => {
      const problems = problemsOf(() => loadConfig({ [name]: value }));
      assert.equal(problems.length, 1);
      assert.match(problems[0], new RegExp(`^${name}: `));
    });
  }

  await t.step("the error's message lists the variable too", () => {
    assert.throws(() => loadConfig({ PORT: "eighty" }), /Invalid configuration:\n {2}- PORT: /);
  });
});

Deno.test("production mode needs at least one API key, user or admin; development needs none", () => {
  const [problem, ...rest] = problemsOf(() => loadConfig({ APP_ENV: "production" }));
  assert.deepEqual(rest, []);
  assert.equal(
    problem,
    "API_KEYS: production mode needs at least one API key (or set APP_ENV=development)",
  );
  assert.equal(loadConfig({ APP_ENV: "production", API_KEYS: "k1" }).API_KEYS.length, 1);
  assert.equal(loadConfig({ APP_ENV: "production", ADMIN_API_KEYS: "a1" }).APP_ENV, "production");
  assert.equal(loadConfig({}).APP_ENV, "development");
});

Deno.test("loadConfig accepts the URLs and broker lists the clients read", () => {
  for (
    const url of [
      "postgres://u:pw@db:5432/app",
      "postgresql://db/app",
      "postgres://u:p@ss@[::1]:5432/app?sslmode=require",
      "postgres://u:pw@db-1:5432,db-2:5433/app",
    ]
  ) assert.equal(loadConfig({ DATABASE_URL: url }).DATABASE_URL, url);
  assert.deepEqual(
    loadConfig({ KAFKA_BROKERS: "kafka-1.internal:9092, 10.0.0.7:19092,[::1]:9092" }).KAFKA_BROKERS,
    ["kafka-1.internal:9092", "10.0.0.7:19092", "[::1]:9092"],
  );
});

Deno.test("a bad DATABASE_URL is quoted with its password masked", () => {
  const [problem] = problemsOf(() =>
    loadConfig({ DATABASE_URL: "postgres://u:s3cr3tpw@127.0.0.1:99999/db" })
  );
  assert.match(problem, /"postgres:\/\/u:\*\*\*@127\.0\.0\.1:99999\/db"/);
  assert.ok(!problem.includes("s3cr3tpw"));
});

Deno.test("BATCH_BYTES_IN_FLIGHT defaults to 24 MiB and must hold at least one body of BATCH_MAX_BYTES", () => {
  const config = loadConfig({});
  assert.deepEqual(
    [config.BATCH_BYTES_IN_FLIGHT, config.BATCH_READ_TIMEOUT_MS],
    [24 * 1024 * 1024, 30_000],
  );
  const [problem] = problemsOf(() => loadConfig({ BATCH_MAX_BYTES: String(64 * 1024 * 1024) }));
  assert.match(problem, /^BATCH_BYTES_IN_FLIGHT: must be at least BATCH_MAX_BYTES \(67108864\)/);
  const both = loadConfig({
    BATCH_MAX_BYTES: String(64 * 1024 * 1024),
    BATCH_BYTES_IN_FLIGHT: String(64 * 1024 * 1024),
  });
  assert.equal(both.BATCH_BYTES_IN_FLIGHT, 64 * 1024 * 1024);
});

Deno.test("publishing's byte bounds default to 16 MiB held, 768 KiB per send and 4 MiB per relay claim, and refuse less than 64 KiB", () => {
  const config = loadConfig({});
  assert.deepEqual(
    [
      config.PUBLISH_CHANNEL_MAX_BYTES,
      config.PUBLISH_BATCH_MAX_BYTES,
      config.OUTBOX_RELAY_MAX_BYTES,
    ],
    [16 * 1024 * 1024, 768 * 1024, 4 * 1024 * 1024],
  );
  const problems = problemsOf(() =>
    loadConfig({
      PUBLISH_CHANNEL_MAX_BYTES: "1000",
      PUBLISH_BATCH_MAX_BYTES: "1000",
      OUTBOX_RELAY_MAX_BYTES: "1000",
    })
  );
  assert.deepEqual(problems.map((p) => p.split(":")[0]).sort(), [
    "OUTBOX_RELAY_MAX_BYTES",
    "PUBLISH_BATCH_MAX_BYTES",
    "PUBLISH_CHANNEL_MAX_BYTES",
  ]);
});

Deno.test("loadConfig names every bad variable at once, not just the first", () => {
  const problems = problemsOf(() =>
    loadConfig({
      PORT: "eighty",
      DB_POOL_MAX: "0",
      LOG_LEVEL: "loud",
      DATABASE_URL: "mysql://localhost/db",
      BATCH_CHUNK_SIZE: "-5",
      HOST: "0.0.0.0",
    })
  );
  const named = problems.map((problem) => problem.split(":")[0]).sort();
  assert.deepEqual(named, [
    "BATCH_CHUNK_SIZE",
    "DATABASE_URL",
    "DB_POOL_MAX",
    "LOG_LEVEL",
    "PORT",
  ]);
});

Deno.test("loadConfig treats an empty string as unset", () => {
  const config = loadConfig({
    PORT: "",
    DATABASE_URL: "",
    LOG_LEVEL: "",
    KAFKA_BROKERS: "",
    CONFIG_FILE: "",
    BATCH_CHUNK_SIZE: undefined,
  });
  assert.equal(config.PORT, 8080);
  assert.equal(config.DATABASE_URL, undefined);
  assert.equal(config.LOG_LEVEL, "info");
  assert.deepEqual(config.KAFKA_BROKERS, []);
  assert.equal(config.CONFIG_FILE, undefined);
  assert.equal(config.BATCH_CHUNK_SIZE, 500);
});

Deno.test("loadConfig ignores environment variables it does not know", () => {
  const config = loadConfig({ PATH: "/usr/bin", HOME: "/root", PORT: "1234" });
  assert.equal(config.PORT, 1234);
  assert.ok(!("PATH" in config));
});

Deno.test("loadConfig splits lists on commas, trims them, and drops empty entries", async (t) => {
  const cases: Array<[string, string[]]> = [
    ["a:9092", ["a:9092"]],
    ["a:9092,b:9092", ["a:9092", "b:9092"]],
    [" a:9092 , b:9092 ,, c:9092 ,", ["a:9092", "b:9092", "c:9092"]],
    [",,", []],
  ];
  for (const [value, expected] of cases) {
    await t.step(JSON.stringify(value), () => {
      const config = loadConfig({ KAFKA_BROKERS: value, API_KEYS: value, ADMIN_API_KEYS: value });
      assert.deepEqual(config.KAFKA_BROKERS, expected);
      assert.deepEqual(config.API_KEYS, expected);
      assert.deepEqual(config.ADMIN_API_KEYS, expected);
    });
  }
});

/** Tunables as readTunablesFile passes them: only the tunable keys. */
const BASE: Tunables = TunablesSchema.parse({ BATCH_CHUNK_SIZE: "250", LOG_LEVEL: "warn" });

Deno.test("parseTunablesFile lays the file's values over the base ones", () => {
  const tunables = parseTunablesFile(
    JSON.stringify({ BATCH_CHUNK_SIZE: 1000, PUBLISH_RETRY_JITTER: "0.1" }),
    BASE,
    "tunables.json",
  );
  assert.equal(tunables.BATCH_CHUNK_SIZE, 1000);
  assert.equal(tunables.PUBLISH_RETRY_JITTER, 0.1);
  assert.equal(tunables.LOG_LEVEL, "warn", "values the file leaves out keep the base value");
  assert.deepEqual(parseTunablesFile("{}", BASE, "tunables.json").BATCH_CHUNK_SIZE, 250);
});

Deno.test("parseTunablesFile refuses an unknown key and names it and the file", () => {
  const problems = problemsOf(() =>
    parseTunablesFile('{"BATCH_CHUNK_SIZ": 100}', BASE, "/etc/ingest/tunables.json")
  );
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^\/etc\/ingest\/tunables\.json: /);
  assert.match(problems[0], /BATCH_CHUNK_SIZ/);
});

Deno.test("parseTunablesFile refuses settings that cannot change at run time", () => {
  const problems = problemsOf(() => parseTunablesFile('{"PORT": 9000}', BASE, "tunables.json"));
  assert.match(problems.join("\n"), /PORT/);
});

Deno.test("parseTunablesFile refuses text that is not JSON and names the file", async (t) => {
  for (const text of ["", "{", "BATCH_CHUNK_SIZE=100", "{'BATCH_CHUNK_SIZE': 100}"]) {
    await t.step(JSON.stringify(text), () => {
      const problems = problemsOf(() => parseTunablesFile(text, BASE, "tunables.json"));
      assert.equal(problems.length, 1);
      assert.match(problems[0], /^tunables\.json: is not valid JSON/);
    });
  }
});

Deno.test("parseTunablesFile names every invalid value in the file", () => {
  const problems = problemsOf(() =>
    parseTunablesFile(
      JSON.stringify({ BATCH_CHUNK_SIZE: 0, LOG_LEVEL: "loud", PUBLISH_CONCURRENCY: "many" }),
      BASE,
      "tunables.json",
    )
  );
  const named = problems.map((problem) => problem.replace(/^tunables\.json: /, "").split(":")[0]);
  assert.deepEqual(named.sort(), ["BATCH_CHUNK_SIZE", "LOG_LEVEL", "PUBLISH_CONCURRENCY"]);
});

Deno.test("parseTunablesFile refuses JSON that is not an object", async (t) => {
  for (const text of ["null", "42", "true", "[]", '[{"BATCH_CHUNK_SIZE": 100}]', '"text"']) {
    await t.step(text, () => {
      const problems = problemsOf(() => parseTunablesFile(text, BASE, "tunables.json"));
      assert.ok(problems.length >= 1);
      assert.match(problems[0], /^tunables\.json: /);
    });
  }
});
