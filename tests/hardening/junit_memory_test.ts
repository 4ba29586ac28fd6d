// JUnit reports that are legal by size but hostile in shape, against the real service running with
// the start task's heap limit: refused while they are read, and the process stays up.
import assert from "node:assert/strict";
import { readPeakRss, START_V8_FLAGS } from "../../bench/service_process.ts";
import { dropSchema, postReport, spawnService, sqlFor, uniqueName } from "../_helpers.ts";

const MB = 1024 * 1024;

Deno.test("hostile JUnit reports under the size limit are refused while read, a genuine one with 8 MB of system-out imports, and the 160 MB heap holds", async (t) => {
  const schema = uniqueName("t");
  const service = await spawnService({ DB_SCHEMA: schema }, {
    args: ["run", "-A", ...START_V8_FLAGS, new URL("../../src/main.ts", import.meta.url).pathname],
  });
  const sql = sqlFor(schema);
  const alive = async () => {
    const health = await fetch(`${service.url}/healthz`);
    await health.body?.cancel();
    return health.status === 200;
  };
  const expectRefused = async (xml: string, status: number, code: string, limit: RegExp) => {
    const response = await postReport(service.url, xml);
    assert.equal(response.status, status);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    const body = await response.json();
    assert.equal(body.error.code, code);
    assert.match(body.error.message, limit);
    assert.ok(await alive(), "the service is still up");
  };
  try {
    await t.step("1.5 million empty elements (6 MB) are refused at the element limit", async () => {
      await expectRefused(
        `<testsuite>${"<a/>".repeat(1_500_000)}</testsuite>`,
        413,
        "PAYLOAD_TOO_LARGE",
        /more than 200000 elements/,
      );
    });

    await t.step("one attribute value of 5 MB is refused at the attribute limit", async () => {
      await expectRefused(
        `<testsuite><testcase name="x" classname="${"c".repeat(5 * MB)}"/></testsuite>`,
        413,
        "PAYLOAD_TOO_LARGE",
        /the attribute "classname" has a value over 1048576 characters/,
      );
    });

    await t.step(
      "a genuine report whose system-out is 8 MB imports, keeping only its size",
      async () => {
        const out = "line of output\n".repeat(Math.ceil(8 * MB / 15)).slice(0, 8 * MB);
        const response = await postReport(
          service.url,
          `<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="Big" timestamp="2026-11-28T10:00:00Z">
  <testcase classname="Big" name="talks" time="1"><system-out>${out}</system-out></testcase>
</testsuite>`,
        );
        assert.equal(response.status, 200, await response.clone().text());
        const body = await response.json();
        const [stored] = await sql`select attributes from executions where id = ${
          body.items[0].id
        }`;
        assert.deepEqual(stored.attributes, { suite: "Big", systemOutBytes: 8 * MB });
        assert.ok(await alive());
      },
    );
    const peak = readPeakRss(service.child.pid) / 2 ** 20;
    console.log(`peak RSS of the service: ${peak.toFixed(0)} MB`);
    // Before: each of the three alone ended the process ("Fatal JavaScript out of memory").
    assert.ok(peak < 400, `peak RSS ${peak.toFixed(0)} MB, over issue 21's 400 MB`);
  } finally {
    await sql.end();
    const status = await service.stop();
    await dropSchema(schema);
    assert.equal(status.code, 0, "the service ran until stopped and then shut down cleanly");
  }
});
