// The image and the load test run the service with the heap limits `deno task start` has.
import assert from "node:assert/strict";
import { START_V8_FLAGS } from "../../bench/service_process.ts";

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
