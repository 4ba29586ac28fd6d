// What a newcomer sees when the service starts as its own process: the address to open and where the
// docs are, the bare address leading to them, and a port in use reported first, naming the address.
import assert from "node:assert/strict";
import { dropSchema, spawnService, uniqueName } from "../_helpers.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

Deno.test("the listening line gives the URL to open and the docs' URL, and / leads to the docs", async () => {
  const schema = uniqueName("startup");
  const service = await spawnService({ DB_SCHEMA: schema, HOST: "127.0.0.1" });
  try {
    const line = JSON.parse(service.lines.find((l) => l.includes("is listening"))!);
    assert.equal(line.url, service.url);
    assert.equal(line.docs, `${service.url}/docs`);
    assert.equal(
      line.msg,
      `execution-ingest is listening on ${service.url} (API docs: ${service.url}/docs)`,
    );

    for (const [path, status] of [["/", 302], ["/docs/", 301]] as const) {
      const response = await fetch(`${service.url}${path}`, { redirect: "manual" });
      assert.equal(response.status, status, path);
      const location = new URL(response.headers.get("location") ?? "", `${service.url}${path}`);
      assert.equal(location.href, `${service.url}/docs`, path);
      await response.body?.cancel();

      const followed = await fetch(`${service.url}${path}`);
      assert.equal(followed.status, 200, `${path} followed`);
      assert.match(followed.headers.get("content-type") ?? "", /^text\/html/);
      assert.match(await followed.text(), /SwaggerUIBundle\(/);
    }
  } finally {
    await service.stop();
    await dropSchema(schema);
  }
});

Deno.test("a port in use stops the service at once, naming the address, before any database starts", async () => {
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dataDir = await Deno.makeTempDir({ prefix: "startup_test_" });
  try {
    const { port } = holder.addr as Deno.NetAddr;
    // No DATABASE_URL: started first, the embedded database would create its folder (seconds).
    const proc = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN],
      env: {
        DATABASE_URL: "",
        HOST: "127.0.0.1",
        PORT: String(port),
        DATA_DIR: `${dataDir}/data`,
        LOG_LEVEL: "info",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(proc.stdout) + new TextDecoder().decode(proc.stderr);
    assert.equal(proc.code, 1, output);
    const fatal = output.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((l) =>
      l.level === "fatal"
    );
    assert.equal(
      fatal?.problem,
      `Cannot listen on 127.0.0.1:${port}: the address is already in use; stop the process ` +
        "that holds it, or set PORT (or HOST)",
    );
    assert.doesNotMatch(output, /PGlite|embedded PostgreSQL|Migrations|Schema is current/);
    assert.deepEqual([...Deno.readDirSync(dataDir)], [], "the data folder was never created");
  } finally {
    holder.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

/** Runs the service with `v8Flags` and `env` until it exits; its exit code and output. */
async function runToExit(v8Flags: string[], env: Record<string, string>) {
  const proc = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...v8Flags, MAIN],
    env: {
      DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
      HOST: "127.0.0.1",
      PORT: "0",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: proc.code, stdout: decode(proc.stdout), stderr: decode(proc.stderr) };
}

Deno.test("a V8 heap limit below the memory budget of the settings stops the service with exit 2, naming them", async () => {
  const { code, stdout, stderr } = await runToExit(
    ["--v8-flags=--max-old-space-size=100,--max-semi-space-size=8"],
    { BATCH_BYTES_IN_FLIGHT: String(24 * 1024 * 1024) },
  );
  assert.equal(code, 2, stderr);
  assert.equal(stdout, "");
  assert.match(
    stderr,
    /^Cannot start: the V8 heap limit \(131 MB\) is below the 164 MB that BATCH_BYTES_IN_FLIGHT=25165824, PUBLISH_CHANNEL_MAX_BYTES=16777216, OUTBOX_RELAY_MAX_BYTES=4194304, PUBLISH_CONCURRENCY×PUBLISH_BATCH_MAX_BYTES=3145728 need/,
  );
});

/** What Deno Deploy requires besides the database (its URL comes from runToExit). */
const DEPLOY_REQUIRED = {
  DENO_DEPLOYMENT_ID: "memory-test",
  KAFKA_BROKERS: "127.0.0.1:1",
  API_KEYS: "deploy-key-0123",
  CONSOLE_SESSION_SECRET: "a-console-session-secret-of-32-characters",
};

Deno.test("on Deno Deploy, settings whose memory budget passes 512 MB stop the service with exit 2", async () => {
  const { code, stderr } = await runToExit([], {
    ...DEPLOY_REQUIRED,
    SHUTDOWN_TIMEOUT_MS: "3000",
    BATCH_BYTES_IN_FLIGHT: String(64 * 1024 * 1024),
  });
  assert.equal(code, 2, stderr);
  assert.match(
    stderr,
    /^Cannot start: Deno Deploy caps memory at 512 MB, below the \d+ MB that BATCH_BYTES_IN_FLIGHT=67108864, PUBLISH_CHANNEL_MAX_BYTES=\d+, OUTBOX_RELAY_MAX_BYTES=\d+, PUBLISH_CONCURRENCY×PUBLISH_BATCH_MAX_BYTES=\d+ may reach/,
  );
});

Deno.test("on Deno Deploy without V8 flags the service warns that its heap is not capped under 512 MB; DENO_V8_FLAGS silences it", async () => {
  const deploy = { ...DEPLOY_REQUIRED, LOG_LEVEL: "warn" };
  const warned = (stdout: string) => stdout.includes("garbage may pile up past the cap");
  // The database at port 1 stops both after the check: exit 1, with or without the warning.
  const bare = await runToExit([], deploy);
  assert.ok(warned(bare.stdout), bare.stdout + bare.stderr);
  const flagged = await runToExit([], {
    ...deploy,
    DENO_V8_FLAGS: "--max-old-space-size=160,--max-semi-space-size=8",
  });
  assert.equal(flagged.code, 1, flagged.stderr);
  assert.ok(!warned(flagged.stdout), flagged.stdout);
});
