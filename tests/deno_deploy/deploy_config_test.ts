// Deno Deploy's settings: what is refused and what defaults differ when DENO_DEPLOYMENT_ID is set,
// the deno.json `deploy` section, and the README's claims about both.
import assert from "node:assert/strict";
import denoConfig from "../../deno.json" with { type: "json" };
import oldestPins from "../../tools/deno-oldest/package.json" with { type: "json" };
import { DEPLOY_DEFAULTS, loadConfig } from "../../src/config.ts";
import { problemsOf } from "../_config.ts";
import { DATABASE_URL, KAFKA_BROKERS, uniqueName } from "../_helpers.ts";
import { DEPLOY_ENTRY } from "./_platform.ts";

const ON_DEPLOY = { DENO_DEPLOYMENT_ID: "abc123" };
const SECRET = "a-console-session-secret-of-32-characters";
const SERVERS = {
  DATABASE_URL,
  KAFKA_BROKERS: "kafka-1.internal:9092",
  API_KEYS: "deploy-key-0123",
  CONSOLE_SESSION_SECRET: SECRET,
};
const README = await Deno.readTextFile(new URL("../../README.md", import.meta.url));

Deno.test("on Deno Deploy the embedded database, a missing broker list and a missing session secret are refused, each saying why", () => {
  const problems = problemsOf(() => loadConfig({ ...ON_DEPLOY, API_KEYS: "deploy-key-0123" }));
  assert.equal(problems.length, 3);
  assert.match(problems[0], /^DATABASE_URL: is required on Deno Deploy: the embedded database/);
  assert.match(problems[0], /disk that is not kept/);
  assert.match(problems[0], /\(DENO_DEPLOYMENT_ID is set\)$/);
  assert.match(problems[1], /^KAFKA_BROKERS: is required on Deno Deploy/);
  assert.match(
    problems[2],
    /^CONSOLE_SESSION_SECRET: is required on Deno Deploy: several instances/,
  );
  // Off the platform, all three stay optional.
  const here = loadConfig({});
  assert.equal(here.DATABASE_URL, undefined);
  assert.equal(here.CONSOLE_SESSION_SECRET, undefined);
});

Deno.test("on Deno Deploy no API key is invalid configuration naming API_KEYS, as in production", () => {
  const { API_KEYS: _, ...open } = SERVERS;
  const problems = problemsOf(() => loadConfig({ ...open, ...ON_DEPLOY }));
  assert.deepEqual(problems, [
    "API_KEYS: Deno Deploy needs at least one API key (DENO_DEPLOYMENT_ID is set)",
  ]);
  // An admin key alone is enough, as in production; off the platform no key is still allowed.
  assert.deepEqual(
    loadConfig({ ...open, ...ON_DEPLOY, ADMIN_API_KEYS: "admin-0123" }).API_KEYS,
    [],
  );
  assert.deepEqual(loadConfig(open).API_KEYS, []);
});

Deno.test("the service on Deno Deploy with its servers but no API key exits 2 naming API_KEYS", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", DEPLOY_ENTRY],
    env: {
      ...ON_DEPLOY,
      DATABASE_URL,
      KAFKA_BROKERS: KAFKA_BROKERS.join(","),
      API_KEYS: "",
      ADMIN_API_KEYS: "",
      CONSOLE_SESSION_SECRET: SECRET,
      PORT: "0",
    },
    // A service that starts open would run on: it is stopped and the test fails on its exit code.
    signal: AbortSignal.timeout(20_000),
  }).output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 2, text);
  assert.match(text, /API_KEYS: Deno Deploy needs at least one API key/);
});

Deno.test("on Deno Deploy the shutdown fits in the 5 s between SIGINT and SIGKILL", () => {
  assert.equal(loadConfig(SERVERS).SHUTDOWN_TIMEOUT_MS, 10_000);
  assert.equal(loadConfig({ ...SERVERS, ...ON_DEPLOY }).SHUTDOWN_TIMEOUT_MS, 4000);
  assert.equal(DEPLOY_DEFAULTS.SHUTDOWN_TIMEOUT_MS, "4000");
  const set = { ...SERVERS, ...ON_DEPLOY, SHUTDOWN_TIMEOUT_MS: "2500" };
  assert.equal(loadConfig(set).SHUTDOWN_TIMEOUT_MS, 2500, "a setting wins over the default");
  const [problem] = problemsOf(() => loadConfig({ ...set, SHUTDOWN_TIMEOUT_MS: "5000" }));
  assert.match(problem, /^SHUTDOWN_TIMEOUT_MS: must be below 5000 on Deno Deploy/);
});

Deno.test("on Deno Deploy everything else keeps its default, the publishing worker included", () => {
  const there = loadConfig({ ...SERVERS, ...ON_DEPLOY });
  const here = loadConfig(SERVERS);
  const keys = new Set([...Object.keys(here), ...Object.keys(there)]);
  const differing = [...keys].filter((key) =>
    JSON.stringify(here[key as keyof typeof here]) !==
      JSON.stringify(there[key as keyof typeof there])
  );
  assert.deepEqual(
    differing.sort(),
    ["DENO_DEPLOYMENT_ID", ...Object.keys(DEPLOY_DEFAULTS)].sort(),
  );
  assert.equal(there.PUBLISH_IN_WORKER, true);
});

Deno.test("the service on Deno Deploy without DATABASE_URL exits 2 before the embedded database touches the disk", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", DEPLOY_ENTRY],
      env: {
        ...ON_DEPLOY,
        DATABASE_URL: "",
        KAFKA_BROKERS: KAFKA_BROKERS.join(","),
        DATA_DIR: `${dataDir}/data`,
        PORT: "0",
      },
    }).output();
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    assert.equal(code, 2, text);
    assert.match(text, /DATABASE_URL: is required on Deno Deploy/);
    assert.deepEqual([...Deno.readDirSync(dataDir)], [], "nothing was written");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the service on Deno Deploy without CONSOLE_SESSION_SECRET exits 2 naming it; with it the configuration is complete", async () => {
  const env = {
    ...ON_DEPLOY,
    DATABASE_URL,
    DB_SCHEMA: uniqueName("deploy"),
    KAFKA_BROKERS: KAFKA_BROKERS.join(","),
    API_KEYS: SERVERS.API_KEYS,
    PORT: "0",
  };
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", DEPLOY_ENTRY],
    env: { ...env, CONSOLE_SESSION_SECRET: "" },
    // Should the rule be gone, the service would start and serve: it is stopped, and fails here.
    signal: AbortSignal.timeout(20_000),
  }).output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 2, text);
  assert.match(text, /CONSOLE_SESSION_SECRET: is required on Deno Deploy/);
  assert.doesNotMatch(text, /DATABASE_URL:|KAFKA_BROKERS:|API_KEYS:/, "only the secret is missing");
  // With the secret (and the rest unchanged) the configuration is complete.
  assert.equal(
    loadConfig({ ...env, CONSOLE_SESSION_SECRET: SECRET }).CONSOLE_SESSION_SECRET,
    SECRET,
  );
});

Deno.test("deno.json's deploy section runs the module that registers the cron job, with cron enabled", async () => {
  const { deploy } = denoConfig;
  assert.equal(deploy.runtime.type, "dynamic");
  const entry = await Deno.readTextFile(DEPLOY_ENTRY);
  assert.match(entry, /\nif \(import\.meta\.main\) \{\n[^]*registerCatchUpCron\(/);
  assert.ok(denoConfig.unstable.includes("cron"), "Deno.cron needs the unstable cron API");
  // The install step caches what the entry point and the publishing worker load.
  const files = deploy.install.split(" ").filter((part) => part.endsWith(".ts"));
  assert.deepEqual(files, ["src/main.ts", "src/publish/publishing_worker_entry.ts"]);
  for (const file of files) await Deno.stat(new URL(`../../${file}`, import.meta.url));
});

Deno.test("the README claims the oldest Deno the lifecycle test runs on, and documents the deploy section", () => {
  const oldest = oldestPins.dependencies.deno;
  assert.match(README, new RegExp(`Deno ${oldest.replaceAll(".", "\\.")} or later`));
  assert.match(README, /^## Deploy to Deno Deploy$/m);
  assert.ok(README.includes(denoConfig.deploy.runtime.entrypoint), "names the entry point");
  assert.ok(README.includes("DENO_DEPLOYMENT_ID"));
});
