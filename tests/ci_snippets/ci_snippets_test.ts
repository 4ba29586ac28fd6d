// The CI snippets, run as their CI systems would run them: the GitHub composite action (action.yml),
// the GitLab template and the README's curl line and Jenkins step, each with its provider's
// environment faked, against the real service (its own process, real PostgreSQL) serving the CLI.
import assert from "node:assert/strict";
import { parse } from "yaml";
import { dropSchema, spawnService, sqlFor, uniqueName } from "../_helpers.ts";
import { builtCli, junitReport, run } from "../cli/_bundle.ts";

const ROOT = new URL("../../", import.meta.url);
const KEY = "ci-snippets-key-0123456789";
const PATH = Deno.env.get("PATH") ?? "";

/** The fenced block that follows `<!-- ci:NAME -->` in the README. */
async function readmeBlock(name: string): Promise<string> {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const match = new RegExp(`<!-- ci:${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  assert.ok(match, `the README has a block marked ci:${name}`);
  return match[1];
}

/** The service with an API key and the freshly built CLI; a folder of reports as a job leaves them. */
async function setUp() {
  const schema = uniqueName("ci_snippets");
  const service = await spawnService({
    DB_SCHEMA: schema,
    API_KEYS: KEY,
    CLI_BUNDLE_PATH: await builtCli(),
  });
  const workspace = await Deno.makeTempDir({ prefix: "ci_workspace_" });
  await Deno.mkdir(`${workspace}/reports/unit`, { recursive: true });
  await Deno.mkdir(`${workspace}/reports/it`, { recursive: true });
  await Deno.writeTextFile(`${workspace}/reports/unit/TEST-unit.xml`, junitReport("Unit", 3));
  await Deno.writeTextFile(`${workspace}/reports/it/TEST-it.xml`, junitReport("It", 2));
  const sql = sqlFor(schema);
  return {
    url: service.url,
    workspace,
    sql,
    /** The stored rows: key, environment, attributes. */
    rows: () =>
      sql`select test_case_key, environment, attributes from executions order by test_case_key`,
    async tearDown() {
      await sql.end();
      await service.stop();
      await dropSchema(schema);
      await Deno.remove(workspace, { recursive: true });
    },
  };
}

/** Evaluates a step's `${{ inputs.NAME }}` expressions as the runner would; any other is refused. */
function withInputs(text: string, inputs: Record<string, string>): string {
  const evaluated = text.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_, name: string) => {
    assert.ok(name in inputs, `the action declares input ${name}`);
    return inputs[name];
  });
  assert.ok(!evaluated.includes("${{"), `only inputs are evaluated here: ${evaluated}`);
  return evaluated;
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** Runs action.yml's steps as a GitHub runner runs a composite action's bash steps. */
async function runAction(
  given: Record<string, string>,
  workspace: string,
  runnerTemp: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const action: Json = parse(await Deno.readTextFile(new URL("action.yml", ROOT)));
  assert.equal(action.runs.using, "composite");
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries<Json>(action.inputs)) {
    if (spec.required) assert.ok(name in given, `required input ${name} given`);
    inputs[name] = given[name] ?? spec.default ?? "";
  }
  let last = { code: 0, stdout: "", stderr: "" };
  for (const step of action.runs.steps) {
    assert.equal(step.shell, "bash");
    const script = `${runnerTemp}/step.sh`;
    await Deno.writeTextFile(script, step.run);
    const env: Record<string, string> = {
      PATH,
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_WORKSPACE: workspace,
      GITHUB_STEP_SUMMARY: `${runnerTemp}/step_summary.md`,
      GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
      GITHUB_REPOSITORY: "acme/shop",
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_RUN_ID: "4242",
      GITHUB_RUN_ATTEMPT: "1",
      RUNNER_TEMP: runnerTemp,
    };
    for (const [name, value] of Object.entries<string>(step.env ?? {})) {
      env[name] = withInputs(value, inputs);
    }
    // What GitHub runs for `shell: bash`.
    last = await run("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], {
      cwd: workspace,
      env,
      clearEnv: true,
    });
    if (last.code !== 0) break;
  }
  return last;
}

Deno.test("the GitHub composite action downloads the CLI from the service and stores the job's reports, with a step summary", async (t) => {
  const ctx = await setUp();
  const runnerTemp = await Deno.makeTempDir({ prefix: "runner_temp_" });
  try {
    await t.step(
      "the README's usage runs it with if: always() and only inputs it declares",
      async () => {
        const action: Json = parse(await Deno.readTextFile(new URL("action.yml", ROOT)));
        const usage: Json = parse(await readmeBlock("github"));
        const step = usage.steps.find((s: Json) => String(s.uses).includes("execution-ingest"));
        assert.equal(step.if, "always()");
        for (const name of Object.keys(step.with)) assert.ok(name in action.inputs, name);
        assert.match(step.with["api-key"], /^\$\{\{ secrets\./);
      },
    );

    await t.step(
      "5 testcases under a glob stored, stamped, with the summary on the run's page",
      async () => {
        const ran = await runAction(
          {
            url: ctx.url,
            "api-key": KEY,
            paths: "reports/**/*.xml",
            environment: "gha",
            attributes: "team=qa\nsuite=nightly",
          },
          ctx.workspace,
          runnerTemp,
        );
        assert.equal(ran.code, 0, ran.stderr);
        const rows = await ctx.rows();
        assert.deepEqual(rows.map((r) => r.test_case_key), [
          "It.t0",
          "It.t1",
          "Unit.t0",
          "Unit.t1",
          "Unit.t2",
        ]);
        for (const row of rows) {
          assert.equal(row.environment, "gha");
          assert.equal(row.attributes.team, "qa");
          assert.equal(row.attributes.suite, "nightly");
          assert.equal(row.attributes.commit, "0123456789abcdef0123456789abcdef01234567");
          assert.equal(row.attributes.run, "https://github.com/acme/shop/actions/runs/4242");
        }
        const summary = await Deno.readTextFile(`${runnerTemp}/step_summary.md`);
        assert.match(summary, /^### execution-ingest: 5 executions submitted to /);
        assert.match(summary, /\| 5 \| 5 \| 0 \| 0 \| [\d.]+ s \|/);
      },
    );

    await t.step("the same job re-run stores nothing twice", async () => {
      const ran = await runAction(
        {
          url: ctx.url,
          "api-key": KEY,
          paths: "reports/**/*.xml",
          environment: "gha",
          attributes: "team=qa\nsuite=nightly",
        },
        ctx.workspace,
        runnerTemp,
      );
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(ran.stdout, /duplicates\s+5/);
      assert.equal((await ctx.rows()).length, 5);
    });

    await t.step(
      "with soft-fail (the default) a wrong key warns and passes; without, it fails",
      async () => {
        const soft = await runAction(
          { url: ctx.url, "api-key": "wrong", paths: "reports/**/*.xml" },
          ctx.workspace,
          runnerTemp,
        );
        assert.equal(soft.code, 0, soft.stderr);
        assert.match(soft.stderr, /refused the API key.*\n.*exiting 0 instead of exit code 2/s);
        const hard = await runAction(
          { url: ctx.url, "api-key": "wrong", paths: "reports/**/*.xml", "soft-fail": "false" },
          ctx.workspace,
          runnerTemp,
        );
        assert.equal(hard.code, 2);
      },
    );

    await t.step(
      "a service that cannot be reached: a warning with soft-fail, a failed step without",
      async () => {
        const down = "http://127.0.0.1:9";
        const soft = await runAction(
          { url: down, paths: "reports/**/*.xml" },
          ctx.workspace,
          runnerTemp,
        );
        assert.equal(soft.code, 0);
        assert.match(
          await Deno.readTextFile(`${runnerTemp}/step_summary.md`),
          /### execution-ingest: results not sent \(cannot download the CLI from http:\/\/127\.0\.0\.1:9\/cli\/submit\.mjs\)\n$/,
        );
        assert.match(
          soft.stdout,
          /::warning::Cannot download the submit CLI from http:\/\/127\.0\.0\.1:9\/cli\/submit\.mjs/,
        );
        const hard = await runAction(
          { url: down, paths: "reports/**/*.xml", "soft-fail": "false" },
          ctx.workspace,
          runnerTemp,
        );
        assert.equal(hard.code, 1);
      },
    );
  } finally {
    await Deno.remove(runnerTemp, { recursive: true });
    await ctx.tearDown();
  }
});

Deno.test("the GitLab template runs when tests failed too and stores the pipeline's reports with its CI/CD variables", async () => {
  const ctx = await setUp();
  try {
    const template: Json = parse(
      await Deno.readTextFile(new URL("ci/gitlab/execution-ingest.gitlab-ci.yml", ROOT)),
    );
    const job = template[".execution-ingest-submit"];
    assert.equal(job.when, "always");
    const usage: Json = parse(await readmeBlock("gitlab"));
    assert.equal(usage["submit-results"].extends, ".execution-ingest-submit");
    assert.match(usage.include[0].remote, /\/ci\/gitlab\/execution-ingest\.gitlab-ci\.yml$/);

    // GitLab runs the script lines in one POSIX shell, stopping at the first that fails; the job's
    // variables, then the README's overrides, then the project's CI/CD variables (the secrets).
    const script = ["set -e", ...job.script].join("\n");
    const ran = await run("sh", ["-c", script], {
      cwd: ctx.workspace,
      clearEnv: true,
      env: {
        PATH,
        CI: "true",
        GITLAB_CI: "true",
        CI_PROJECT_DIR: ctx.workspace,
        CI_PIPELINE_ID: "777",
        CI_PIPELINE_URL: "https://gitlab.example.com/acme/shop/-/pipelines/777",
        CI_COMMIT_SHA: "fedcba9876543210fedcba9876543210fedcba98",
        ...job.variables,
        ...usage["submit-results"].variables,
        EXECUTION_INGEST_URL: ctx.url,
        EXECUTION_INGEST_API_KEY: KEY,
      },
    });
    assert.equal(ran.code, 0, ran.stderr);
    assert.doesNotMatch(ran.stderr, /--soft-fail: exiting 0/, "nothing failed");
    const rows = await ctx.rows();
    assert.equal(rows.length, 5);
    for (const row of rows) {
      assert.equal(row.environment, "ci");
      assert.equal(row.attributes.pipeline, "https://gitlab.example.com/acme/shop/-/pipelines/777");
      assert.equal(row.attributes.commit, "fedcba9876543210fedcba9876543210fedcba98");
    }
  } finally {
    await ctx.tearDown();
  }
});

Deno.test("the README's curl line and Jenkins step store the reports with the key from the environment", async (t) => {
  const ctx = await setUp();
  try {
    const env = { PATH, EXECUTION_INGEST_URL: ctx.url, EXECUTION_INGEST_API_KEY: KEY };

    await t.step("the curl line", async () => {
      const ran = await run("sh", ["-ec", await readmeBlock("curl")], {
        cwd: ctx.workspace,
        clearEnv: true,
        env,
      });
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(ran.stdout, /created\s+5/);
    });

    await t.step("the Jenkins pipeline's sh step, in post { always }", async () => {
      const pipeline = await readmeBlock("jenkins");
      assert.match(pipeline, /post \{\s*always \{/);
      const sh = /sh '''\n([\s\S]*?)'''/.exec(pipeline);
      assert.ok(sh, "the pipeline has a sh ''' step");
      const job = await Deno.makeTempDir({ prefix: "jenkins_workspace_" });
      try {
        await Deno.mkdir(`${job}/reports`);
        await Deno.writeTextFile(`${job}/reports/TEST-jenkins.xml`, junitReport("Jenkins", 2));
        // Jenkins runs a sh step with `sh -xe`; credentials arrive as environment variables.
        const ran = await run("sh", ["-xe", "-c", sh[1]], {
          cwd: job,
          clearEnv: true,
          env: { ...env, BUILD_URL: "https://jenkins.example.com/job/shop/9/" },
        });
        assert.equal(ran.code, 0, ran.stderr);
        assert.doesNotMatch(ran.stderr, /--soft-fail: exiting 0/, "nothing failed");
      } finally {
        await Deno.remove(job, { recursive: true });
      }
      const stored = await ctx.sql`
        select attributes from executions where test_case_key like 'Jenkins.%'`;
      assert.equal(stored.length, 2);
      for (const row of stored) {
        assert.equal(row.attributes.build, "https://jenkins.example.com/job/shop/9/");
      }
    });
    assert.equal((await ctx.rows()).length, 7);
  } finally {
    await ctx.tearDown();
  }
});
