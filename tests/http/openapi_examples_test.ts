// The request examples of the interactive docs, sent for real: each succeeds whatever was sent
// before it, the README's curl included, in any order (no ID_CONFLICT for a newcomer's "Try it out").
import assert from "node:assert/strict";
import { startTestService } from "../_helpers.ts";

// deno-lint-ignore no-explicit-any -- the document is plain JSON, walked by path
type Json = any;

interface Sample {
  name: string;
  contentType: string;
  body: string;
  /** The status this sample must get every time. */
  status: number;
}

/** The body of the README's quick-start curl (`-d '…'`), parsed to prove it is JSON. */
async function readmeCurlBody(): Promise<string> {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const body = readme.match(/curl [^\n]*\/v1\/executions\/batch[\s\S]*?-d '([^']+)'/)?.[1];
  assert.ok(body, "the README's quick start has a curl with -d '…'");
  JSON.parse(body);
  return body;
}

/** Every request example of POST /v1/executions/batch, with the status its summary promises. */
function documentSamples(document: Json): Sample[] {
  const content = document.paths["/v1/executions/batch"].post.requestBody.content;
  const samples: Sample[] = Object.entries<Json>(content["application/json"].examples).map((
    [name, example],
  ) => ({
    name: `docs example "${name}"`,
    contentType: "application/json",
    body: JSON.stringify(example.value),
    status: name === "oneInvalidItem" ? 207 : 200,
  }));
  samples.push({
    name: "docs NDJSON example",
    contentType: "application/x-ndjson",
    body: content["application/x-ndjson"].example,
    status: 200,
  });
  return samples;
}

Deno.test("every batch example of the docs succeeds after the README's curl and after each other", async (t) => {
  const { url, close } = await startTestService();
  try {
    const document = await (await fetch(`${url}/openapi.json`)).json();
    const samples: Sample[] = [
      {
        name: "README curl",
        contentType: "application/json",
        body: await readmeCurlBody(),
        status: 207,
      },
      ...documentSamples(document),
    ];
    assert.equal(samples.length, 4, "the README's curl, two JSON examples and the NDJSON one");

    // Forwards and then backwards: each example comes both before and after every other one.
    const rounds = { first: samples, "again, reversed": samples.toReversed() };
    for (const [round, order] of Object.entries(rounds)) {
      await t.step(`${round}: each answers as documented, with no ID_CONFLICT`, async () => {
        for (const sample of order) {
          const response = await fetch(`${url}/v1/executions/batch`, {
            method: "POST",
            headers: { "content-type": sample.contentType },
            body: sample.body,
          });
          const answer = await response.json();
          assert.equal(response.status, sample.status, `${sample.name}: ${JSON.stringify(answer)}`);
          assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
          const codes = answer.items.flatMap((item: Json) => item.error ? [item.error.code] : []);
          assert.deepEqual(
            codes.filter((code: string) => code !== "VALIDATION_FAILED"),
            [],
            `${sample.name}: ${JSON.stringify(answer.items)}`,
          );
        }
      });
    }
  } finally {
    await close();
  }
});
