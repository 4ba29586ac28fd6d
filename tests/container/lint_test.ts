// The container files, checked without a Docker engine: the Dockerfile by dockerfile-utils, the
// compose file by dclint (every rule), the versions compose runs against the ones the tests use,
// and the build context against what the Dockerfile copies.
import assert from "node:assert/strict";
import { DCLinter } from "dclint";
import { validate } from "dockerfile-utils";
import postgres from "postgres";
import { DATABASE_URL } from "../_helpers.ts";
import { instructions, readDockerfile, ROOT } from "./_dockerfile.ts";

const COMPOSE = new URL("compose.yaml", ROOT);

Deno.test("dockerfile-utils finds nothing wrong in the Dockerfile, and does find a broken one", async () => {
  const diagnostics = validate(await readDockerfile());
  assert.deepEqual(diagnostics.map((d) => `${d.range.start.line + 1}: ${d.message}`), []);
  // The same checker on a known mistake: proof that it is really checking.
  const broken = validate("FROM denoland/deno:2.9.6\nHEALTHCHECK --interval=ten CMD true\n");
  assert.ok(broken.length > 0, "a malformed HEALTHCHECK duration is reported");
});

Deno.test("the image starts from Debian's denoland/deno on the Deno version ./dev pins", async () => {
  const tools = JSON.parse(await Deno.readTextFile(new URL("tools/package.json", ROOT)));
  const from = instructions(await readDockerfile()).filter((i) => i.keyword === "FROM");
  assert.deepEqual(from.map((i) => i.args), [`denoland/deno:debian-${tools.dependencies.deno}`]);
});

Deno.test("dclint with every rule on finds nothing in compose.yaml (ports in deno fmt's double quotes)", async () => {
  // Every rule at its default, except that quoted ports use the double quotes deno fmt writes.
  const rules = { "require-quotes-in-ports": [1, { quoteType: "double" }] };
  const linter = new DCLinter({ rules, quiet: true, debug: false, exclude: [] } as never);
  const results = linter.lintFiles([COMPOSE.pathname], false);
  assert.equal(results.length, 1, "dclint read compose.yaml");
  const messages = results.flatMap((r) => r.messages);
  assert.equal(messages.length, 0, await linter.formatResults(results, "compact"));
});

/** The services of compose.yaml, each with its block of text (two-space indented YAML). */
function composeServices(text: string): Map<string, string> {
  const section = text.split(/^services:\n/m)[1].split(/^\S/m)[0];
  const services = new Map<string, string>();
  for (const block of section.split(/^(?= {2}\S)/m).filter((b) => b.trim())) {
    services.set(block.trim().split(":")[0], block);
  }
  return services;
}

Deno.test("compose.yaml runs the PostgreSQL and Kafka versions the tests use, restarts and keeps data", async () => {
  const text = await Deno.readTextFile(COMPOSE);
  const services = composeServices(text);
  assert.deepEqual([...services.keys()].sort(), ["execution-ingest", "kafka", "postgres"]);

  const kafkaScript = await Deno.readTextFile(new URL("scripts/kafka.sh", ROOT));
  const kafkaVersion = kafkaScript.match(/^DEFAULT_KAFKA_VERSION=(\S+)$/m)?.[1];
  assert.match(services.get("kafka")!, new RegExp(`image: apache/kafka:${kafkaVersion}\\n`));

  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    const [{ major }] =
      await sql`select current_setting('server_version_num')::int / 10000 as major`;
    assert.match(services.get("postgres")!, new RegExp(`image: postgres:${major}\\n`));
  } finally {
    await sql.end();
  }

  for (const [name, block] of services) {
    assert.match(block, /^ {4}restart: unless-stopped$/m, `${name} restarts`);
  }
  const kafka = services.get("kafka")!;
  assert.match(kafka, /KAFKA_LOG_DIRS: \/var\/lib\/kafka\/data$/m);
  assert.match(kafka, /- kafka-data:\/var\/lib\/kafka\/data$/m);
  assert.match(services.get("postgres")!, /- pgdata:\/var\/lib\/postgresql\/data$/m);
  assert.match(text, /^volumes:\n {2}kafka-data:\n {2}pgdata:\n/m);
});

/**
 * The top-level entries the build context keeps under a .dockerignore made of whole names, `*`
 * and `!name` lines (the last line that matches decides, as in Docker).
 */
function keptByDockerignore(ignore: string, names: string[]): string[] {
  const rules = ignore.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))
    .map((line) => {
      const keep = line.startsWith("!");
      const pattern = line.replace(/^!/, "").replace(/^\/|\/$/g, "");
      if (pattern !== "*" && /[*?[\]/]/.test(pattern)) {
        throw new Error(`this check only reads whole names and "*": ${line}`);
      }
      return { keep, matches: (name: string) => pattern === "*" || pattern === name };
    });
  return names.filter((name) =>
    rules.reduce((kept, rule) => rule.matches(name) ? rule.keep : kept, true)
  ).sort();
}

Deno.test(".dockerignore keeps exactly what the Dockerfile copies in the build context", async () => {
  const ignore = await Deno.readTextFile(new URL(".dockerignore", ROOT));
  const names = [...Deno.readDirSync(ROOT)].map((e) => e.name);
  // Present or not on this machine, these must never be sent to the Docker daemon.
  names.push("tools", "data", ".cache", ".git", "tests", "node_modules");
  const copied = instructions(await readDockerfile())
    .filter((i) => i.keyword === "COPY")
    .flatMap((i) => i.args.split(" ").filter((w) => !w.startsWith("--")).slice(0, -1))
    // A file copied from a folder (scripts/build_cli.ts) needs that folder in the context.
    .map((source) => source.replace(/\/$/, "").split("/")[0]);
  assert.deepEqual(keptByDockerignore(ignore, [...new Set(names)]), [...new Set(copied)].sort());
});
