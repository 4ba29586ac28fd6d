// The prerequisite checks of `./dev test` and the benchmarks, against the real PostgreSQL: each
// missing piece gets one line saying what to do, and PostgreSQL is checked before any Kafka work.
import assert from "node:assert/strict";
import { postgresAdvice } from "../../scripts/check_services.ts";
import { DATABASE_URL, freePort, uniqueName } from "../_helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const server = new URL(DATABASE_URL);
const HOST = server.hostname;
const PORT = server.port || "5432";

/** Runs a command from the repository root, without colours; its exit code and its output. */
async function run(args: string[], env: Record<string, string>) {
  const { code, stdout, stderr } = await new Deno.Command(args[0], {
    args: args.slice(1),
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, output: new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr) };
}

const checkPostgres = (databaseUrl: string) =>
  run([Deno.execPath(), "run", "-A", "scripts/check_services.ts", "postgres"], {
    DATABASE_URL: databaseUrl,
  });

Deno.test("the PostgreSQL check says what to do for each way the database can be missing", async (t) => {
  await t.step("a reachable database passes and names its version", async () => {
    const { code, output } = await checkPostgres(DATABASE_URL);
    assert.equal(code, 0, output);
    assert.match(output, /^PostgreSQL \d+\.\d+.* is reachable at /m);
  });

  await t.step("a missing database is named, with the command that creates it", async () => {
    const database = uniqueName("nodb");
    const { code, output } = await checkPostgres(`postgres://postgres@${HOST}:${PORT}/${database}`);
    assert.equal(code, 1);
    assert.equal(
      output.trim(),
      `PostgreSQL: the server at ${HOST}:${PORT} has no database "${database}". Create it: ` +
        `createdb -h ${HOST} -U postgres ${database}`,
    );
  });

  await t.step("a missing role is named, with the command that creates it", async () => {
    const role = uniqueName("norole");
    const { code, output } = await checkPostgres(`postgres://${role}@${HOST}:${PORT}/test`);
    assert.equal(code, 1);
    assert.match(
      output,
      new RegExp(`has no role "${role}"\\. Create it as a superuser: createuser`),
    );
  });

  await t.step("no server at the address says to start one, not to create a database", async () => {
    const port = freePort();
    const { code, output } = await checkPostgres(`postgres://postgres@127.0.0.1:${port}/test`);
    assert.equal(code, 1);
    assert.match(
      output,
      new RegExp(
        `^PostgreSQL: nothing answers at 127\\.0\\.0\\.1:${port} \\(from DATABASE_URL\\): `,
      ),
    );
    assert.match(output, /Start a PostgreSQL server there .*, or point DATABASE_URL at one\.$/m);
  });
});

Deno.test("a refused password says how to let the user in without one", () => {
  const advice = postgresAdvice("postgres://postgres@127.0.0.1:5432/test", {
    code: "28P01",
    message: 'password authentication failed for user "postgres"',
  });
  assert.equal(
    advice,
    'the server at 127.0.0.1:5432 refused user "postgres" without a password. Let it in ' +
      '(pg_hba.conf: "host all postgres 127.0.0.1/32 trust", then reload PostgreSQL), or put ' +
      "the password in DATABASE_URL.",
  );
});

for (const command of [["bash", "scripts/test.sh"], ["bash", "scripts/with_services.sh", "true"]]) {
  Deno.test(`${command[1]} checks PostgreSQL before any Kafka download and stops there`, async () => {
    const kafkaHome = await Deno.makeTempDir({ prefix: "services_test_kafka_" });
    try {
      const { code, output } = await run(command, {
        DATABASE_URL: `postgres://postgres@${HOST}:${PORT}/${uniqueName("nodb")}`,
        KAFKA_BROKERS: "",
        KAFKA_HOME: kafkaHome,
        PATH: `${Deno.execPath().replace(/\/[^/]+$/, "")}:${Deno.env.get("PATH")}`,
      });
      assert.equal(code, 1, output);
      assert.match(output, /^PostgreSQL: the server at .* has no database /m);
      assert.match(output, /^FAILED: PostgreSQL is needed first .*; nothing was run$/m);
      assert.doesNotMatch(output, /Kafka|kafka\.sh/);
      assert.deepEqual([...Deno.readDirSync(kafkaHome)], [], "nothing was fetched for Kafka");
    } finally {
      await Deno.remove(kafkaHome, { recursive: true });
    }
  });
}
