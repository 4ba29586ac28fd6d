// The served OpenAPI document: a valid OpenAPI 3.1 document whose schemas fit the real service's
// answers (checked with the document's own schemas, not the zod objects), and the /docs page.
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import { ExecutionInputSchema } from "../../src/domain/execution.ts";
import { importExamples } from "../../src/http/import_schemas.ts";
import { execution, postBatch, startTestService } from "../_helpers.ts";

const USER_KEY = "openapi-test-user-key";
const DOCUMENT_ID = "https://execution-ingest.test/openapi.json";

// deno-lint-ignore no-explicit-any -- the document is plain JSON, walked by path
type Json = any;

/** An Ajv for JSON Schema 2020-12 that resolves the document's "#/components/schemas/…" refs. */
function schemaValidator(document: Json) {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajvFormats.default(ajv);
  ajv.addKeyword("components");
  ajv.addSchema({ $id: DOCUMENT_ID, components: document.components });
  return {
    ajv,
    /** Asserts that `value` fits `schema`, a schema taken from the document. */
    assertFits(schema: Json, value: unknown, what: string) {
      const validate = ajv.compile(resolveIn(schema));
      assert.ok(
        validate(value),
        `${what} does not fit its schema: ${ajv.errorsText(validate.errors)}\n${
          JSON.stringify(value)
        }`,
      );
    },
    fits(schema: Json, value: unknown): boolean {
      return ajv.compile(resolveIn(schema))(value) as boolean;
    },
  };
}

/** Points a schema's local refs at the document, so Ajv resolves them there. */
function resolveIn(schema: Json): Json {
  return JSON.parse(JSON.stringify(schema).replaceAll('"$ref":"#/', `"$ref":"${DOCUMENT_ID}#/`));
}

/** The response object of one operation and status, following a $ref to components.responses. */
function responseOf(document: Json, path: string, method: string, status: number): Json {
  const response = document.paths[path]?.[method]?.responses?.[status];
  assert.ok(response, `${method.toUpperCase()} ${path} documents no ${status}`);
  const ref: string | undefined = response.$ref;
  return ref ? document.components.responses[ref.split("/").pop()!] : response;
}

function jsonSchemaOf(document: Json, path: string, method: string, status: number): Json {
  return responseOf(document, path, method, status).content["application/json"].schema;
}

Deno.test("GET /openapi.json serves a valid OpenAPI 3.1 document that the real answers fit", async (t) => {
  const { url, close } = await startTestService({ API_KEYS: USER_KEY });
  try {
    const response = await fetch(`${url}/openapi.json`);
    assert.equal(response.status, 200, "the document needs no API key");
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    const document = await response.json();
    assert.equal(document.openapi, "3.1.0");
    assert.equal(document.info.title, "execution-ingest");
    const { ajv, assertFits, fits } = schemaValidator(document);

    await t.step("the OpenAPI schema validator finds it valid for version 3.1", async () => {
      const validator = new Validator();
      const result = await validator.validate(structuredClone(document));
      assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
      assert.equal(validator.version, "3.1");
    });

    await t.step(
      "every component schema is a valid JSON Schema 2020-12 and compiles strictly",
      () => {
        for (const [name, schema] of Object.entries<Json>(document.components.schemas)) {
          assert.ok(ajv.validateSchema(schema), `${name}: ${ajv.errorsText()}`);
          assert.equal(typeof ajv.compile(resolveIn(schema)), "function", name);
        }
      },
    );

    await t.step("it documents every route, each batch status, Retry-After and both keys", () => {
      assert.deepEqual(Object.keys(document.paths).sort(), [
        "/admin/dead-letters",
        "/admin/dead-letters/requeue",
        "/cli/submit.mjs",
        "/healthz",
        "/metrics",
        "/readyz",
        "/v1/batches",
        "/v1/batches/{batchId}",
        "/v1/executions/batch",
        "/v1/executions/{id}",
        "/v1/imports/junit",
      ]);
      const junit = document.paths["/v1/imports/junit"].post;
      assert.deepEqual(Object.keys(junit.requestBody.content), ["application/xml", "text/xml"]);
      assert.deepEqual(junit.parameters.map((p: Json) => p.name), [
        "cycleKey",
        "environment",
        "startedAt",
      ]);
      for (const status of [200, 207, 400, 413, 415, 422, 503]) {
        assert.ok(responseOf(document, "/v1/imports/junit", "post", status), `import ${status}`);
      }
      const batch = document.paths["/v1/executions/batch"].post;
      for (const status of [200, 207, 400, 401, 413, 415, 422, 503]) {
        const examples = responseOf(document, "/v1/executions/batch", "post", status)
          .content["application/json"].examples;
        assert.ok(Object.keys(examples).length > 0, `${status} has an example`);
      }
      assert.ok(responseOf(document, "/v1/executions/batch", "post", 503).headers["Retry-After"]);
      assert.deepEqual(Object.keys(batch.requestBody.content), [
        "application/json",
        "application/x-ndjson",
      ]);
      assert.ok(document.paths["/metrics"].get.responses[200].content["text/plain"]);
      assert.deepEqual(Object.keys(document.components.securitySchemes), ["userKey", "adminKey"]);
      assert.deepEqual(document.paths["/admin/dead-letters"].get.security, [{ adminKey: [] }]);
      const requestSchema = document.components.schemas.BatchRequest.properties.executions.items;
      assert.deepEqual(requestSchema, { $ref: "#/components/schemas/ExecutionInput" });
      const codes = document.components.schemas.ApiError.properties.code;
      assert.ok(codes.enum.includes("SERVICE_SATURATED"));
      assert.match(codes.description, /\| `SERVICE_SATURATED` \| 503 \|/);
    });

    await t.step("every example fits its schema, and the invalid request example does not", () => {
      let checked = 0;
      for (const [path, operations] of Object.entries<Json>(document.paths)) {
        for (const [method, operation] of Object.entries<Json>(operations)) {
          for (const status of Object.keys(operation.responses)) {
            const json = responseOf(document, path, method, Number(status)).content;
            const media = json["application/json"];
            for (const [name, example] of Object.entries<Json>(media?.examples ?? {})) {
              assertFits(media.schema, example.value, `${method} ${path} ${status} ${name}`);
              checked++;
            }
          }
          const request = operation.requestBody?.content["application/json"];
          for (const [name, example] of Object.entries<Json>(request?.examples ?? {})) {
            const fit = fits(request.schema, example.value);
            assert.equal(fit, name !== "oneInvalidItem", `${method} ${path} request ${name}`);
            checked++;
          }
        }
      }
      assert.ok(checked >= 30, `only ${checked} examples were checked`);
    });

    await t.step("the startedAt schema accepts exactly the timestamps zod accepts", () => {
      const schema = document.components.schemas.ExecutionInput.properties.startedAt;
      assert.equal(schema.format, "date-time");
      for (
        const value of [
          "2026-11-28T10:15:00Z",
          "2026-11-28T10:15:00.123456+01:00",
          "2024-02-29T23:59:59-05:30",
          "2026-11-28T10:15:00",
          "2026-11-28 10:15:00Z",
          "2026-11-28t10:15:00z",
          "2026-02-30T10:15:00Z",
          "2023-02-29T10:15:00Z",
          "2026-11-28T24:00:00Z",
          "2026-11-28T10:15:00+0100",
          "yesterday",
        ]
      ) {
        const byZod = ExecutionInputSchema.shape.startedAt.safeParse(value).success;
        assert.equal(fits(schema, value), byZod, value);
      }
    });

    const items = [execution(0), execution(1, { status: "GREEN" })];
    let answer: Json;
    await t.step("a real 207 answer fits the 207 schema of the document", async () => {
      const response = await postBatch(url, items, { authorization: `Bearer ${USER_KEY}` });
      assert.equal(response.status, 207);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      answer = await response.json();
      assert.equal(answer.items[1].error.code, "VALIDATION_FAILED");
      assertFits(jsonSchemaOf(document, "/v1/executions/batch", "post", 207), answer, "207");
    });

    await t.step("a real stored execution and batch view fit their schemas", async () => {
      const headers = { authorization: `Bearer ${USER_KEY}` };
      const stored = await fetch(`${url}/v1/executions/${items[0].id}`, { headers });
      assert.equal(stored.status, 200);
      assert.match(stored.headers.get("content-type") ?? "", /^application\/json/);
      assertFits(
        jsonSchemaOf(document, "/v1/executions/{id}", "get", 200),
        await stored.json(),
        "stored execution",
      );
      const batch = await fetch(`${url}/v1/batches/${answer.batchId}`, { headers });
      assert.equal(batch.status, 200);
      assert.match(batch.headers.get("content-type") ?? "", /^application\/json/);
      const view = await batch.json();
      assertFits(jsonSchemaOf(document, "/v1/batches/{batchId}", "get", 200), view, "batch view");
      assert.equal(
        view.failures.items[0].code,
        "VALIDATION_FAILED",
        "the 207's failed item is kept",
      );
      const list = await fetch(`${url}/v1/batches?limit=5`, { headers });
      assert.equal(list.status, 200);
      assert.match(list.headers.get("content-type") ?? "", /^application\/json/);
      assertFits(
        jsonSchemaOf(document, "/v1/batches", "get", 200),
        await list.json(),
        "batch list",
      );
    });

    await t.step("real 415 and 401 error envelopes fit the error schema", async () => {
      const unsupported = await fetch(`${url}/v1/executions/batch`, {
        method: "POST",
        headers: { "content-type": "text/csv", authorization: `Bearer ${USER_KEY}` },
        body: "testCaseKey,status\nA,PASSED\n",
      });
      assert.equal(unsupported.status, 415);
      assert.match(unsupported.headers.get("content-type") ?? "", /^application\/json/);
      const body = await unsupported.json();
      assert.equal(body.error.code, "UNSUPPORTED_MEDIA_TYPE");
      assertFits(jsonSchemaOf(document, "/v1/executions/batch", "post", 415), body, "415");

      const unauthorized = await postBatch(url, [execution(2)]);
      assert.equal(unauthorized.status, 401);
      assert.match(unauthorized.headers.get("content-type") ?? "", /^application\/json/);
      assertFits(
        jsonSchemaOf(document, "/v1/executions/batch", "post", 401),
        await unauthorized.json(),
        "401",
      );
    });

    await t.step("real JUnit import answers (200, 207, 422, 400) fit their schemas", async () => {
      const post = (xml: string, query = "") =>
        fetch(`${url}/v1/imports/junit${query}`, {
          method: "POST",
          headers: { "content-type": "application/xml", authorization: `Bearer ${USER_KEY}` },
          body: xml,
        });
      const path = "/v1/imports/junit";
      const created = await post(importExamples.report, "?environment=openapi");
      assert.equal(created.status, 200);
      assertFits(jsonSchemaOf(document, path, "post", 200), await created.json(), "import 200");
      const undated = `<testsuite><testcase name="a" time="1"/></testsuite>`;
      const rejected = await post(undated);
      assert.equal(rejected.status, 422);
      assertFits(jsonSchemaOf(document, path, "post", 422), await rejected.json(), "import 422");
      const mixed = await post(
        `<testsuite><testcase name="b" timestamp="2026-11-28T10:00:00Z"/><testcase name="c"/></testsuite>`,
      );
      assert.equal(mixed.status, 207);
      assertFits(jsonSchemaOf(document, path, "post", 207), await mixed.json(), "import 207");
      const malformed = await post("<testsuite>");
      assert.equal(malformed.status, 400);
      assertFits(jsonSchemaOf(document, path, "post", 400), await malformed.json(), "import 400");
    });

    await t.step("real /healthz and /readyz answers fit their schemas", async () => {
      for (const path of ["/healthz", "/readyz"]) {
        const response = await fetch(`${url}${path}`);
        assert.equal(response.status, 200);
        assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
        assertFits(jsonSchemaOf(document, path, "get", 200), await response.json(), path);
      }
    });
  } finally {
    await close();
  }
});

Deno.test("GET /docs serves the interactive docs page and its Swagger UI files without an API key", async (t) => {
  const { url, close } = await startTestService({ API_KEYS: USER_KEY });
  try {
    const response = await fetch(`${url}/docs`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
    const page = await response.text();
    assert.match(page, /SwaggerUIBundle\(/);
    assert.match(page, /href="openapi\.json"/);

    for (
      const [file, type] of [
        ["swagger-ui-bundle.js", /^text\/javascript/],
        ["swagger-ui.css", /^text\/css/],
      ] as const
    ) {
      await t.step(
        `GET /docs/${file} serves the file from the swagger-ui-dist package`,
        async () => {
          const asset = await fetch(`${url}/docs/${file}`);
          assert.equal(asset.status, 200);
          assert.match(asset.headers.get("content-type") ?? "", type);
          assert.ok((await asset.arrayBuffer()).byteLength > 10_000);
        },
      );
    }
  } finally {
    await close();
  }
});
