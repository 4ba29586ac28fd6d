// Cases 7, 8 and 12 of the hardening corpus: start-up against misbehaving database servers and
// bad settings ends with a non-zero exit naming the host or the variable, never a password.
import assert from "node:assert/strict";

const PASSWORD = "s3cr3tpw";
const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

/**
 * Runs the service as its own process until it exits (or `limitMs` passes, then kills it);
 * checks that no line of its output holds the password.
 */
async function start(env: Record<string, string>, limitMs = 20_000) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN],
    env: { PORT: "0", DB_CONNECT_TIMEOUT_S: "1", DB_STATEMENT_TIMEOUT_MS: "2000", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const began = performance.now();
  const timer = setTimeout(() => child.kill("SIGKILL"), limitMs);
  const output = await child.output();
  clearTimeout(timer);
  const raw = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  // JSON log lines as their message and problem, so patterns need no JSON escapes.
  const text = raw.split("\n").map((line) => {
    try {
      const { msg, problem } = JSON.parse(line);
      return problem ? `${msg}: ${problem}` : msg;
    } catch {
      return line;
    }
  }).join("\n");
  assertNoPassword(raw);
  return { code: output.code, ms: performance.now() - began, text };
}

/** A TCP server standing in for PostgreSQL; `behave` decides what each connection gets. */
function fakeServer(behave: (conn: Deno.Conn) => void) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let accepted = 0;
  (async () => {
    for await (const conn of listener) {
      accepted++;
      open.add(conn);
      behave(conn);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    get accepted() {
      return accepted;
    },
    close() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // Closed already.
        }
      }
    },
  };
}

function assertNoPassword(text: string) {
  assert.ok(!text.includes(PASSWORD), `the password leaked:\n${text}`);
}

Deno.test("a server that reads the start-up message and hangs up: exit 1 within the connect timeout, naming the host", async () => {
  const server = fakeServer((conn) => {
    conn.read(new Uint8Array(1024)).finally(() => conn.close()).catch(() => {});
  });
  try {
    const { code, ms, text } = await start({
      DATABASE_URL: `postgres://ingest:${PASSWORD}@127.0.0.1:${server.port}/ingest`,
    });
    // Was: no end, no log line, about 400 reconnects a second.
    assert.equal(code, 1, text);
    assert.ok(ms < 10_000, `exited after ${Math.round(ms)} ms`);
    assert.match(text, new RegExp(`127\\.0\\.0\\.1:${server.port}, database "ingest"`));
    assert.match(text, /does not complete the start-up/);
    const after = server.accepted;
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(server.accepted, after, "no reconnects after the exit");
  } finally {
    server.close();
  }
});

Deno.test("a server that accepts and never answers: exit 1 after the connect timeout, naming the host", async () => {
  const server = fakeServer(() => {});
  try {
    const { code, text } = await start({
      DATABASE_URL: `postgres://ingest:${PASSWORD}@127.0.0.1:${server.port}/ingest`,
    });
    assert.equal(code, 1, text);
    assert.match(text, new RegExp(`127\\.0\\.0\\.1:${server.port}`));
  } finally {
    server.close();
  }
});

Deno.test("a refused connection: exit 1 naming the host and the cause, without the password", async () => {
  const { code, text } = await start({
    DATABASE_URL: `postgres://ingest:${PASSWORD}@127.0.0.1:1/ingest`,
  });
  assert.equal(code, 1, text);
  assert.match(text, /127\.0\.0\.1:1, database "ingest" as user "ingest".*ECONNREFUSED/);
});

Deno.test("bad settings are refused at start-up with exit 2, naming the variable and never the password", async (t) => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    [
      "a DATABASE_URL port past 65535 (was: the whole URL, password included, in the log)",
      { DATABASE_URL: `postgres://u:${PASSWORD}@127.0.0.1:99999/db` },
      /DATABASE_URL: must be a postgres:\/\/ URL .*"postgres:\/\/u:\*\*\*@127\.0\.0\.1:99999\/db"/,
    ],
    [
      "a DATABASE_URL without a host",
      { DATABASE_URL: `postgres://u:${PASSWORD}@/db` },
      /DATABASE_URL: must be a postgres:\/\/ URL/,
    ],
    [
      "KAFKA_BROKERS without a port (was: accepted)",
      { DATABASE_URL: "postgres://u@127.0.0.1:5432/db", KAFKA_BROKERS: "nohost" },
      /KAFKA_BROKERS: "nohost" is not host:port/,
    ],
    [
      "KAFKA_BROKERS with a port out of range among good ones",
      { DATABASE_URL: "postgres://u@127.0.0.1:5432/db", KAFKA_BROKERS: "a:9092,b:70000" },
      /KAFKA_BROKERS: "b:70000" is not host:port/,
    ],
  ];
  for (const [name, env, message] of cases) {
    await t.step(name, async () => {
      const { code, text } = await start(env);
      assert.equal(code, 2, text);
      assert.match(text, message);
    });
  }
});
