// The CLI's options for CI: --soft-fail, --dry-run, the Markdown summary ($GITHUB_STEP_SUMMARY or
// --summary) and failing fast, with a hint, when nothing listens at the URL.
import assert from "node:assert/strict";
import { createBatchClient, type RetryNotice } from "../../src/cli/batch_client.ts";
import { neverConnected } from "../../src/cli/connect_error.ts";
import { runSubmit } from "../../src/cli/submit.ts";
import { execution, freePort, startTestService, summaryOf } from "../_helpers.ts";

/** Runs the CLI in-process from `cwd` with `env`, collecting its output. */
async function submit(cwd: string, argv: string[], env: Record<string, string> = {}) {
  let stdout = "", stderr = "";
  const code = await runSubmit(argv, {
    env,
    cwd,
    stdout: (text) => stdout += text,
    stderr: (text) => stderr += text,
    tty: false,
  });
  return { code, stdout, stderr };
}

/** Two valid rows and, between them, one the server's validation refuses (no status). */
async function writeRows(dir: string): Promise<string> {
  const { status: _status, ...invalid } = execution(2, { testCaseKey: "BAD-1" });
  const rows = [execution(1), invalid, execution(3)];
  await Deno.writeTextFile(`${dir}/runs.ndjson`, rows.map((r) => JSON.stringify(r)).join("\n"));
  return "runs.ndjson";
}

/** A server that counts the requests it gets and answers none of them usefully. */
function countingServer() {
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    requests++;
    return new Response("no", { status: 500 });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, requests: () => requests, server };
}

Deno.test("--dry-run validates every row as the server would and sends nothing: exit 1 naming the invalid row", async () => {
  const dir = await Deno.makeTempDir();
  const counting = countingServer();
  try {
    const file = await writeRows(dir);
    const run = await submit(dir, [file, "--dry-run", "--url", counting.url]);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(counting.requests(), 0, "no request reached the server");
    assert.match(
      run.stderr,
      /warning: runs\.ndjson: VALIDATION_FAILED at index 1, line 2: .*\(status: /,
    );
    assert.deepEqual(summaryOf(run.stdout), {
      total: 3,
      valid: 2,
      failed: 1,
      VALIDATION_FAILED: 1,
    });
    assert.match(run.stdout, /Dry run: nothing was sent/);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [file], "no failure file");

    await Deno.writeTextFile(`${dir}/good.ndjson`, JSON.stringify(execution(4)));
    const good = await submit(dir, ["good.ndjson", "--dry-run", "--url", counting.url]);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(counting.requests(), 0);
  } finally {
    await counting.server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--soft-fail exits 0 whatever failed, saying which exit code it replaced", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const file = await writeRows(dir);
    const nowhere = `http://127.0.0.1:${freePort()}`;

    await t.step("a server that cannot be reached: 3 without, 0 with", async () => {
      const hard = await submit(dir, [file, "--url", nowhere]);
      assert.equal(hard.code, 3);
      const soft = await submit(dir, [file, "--url", nowhere, "--soft-fail"]);
      assert.equal(soft.code, 0);
      assert.match(
        soft.stderr,
        /error: Cannot reach .*\nnote: --soft-fail: exiting 0 instead of exit code 3\n$/,
      );
    });

    await t.step("an invalid row in a dry run: 1 without, 0 with", async () => {
      assert.equal((await submit(dir, [file, "--dry-run"])).code, 1);
      const soft = await submit(dir, [file, "--dry-run", "--soft-fail"]);
      assert.equal(soft.code, 0);
      assert.match(soft.stderr, /exiting 0 instead of exit code 1/);
    });

    await t.step("a bad option or a missing report: 2 without, 0 with", async () => {
      assert.equal((await submit(dir, [file, "--batch-size", "0"])).code, 2);
      const badOption = await submit(dir, [file, "--batch-size", "0", "--soft-fail"]);
      assert.equal(badOption.code, 0);
      assert.match(badOption.stderr, /--batch-size must be .*exiting 0 instead of exit code 2/s);
      const missing = await submit(dir, ["reports/*.xml", "--soft-fail"]);
      assert.equal(missing.code, 0);
      assert.match(missing.stderr, /matched no report file/);
    });

    await t.step("--soft-fail after -- is a path, not the option", async () => {
      const run = await submit(dir, [file, "--url", nowhere, "--", "--soft-fail"]);
      assert.equal(run.code, 2);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the Markdown summary goes to $GITHUB_STEP_SUMMARY (or --summary FILE) with the counts and the failed rows", async (t) => {
  const { url, close } = await startTestService();
  const dir = await Deno.makeTempDir();
  try {
    const file = await writeRows(dir);
    const stepSummary = `${dir}/step_summary.md`;

    await t.step(
      "appended to GITHUB_STEP_SUMMARY, as GitHub gathers a step's summary",
      async () => {
        await Deno.writeTextFile(stepSummary, "earlier step\n");
        const run = await submit(dir, [file, "--url", url], { GITHUB_STEP_SUMMARY: stepSummary });
        assert.equal(run.code, 1, run.stderr);
        const text = await Deno.readTextFile(stepSummary);
        assert.ok(
          text.startsWith("earlier step\n### execution-ingest: 3 executions submitted to "),
        );
        assert.match(
          text,
          /\| total \| created \| duplicates \| failed \| time \|\n\| ---: .*\n\| 3 \| 2 \| 0 \| 1 \| [\d.]+ s \|/,
        );
        assert.match(text, /Failed by code: `VALIDATION_FAILED` 1/);
        assert.match(
          text,
          /\| runs\.ndjson \| 1 \| BAD-1 \| VALIDATION_FAILED \| Cannot accept execution at index 1: .*status: /,
        );
        assert.match(text, /Rows not stored are in `runs\.ndjson\.failed\.ndjson`\./);
      },
    );

    await t.step("--summary FILE wins over GITHUB_STEP_SUMMARY; a dry run says so", async () => {
      const own = `${dir}/own.md`;
      const run = await submit(dir, [file, "--dry-run", "--summary", "own.md"], {
        GITHUB_STEP_SUMMARY: stepSummary,
      });
      assert.equal(run.code, 1);
      const text = await Deno.readTextFile(own);
      assert.match(text, /^### execution-ingest: 3 executions checked \(dry run, nothing sent\)\n/);
      assert.match(text, /\| 3 \| 2 \| 1 \|/);
      assert.doesNotMatch(await Deno.readTextFile(stepSummary), /dry run/);
    });

    await t.step("a cell's pipes and line breaks cannot break the table", async () => {
      const key = "pipe | and\nbreak";
      const { status: _s, ...row } = execution(5, { testCaseKey: key });
      await Deno.writeTextFile(`${dir}/odd.ndjson`, JSON.stringify(row));
      await submit(dir, ["odd.ndjson", "--dry-run", "--summary", "odd.md"]);
      const text = await Deno.readTextFile(`${dir}/odd.md`);
      assert.match(text, /\| odd\.ndjson \| 0 \| pipe \\\| and break \| VALIDATION_FAILED \|/);
    });

    await t.step("a summary that cannot be written is a warning, not a failed run", async () => {
      await Deno.writeTextFile(`${dir}/good.ndjson`, JSON.stringify(execution(6)));
      const run = await submit(dir, ["good.ndjson", "--url", url, "--summary", "no/such/dir.md"]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /warning: Cannot write the summary to "no\/such\/dir\.md"/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await close();
  }
});

Deno.test("a URL where nothing listens stops the run at once with the URL and a hint, where it used to retry for 12 s", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = await writeRows(dir);
    const nowhere = `http://127.0.0.1:${freePort()}`;
    const run = await submit(dir, [file], { EXECUTION_INGEST_URL: nowhere });
    assert.equal(run.code, 3);
    assert.doesNotMatch(run.stderr, /retry/);
    assert.match(
      run.stderr,
      new RegExp(
        `error: Cannot reach ${nowhere}/v1/executions/batch: connection refused \\(is the service ` +
          "running there\\?\\); check --url \\(or EXECUTION_INGEST_URL\\)\\n",
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("once the server has answered, a refused connection is retried (the service may be restarting)", async () => {
  const refused = () =>
    Promise.reject(
      new TypeError("fetch failed", {
        cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }),
      }),
    );
  const answers: Array<() => Promise<Response>> = [
    () => Promise.resolve(Response.json({ items: [{ index: 0, status: "created" }] })),
    refused,
    () => Promise.resolve(Response.json({ items: [{ index: 0, status: "created" }] })),
  ];
  const retries: RetryNotice[] = [];
  const client = createBatchClient({
    url: "http://ingest.test",
    initialDelayMs: 0,
    fetch: () => answers.shift()!(),
    onRetry: (notice) => retries.push(notice),
  });
  assert.equal((await client.send([{}])).kind, "result");
  assert.equal((await client.send([{}])).kind, "result");
  assert.equal(retries.length, 1);
  assert.match(retries[0].reason, /Cannot reach http:\/\/ingest\.test\/v1\/executions\/batch/);
});

Deno.test("a fetch that never connected is told apart in Node.js's and Deno's words", () => {
  const node = (code: string) =>
    new TypeError("fetch failed", { cause: Object.assign(new Error(`connect ${code}`), { code }) });
  assert.match(neverConnected(node("ECONNREFUSED")) ?? "", /^connection refused/);
  assert.equal(neverConnected(node("ENOTFOUND")), "no such host");
  const deno = (text: string) =>
    new TypeError("fetch failed", { cause: new Error(`client error (Connect): ${text}`) });
  assert.match(
    neverConnected(deno("tcp connect error: Connection refused (os error 111)")) ?? "",
    /^connection refused/,
  );
  assert.equal(
    neverConnected(
      deno("dns error: failed to lookup address information: Name or service not known"),
    ),
    "no such host",
  );
  assert.equal(
    neverConnected(new TypeError("Fetch failed: Requests to port 9 are blocked")),
    "fetch refuses that port",
  );
  const both = new AggregateError([node("ECONNREFUSED")], "connect failed");
  assert.match(neverConnected(both) ?? "", /^connection refused/);
  assert.equal(neverConnected(node("ECONNRESET")), undefined, "a reset may pass: retried");
  assert.equal(neverConnected(new DOMException("timed out", "TimeoutError")), undefined);
});
