// The image and the load test run the service with the heap limits `deno task start` has, and those
// limits hold the memory budget of the default settings.
import assert from "node:assert/strict";
import { START_V8_FLAGS } from "../../bench/service_process.ts";
import { loadConfig } from "../../src/config.ts";
import { budgetProblem, memoryBudget } from "../../src/memory_budget.ts";
import { memoryBounds } from "../../src/settings.ts";

Deno.test("the image's command and the load test use the start task's V8 heap limits", async () => {
  assert.equal(START_V8_FLAGS.length, 1);
  assert.match(START_V8_FLAGS[0], /^--v8-flags=.*--max-old-space-size=\d+/);
  const dockerfile = await Deno.readTextFile(new URL("../../Dockerfile", import.meta.url));
  const cmd = dockerfile.split("\n").find((line) => line.startsWith("CMD "));
  assert.ok(cmd, "the Dockerfile has a CMD");
  assert.ok(
    (JSON.parse(cmd.slice(4)) as string[]).includes(START_V8_FLAGS[0]),
    `the image runs with ${START_V8_FLAGS[0]}`,
  );
});

Deno.test("the start task's V8 heap limit holds the memory budget of the default settings, with and without a database server and brokers", async () => {
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      ...START_V8_FLAGS,
      'import { getHeapStatistics } from "node:v8"; console.log(getHeapStatistics().heap_size_limit)',
    ],
    stdout: "piped",
  }).output();
  const heapLimit = Number(new TextDecoder().decode(stdout));
  const production = { DATABASE_URL: "postgres://ingest@db:5432/ingest", KAFKA_BROKERS: "k:9092" };
  for (
    const env of [{}, production, { KAFKA_BROKERS: "k:9092", BATCH_BYTES_IN_FLIGHT: "16777216" }]
  ) {
    const budget = memoryBudget(memoryBounds(loadConfig(env)));
    assert.equal(
      budgetProblem(budget, { heapLimitBytes: heapLimit }),
      undefined,
      JSON.stringify(env),
    );
  }
});
