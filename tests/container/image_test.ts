// What the image does, replayed without a Docker engine: its dependency step on a copy of the app
// (test-only packages out, the lock's versions kept), then its exact command, permissions included,
// against the real PostgreSQL and Kafka, and its health check against the running service.
import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import {
  createTopic,
  deleteTopic,
  dropSchema,
  eventually,
  freePort,
  KAFKA_BROKERS,
  pendingEvents,
  spawnService,
  uniqueName,
} from "../_helpers.ts";
import {
  denoRemove,
  envOf,
  execForm,
  instructions,
  only,
  readDockerfile,
  removedPackages,
  ROOT,
} from "./_dockerfile.ts";

const dockerfile = instructions(await readDockerfile());

/** Runs deno with `args` in `cwd`; fails the test with its output when it fails. */
async function deno(args: string[], cwd: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, `deno ${args.join(" ")}:\n${output}`);
  return new TextDecoder().decode(stdout);
}

/** The npm packages of a lock file: name@version → integrity. */
async function lockedPackages(
  dir: string,
): Promise<Record<string, { integrity: string; dependencies?: string[] }>> {
  return JSON.parse(await Deno.readTextFile(`${dir}/deno.lock`)).npm;
}

/** The import-map names that some file under src/ imports. */
async function importedBySrc(names: string[]): Promise<Set<string>> {
  const used = new Set<string>();
  const walk = async (dir: URL) => {
    for await (const entry of Deno.readDir(dir)) {
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) await walk(url);
      else if (entry.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(url);
        for (const name of names) {
          const forms = [
            `from "${name}"`,
            `from "${name}/`,
            `import("${name}"`,
            `import("${name}/`,
          ];
          if (forms.some((form) => text.includes(form))) used.add(name);
        }
      }
    }
  };
  await walk(new URL("src/", ROOT));
  return used;
}

/** A copy of what the image copies, after the image's `deno remove`: the image's /app. */
async function prepareApp(): Promise<string> {
  const app = await Deno.makeTempDir({ prefix: "image_test_app_" });
  for (const name of ["deno.json", "deno.lock", "src"]) {
    cpSync(`${ROOT.pathname}${name}`, `${app}/${name}`, { recursive: true });
  }
  await deno(denoRemove(dockerfile), app);
  return app;
}

Deno.test("the image's dependency step drops exactly the test-only packages and keeps the lock's versions", async (t) => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const names = Object.keys(config.imports);
  const used = await importedBySrc(names);
  const removed = removedPackages(dockerfile);

  await t.step("the removed packages are the imports nothing under src/ uses", () => {
    const testOnly = names.filter((name) => !used.has(name)).sort();
    assert.deepEqual(
      [...removed].sort(),
      testOnly,
      "the Dockerfile's `deno remove` list must name every import that only tests use",
    );
  });

  const before = await lockedPackages(ROOT.pathname);
  const app = await prepareApp();
  try {
    await t.step(
      "the pruned lock is a subset of the committed one, same versions and hashes",
      async () => {
        const after = await lockedPackages(app);
        assert.ok(Object.keys(after).length < Object.keys(before).length);
        for (const [key, entry] of Object.entries(after)) {
          assert.deepEqual(entry.integrity, before[key]?.integrity, key);
        }
        // A removed import may stay only as a dependency of a package the service keeps (ajv is
        // one of @platformatic/kafka's).
        const dependedOn = new Set(
          Object.values(after).flatMap((entry) =>
            (entry.dependencies ?? []).map((dep) => dep.replace(/(.)@.*$/, "$1"))
          ),
        );
        for (const name of removed) {
          const left = Object.keys(after).some((key) => key.startsWith(`${name}@`));
          assert.ok(
            !left || dependedOn.has(name),
            `${name} left only as a kept package's dependency`,
          );
        }
      },
    );

    await t.step("the service's code resolves against the pruned import map and lock", async () => {
      const warm = only(dockerfile.filter((i) => i.args.startsWith("deno cache")), "RUN").args;
      await deno(warm.split(" ").slice(1), app);
    });

    await t.step("its build step writes the CLI that /cli/submit.mjs serves", async () => {
      const build = only(dockerfile.filter((i) => i.args.startsWith("deno task build:cli")), "RUN");
      await Deno.mkdir(`${app}/scripts`);
      await Deno.copyFile(new URL("scripts/build_cli.ts", ROOT), `${app}/scripts/build_cli.ts`);
      await deno(build.args.split(" ").slice(1), app);
      assert.ok((await Deno.stat(`${app}/dist/submit.mjs`)).size > 0);
    });
  } finally {
    await Deno.remove(app, { recursive: true });
  }
});

/** Runs the image's health check (bash, as in the image) against PORT; its exit code. */
async function healthCheck(port: number): Promise<number> {
  const [command, ...args] = execForm(only(dockerfile, "HEALTHCHECK").args);
  const { code } = await new Deno.Command(command, {
    args,
    env: { PORT: String(port) },
    stdout: "null",
    stderr: "null",
  }).output();
  return code;
}

/** The image's command and environment, its paths mapped to `app` and Deno's cache here. */
async function imageCommand(app: string) {
  const denoDir = JSON.parse(await deno(["info", "--json"], app)).denoDir as string;
  const imageEnv = envOf(dockerfile);
  const workdir = only(dockerfile, "WORKDIR").args;
  const here = (text: string) =>
    text.replaceAll(imageEnv.DENO_DIR.replace(/\/$/, ""), denoDir).replaceAll(workdir, app);
  // The image's entrypoint puts `deno` in front of a deno subcommand such as `run`.
  const args = execForm(only(dockerfile, "CMD").args).map(here);
  assert.equal(args[0], "run");
  return { args, env: { HOST: "127.0.0.1", DATA_DIR: here(imageEnv.DATA_DIR), DENO_DIR: denoDir } };
}

const DENIED = /NotCapable|PermissionDenied|Requires \w+ access/;

Deno.test("the image's command serves, stores, publishes and reloads with only its permissions; its health check sees it", async (t) => {
  const app = await prepareApp();
  const schema = uniqueName("image");
  const topic = uniqueName("image");
  try {
    const { args, env } = await imageCommand(app);
    await createTopic(topic);
    // CONFIG_FILE must live under /app, the only folder besides Deno's cache the image may read.
    const configFile = `${app}/config/tunables.json`;
    await Deno.mkdir(`${app}/config`);
    await Deno.writeTextFile(configFile, "{}");
    const service = await spawnService({
      ...env,
      DB_SCHEMA: schema,
      KAFKA_BROKERS: KAFKA_BROKERS.join(","),
      KAFKA_TOPIC: topic,
      CONFIG_FILE: configFile,
    }, { args, cwd: app });
    try {
      await t.step(
        "it serves the docs' files from Deno's cache, stores and publishes",
        async () => {
          const css = await fetch(`${service.url}/docs/swagger-ui.css`);
          assert.equal(css.status, 200);
          assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
          await css.body?.cancel();
          assert.equal((await postTwo(service.url)).created, 2);
          await eventually(async () => (await pendingEvents(schema)) === 0);
        },
      );

      await t.step("it re-reads its CONFIG_FILE on SIGHUP", async () => {
        await Deno.writeTextFile(configFile, JSON.stringify({ BATCH_CHUNK_SIZE: 7 }));
        service.child.kill("SIGHUP");
        await eventually(() => service.lines.some((l) => l.includes('"BATCH_CHUNK_SIZE":7')));
      });

      await t.step(
        "its health check passes on it and fails on a closed port or a 503",
        async () => {
          assert.equal(await healthCheck(Number(new URL(service.url).port)), 0);
          assert.notEqual(await healthCheck(freePort()), 0);
          const sick = Deno.serve(
            { hostname: "127.0.0.1", port: 0, onListen: () => {} },
            () => new Response("{}", { status: 503 }),
          );
          try {
            assert.notEqual(await healthCheck(sick.addr.port), 0);
          } finally {
            await sick.shutdown();
          }
        },
      );
    } finally {
      assert.equal((await service.stop()).code, 0, service.lines.join("\n"));
    }
    assert.doesNotMatch(service.lines.join("\n"), DENIED);
  } finally {
    await dropSchema(schema);
    await deleteTopic(topic);
    await Deno.remove(app, { recursive: true });
  }
});

Deno.test("the image's command with no DATABASE_URL keeps the embedded database under DATA_DIR", async () => {
  const app = await prepareApp();
  try {
    const { args, env } = await imageCommand(app);
    const service = await spawnService({ ...env, DATABASE_URL: "" }, { args, cwd: app });
    try {
      assert.equal((await postTwo(service.url)).created, 2);
    } finally {
      assert.equal((await service.stop()).code, 0, service.lines.join("\n"));
    }
    assert.ok((await Deno.stat(`${env.DATA_DIR}/pglite/PG_VERSION`)).isFile);
    assert.doesNotMatch(service.lines.join("\n"), DENIED);
  } finally {
    await Deno.remove(app, { recursive: true });
  }
});

/** Posts two new executions; the parsed answer, after checking it was a 200. */
async function postTwo(url: string) {
  const response = await fetch(`${url}/v1/executions/batch`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      executions: [0, 1].map((i) => ({
        testCaseKey: `IMAGE-${i}`,
        status: "PASSED",
        startedAt: "2026-11-28T10:15:00Z",
      })),
    }),
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  return await response.json();
}
