// The OpenAPI 3.1 document, generated from the zod schemas that validate requests, and the docs page.
import { Hono } from "hono";
import getSwaggerUiPath from "swagger-ui-dist/absolute-path.js";
import { z } from "zod";
import { ExecutionInputSchema } from "../domain/execution.ts";
import { ATTRIBUTES_MAX_BYTES, ATTRIBUTES_MAX_DEPTH } from "../domain/execution_rules.ts";
import { RequeueRequestSchema } from "./admin_routes.ts";
import * as api from "./api_schemas.ts";
import type { ApiErrorCode } from "./errors.ts";
import { JunitImportQuerySchema } from "./import_routes.ts";
import * as imports from "./import_schemas.ts";

/** The API's version in the document's `info`; raise it when the API changes. */
export const API_VERSION = "1.0.0";

// Requests are documented as zod reads them (io: "input"), responses as the routes write them.
const REQUEST_SCHEMAS = {
  ExecutionInput: ExecutionInputSchema,
  BatchRequest: api.BatchRequestSchema,
  RequeueRequest: RequeueRequestSchema,
};
const RESPONSE_SCHEMAS = {
  BatchResponse: api.BatchResponseSchema,
  BatchRejected: api.BatchRejectedSchema,
  ItemVerdict: api.ItemVerdictSchema,
  ItemError: api.ItemErrorSchema,
  ValidationDetail: api.ValidationDetailSchema,
  ErrorEnvelope: api.ErrorEnvelopeSchema,
  ApiError: api.ApiErrorSchema,
  StoredExecution: api.StoredExecutionSchema,
  Batch: api.BatchSchema,
  BatchView: api.BatchViewSchema,
  BatchFailure: api.BatchFailureSchema,
  BatchList: api.BatchListSchema,
  DeadLetters: api.DeadLettersSchema,
  DeadLetter: api.DeadLetterSchema,
  RequeueResponse: api.RequeueResponseSchema,
  ImportResponse: imports.ImportResponseSchema,
  ImportRejected: imports.ImportRejectedSchema,
  ImportVerdict: imports.ImportVerdictSchema,
  Health: api.HealthSchema,
  Readiness: api.ReadinessSchema,
};
type SchemaName = keyof typeof REQUEST_SCHEMAS | keyof typeof RESPONSE_SCHEMAS;

/** JSON Schema 2020-12 (the dialect of OpenAPI 3.1) for named zod schemas, referring to each other. */
function componentSchemas(schemas: Record<string, z.ZodType>, io: "input" | "output") {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const converted = z.toJSONSchema(registry, {
    io,
    target: "draft-2020-12",
    uri: (id) => `#/components/schemas/${id}`,
  }).schemas;
  // Inside the document the dialect is given already, and an $id may not carry a fragment.
  return Object.fromEntries(
    Object.entries(converted).map((
      [id, { $schema: _dialect, $id: _id, ...schema }],
    ) => [id, schema]),
  );
}

const ref = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` });
const REQUEST_ID_HEADER = { "X-Request-Id": { $ref: "#/components/headers/RequestId" } };
const RETRY_AFTER_HEADER = { "Retry-After": { $ref: "#/components/headers/RetryAfter" } };
const USER = [{ userKey: [] }, { adminKey: [] }];
const ADMIN = [{ adminKey: [] }];

type Examples = Record<string, [summary: string, value: unknown]>;

function jsonResponse(
  description: string,
  schema: SchemaName,
  examples: Examples,
  headers: Record<string, unknown> = {},
) {
  return {
    description,
    headers: { ...REQUEST_ID_HEADER, ...headers },
    content: {
      "application/json": {
        schema: ref(schema),
        examples: Object.fromEntries(
          Object.entries(examples).map(([name, [summary, value]]) => [name, { summary, value }]),
        ),
      },
    },
  };
}

function errorResponse(
  description: string,
  examples: Record<string, [code: ApiErrorCode, message: string]>,
  headers: Record<string, unknown> = {},
) {
  const values: Examples = Object.fromEntries(
    Object.entries(examples).map(([name, [code, message]]) => [
      name,
      [code, api.errorExample(code, message)],
    ]),
  );
  return jsonResponse(description, "ErrorEnvelope", values, headers);
}

const shared = (name: string) => ({ $ref: `#/components/responses/${name}` });
const USER_ERRORS = { 401: shared("Unauthorized"), 500: shared("InternalError") };
const READ_ERRORS = { ...USER_ERRORS, 503: shared("ReadUnavailable") };
const ADMIN_ERRORS = { ...READ_ERRORS, 403: shared("Forbidden") };

function uuidPath(name: string, what: string) {
  return {
    name,
    in: "path",
    required: true,
    description: `The ${what}'s id.`,
    schema: { type: "string", format: "uuid" },
  };
}

function invalidParameter(what: string, description = `The ${what} id is not a UUID.`) {
  return errorResponse(description, {
    notUuid: ["INVALID_PARAMETER", `Cannot look up ${what} "abc": not a UUID`],
  });
}

/** A route's query parameters, from the schema the route parses them with. */
function queryParameters(query: z.ZodObject) {
  return Object.entries(query.shape).map(([name, schema]) => {
    const { $schema: _dialect, description, ...json } = z.toJSONSchema(schema, {
      io: "input",
      target: "draft-2020-12",
    });
    return { name, in: "query", required: false, description, schema: json };
  });
}

const JUNIT_MAPPING = `A JUnit XML report as runners write it (Maven Surefire, Gradle, pytest
\`--junitxml\`, \`deno test --reporter=junit\`, Jest's junit reporter, go-junit-report, PHPUnit):
\`<testsuites>\` or one \`<testsuite>\`, nested suites too. Each \`<testcase>\` becomes one execution:
\`testCaseKey\` from its \`testCaseKey\` or \`test_key\` property, else \`classname.name\`; status
\`FAILED\` for \`<failure>\` or \`<error>\`, \`SKIPPED\` for \`<skipped>\`, else \`PASSED\`;
\`startedAt\` from the testcase's \`timestamp\`, else its suite's plus the time of the testcases
before it, else the \`startedAt\` parameter likewise (a timestamp without an offset is read as UTC);
\`durationMs\` and \`finishedAt\` from \`time\`; \`comment\` from the failure's type and message.
Every execution gets a name-based UUID (v5) id, so posting the same report again answers
\`duplicate\` for every item and stores nothing twice. A DOCTYPE, an entity or an external
reference is refused with 400 \`INVALID_BODY\`; malformed XML is 400 with the line and column.`;

const DESCRIPTION = `Takes batches of test executions, validates every item, stores the valid ones
and answers with a verdict per item; each stored execution is then published as a Kafka event.

**Access.** When \`API_KEYS\` or \`ADMIN_API_KEYS\` are set, \`/v1/*\` needs
\`Authorization: Bearer <key>\` (a user or an admin key) and \`/admin/*\` an admin key. The
operational routes and these docs need none.

**Errors.** Every error response is \`{"error":{"code","message","requestId"}}\`; the codes are
listed on \`ApiError.code\` (request level) and \`ItemError.code\` (item level). Every response
carries \`X-Request-Id\`.

**Rules the schemas cannot show.** The server also refuses, as validation errors of the item:
control characters in text fields (tab, CR and LF are allowed in \`comment\`), a lone UTF-16
surrogate (an unpaired \`\\ud800\` to \`\\udfff\` escape) in any text or in \`attributes\`, a
\`finishedAt\` before \`startedAt\`, an instant before year 0001 or after year 9999 in UTC, and
\`attributes\` over ${ATTRIBUTES_MAX_BYTES} bytes serialised, nested deeper than
${ATTRIBUTES_MAX_DEPTH} levels, holding a number beyond the range of a double (such as \`1e400\`)
or a key \`__proto__\`.`;

/** Builds the OpenAPI 3.1 document. */
export function createOpenApiDocument() {
  const { examples: ex } = api;
  return {
    openapi: "3.1.0",
    info: { title: "execution-ingest", version: API_VERSION, description: DESCRIPTION },
    tags: [
      { name: "executions", description: "Send and read test executions." },
      { name: "admin", description: "Dead letters: events that failed their last publish." },
      { name: "operations", description: "Probes and metrics; no API key needed." },
    ],
    paths: {
      "/v1/executions/batch": {
        post: {
          operationId: "postExecutionBatch",
          tags: ["executions"],
          summary: "Validate and store a batch of executions",
          description:
            "Every item is validated and judged on its own; the answer has one verdict per item, " +
            "in request order. Resubmitting is safe: an id already stored with the same content is " +
            "a `duplicate`. NDJSON is also accepted as `application/ndjson` and `application/jsonl`.",
          security: USER,
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: ref("BatchRequest"),
                examples: {
                  valid: { summary: "Two valid executions", value: ex.batchRequest },
                  oneInvalidItem: {
                    summary: "The second item is invalid: the answer is 207",
                    value: ex.batchWithInvalidItem,
                  },
                },
              },
              "application/x-ndjson": {
                schema: {
                  type: "string",
                  description:
                    "One ExecutionInput object per line, up to BATCH_MAX_ITEMS lines; blank lines " +
                    "are skipped and a line that is not JSON fails as its own item.",
                },
                example: ex.ndjsonRequest,
              },
            },
          },
          responses: {
            200: jsonResponse("No item failed: each was created or a duplicate.", "BatchResponse", {
              stored: ["Created and duplicate", ex.batchCreated],
            }),
            207: jsonResponse("Some items failed and some did not.", "BatchResponse", {
              mixed: ["One stored, one invalid", ex.batchMixed],
            }),
            400: errorResponse("The body is not a batch.", {
              notJson: [
                "INVALID_BODY",
                "Cannot parse the body as JSON: Unexpected end of JSON input",
              ],
              empty: [
                "INVALID_BODY",
                'The "executions" array is empty: send at least one execution',
              ],
            }),
            408: shared("BodyTimeout"),
            413: errorResponse("The batch is too large; split it.", {
              tooManyItems: [
                "TOO_MANY_ITEMS",
                "Cannot accept more than 10000 executions in one batch; split the batch",
              ],
              payloadTooLarge: [
                "PAYLOAD_TOO_LARGE",
                "Cannot accept a body over 16777216 bytes; split the batch",
              ],
              tooManyValues: [
                "TOO_MANY_VALUES",
                "Cannot accept more than 500000 values (objects, arrays and their elements) in " +
                "one body; split the batch",
              ],
            }),
            415: errorResponse("The content type is neither JSON nor NDJSON.", {
              unsupported: [
                "UNSUPPORTED_MEDIA_TYPE",
                'Cannot read a batch sent as "text/csv": send application/json or application/x-ndjson',
              ],
            }),
            422: jsonResponse(
              "Every item was rejected: the batch answer plus the error envelope's field.",
              "BatchRejected",
              {
                allInvalid: ["Every item failed validation", ex.batchAllInvalid],
                allRejected: ["Every item was rejected, not all by validation", ex.batchRejected],
              },
            ),
            503: shared("BatchUnavailable"),
            ...USER_ERRORS,
          },
        },
      },
      "/v1/imports/junit": {
        post: {
          operationId: "importJunitReport",
          tags: ["executions"],
          summary: "Import a JUnit XML report",
          description: JUNIT_MAPPING,
          security: USER,
          parameters: queryParameters(JunitImportQuerySchema),
          requestBody: {
            required: true,
            content: Object.fromEntries(
              ["application/xml", "text/xml"].map((type) => [type, {
                schema: { type: "string", description: "A JUnit XML report, UTF-8." },
                example: imports.importExamples.report,
              }]),
            ),
          },
          responses: {
            200: jsonResponse(
              "No testcase failed: each was created or a duplicate.",
              "ImportResponse",
              {
                created: ["The report with environment=staging", imports.importExamples.created],
                again: ["The same report again", imports.importExamples.again],
              },
            ),
            207: jsonResponse("Some testcases failed and some did not.", "ImportResponse", {
              mixed: ["One stored, one invalid", {
                ...imports.importExamples.created,
                total: 2,
                created: 1,
                failed: 1,
                items: [
                  imports.importExamples.created.items[0],
                  { ...imports.importExamples.noTimestamp.items[0], index: 1 },
                ],
              }],
            }),
            400: errorResponse("The body is not a JUnit report that can be read safely.", {
              doctype: [
                "INVALID_BODY",
                "Cannot read the XML: a DOCTYPE declaration is not allowed (line 2, column 1); " +
                "send the report without a DOCTYPE",
              ],
              malformed: [
                "INVALID_BODY",
                "Cannot read the XML: unexpected close tag, expected </testcase> " +
                "(line 4, column 14)",
              ],
              badParameter: [
                "INVALID_PARAMETER",
                'Cannot use the query parameter "startedAt": must be an RFC 3339 timestamp ' +
                "with an offset, such as 2026-11-28T10:15:00Z",
              ],
            }),
            413: errorResponse("The report is too large; split it.", {
              tooManyItems: [
                "TOO_MANY_ITEMS",
                "Cannot import more than 10000 testcases in one report; split the report",
              ],
              payloadTooLarge: [
                "PAYLOAD_TOO_LARGE",
                "Cannot accept a body over 16777216 bytes; split the batch",
              ],
              tooManyElements: [
                "PAYLOAD_TOO_LARGE",
                "Cannot read the XML: it has more than 200000 elements; split the report " +
                "(line 1, column 800010)",
              ],
              attributeTooLong: [
                "PAYLOAD_TOO_LARGE",
                'Cannot read the XML: the attribute "classname" has a value over 1048576 ' +
                "characters (line 1, column 5242922)",
              ],
            }),
            408: shared("BodyTimeout"),
            415: errorResponse("The content type is not XML.", {
              unsupported: [
                "UNSUPPORTED_MEDIA_TYPE",
                'Cannot read a JUnit report sent as "application/json": send application/xml ' +
                "or text/xml",
              ],
            }),
            422: jsonResponse(
              "Every testcase was rejected: the import answer plus the error envelope's field.",
              "ImportRejected",
              { noTimestamp: ["No timestamp anywhere", imports.importExamples.noTimestamp] },
            ),
            503: shared("BatchUnavailable"),
            ...USER_ERRORS,
          },
        },
      },
      "/v1/executions/{id}": {
        get: {
          operationId: "getExecution",
          tags: ["executions"],
          summary: "Read one stored execution",
          description:
            "Answers the key that stored the execution and admin keys; any other key gets the " +
            "same 404 as for an id never stored.",
          security: USER,
          parameters: [uuidPath("id", "execution")],
          responses: {
            200: jsonResponse("The execution.", "StoredExecution", {
              stored: ["A stored execution", ex.storedExecution],
            }),
            400: invalidParameter("execution"),
            404: errorResponse("No execution has this id, or another key stored it.", {
              notFound: ["NOT_FOUND", `Cannot find execution "${ex.storedExecution.id}"`],
            }),
            ...READ_ERRORS,
          },
        },
      },
      "/v1/batches": {
        get: {
          operationId: "listBatches",
          tags: ["executions"],
          summary: "List recent batches, newest first",
          description:
            "The batches that stored something, with their counts and where their events stand, " +
            "newest first, paged with `before`. A user key sees the batches it sent (and those " +
            "sent while access control was off); an admin key sees all.",
          security: USER,
          parameters: queryParameters(api.BatchListQuerySchema),
          responses: {
            200: jsonResponse("A page of batches.", "BatchList", {
              page: ["One batch", ex.batchList],
            }),
            400: errorResponse("A query parameter is malformed.", {
              badLimit: [
                "INVALID_PARAMETER",
                'Cannot use the query parameter "limit": Too big: expected number to be <=100',
              ],
            }),
            ...READ_ERRORS,
          },
        },
      },
      "/v1/batches/{batchId}": {
        get: {
          operationId: "getBatch",
          tags: ["executions"],
          summary: "Read a batch's counts, where its events stand, and its failed items",
          description:
            "The failed items are kept with the batch (index, id, code, message, details; never " +
            "the payload) and paged with `limit` and `after`. A batch that stored nothing (every " +
            "item failed) is not kept: its answer is its only record. A user key gets 404 for a " +
            "batch another key sent. The first BATCH_FAILURES_KEPT failed items are kept, the " +
            "rest counted in `failuresNotKept`; batches are deleted BATCH_RETENTION_DAYS after " +
            "they completed. NUL and lone surrogates in what an item echoed are kept as \\u " +
            "escapes.",
          security: USER,
          parameters: [uuidPath("batchId", "batch"), ...queryParameters(api.BatchQuerySchema)],
          responses: {
            200: jsonResponse("The batch.", "BatchView", { batch: ["A batch", ex.batchView] }),
            400: invalidParameter(
              "batch",
              "The batch id is not a UUID, or a query parameter is malformed.",
            ),
            404: errorResponse(
              "No batch has this id (or it stored nothing, or another key sent it).",
              {
                notFound: ["NOT_FOUND", `Cannot find batch "${ex.batchView.batchId}"`],
              },
            ),
            ...READ_ERRORS,
          },
        },
      },
      "/admin/dead-letters": {
        get: {
          operationId: "listDeadLetters",
          tags: ["admin"],
          summary: "List events that failed their last publish attempt",
          security: ADMIN,
          parameters: [{
            name: "limit",
            in: "query",
            description: "Most dead letters to return.",
            schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
          }],
          responses: {
            200: jsonResponse("Dead letters, oldest first.", "DeadLetters", {
              one: ["One dead letter", ex.deadLetters],
            }),
            400: errorResponse("The limit is not a whole number from 1 to 1000.", {
              badLimit: ["INVALID_PARAMETER", "limit must be a whole number from 1 to 1000"],
            }),
            ...ADMIN_ERRORS,
          },
        },
      },
      "/admin/dead-letters/requeue": {
        post: {
          operationId: "requeueDeadLetters",
          tags: ["admin"],
          summary: "Put dead letters back in the publishing queue",
          security: ADMIN,
          requestBody: {
            required: false,
            description: "An empty body or `{}` re-queues every dead letter.",
            content: {
              "application/json": {
                schema: ref("RequeueRequest"),
                examples: {
                  some: { summary: "These ids", value: { ids: [ex.storedExecution.id] } },
                  all: { summary: "Every dead letter", value: {} },
                },
              },
            },
          },
          responses: {
            200: jsonResponse("How many were re-queued.", "RequeueResponse", {
              requeued: ["Three re-queued", { requeued: 3 }],
            }),
            400: errorResponse("The body is not JSON or not a requeue request.", {
              badId: ["INVALID_BODY", 'Invalid body at "ids.0": Invalid UUID'],
            }),
            ...ADMIN_ERRORS,
          },
        },
      },
      "/healthz": {
        get: {
          operationId: "health",
          tags: ["operations"],
          summary: "Liveness: the process answers",
          responses: {
            200: jsonResponse("Alive.", "Health", { ok: ["Alive", { status: "ok" }] }),
          },
        },
      },
      "/readyz": {
        get: {
          operationId: "readiness",
          tags: ["operations"],
          summary: "Readiness: database reachable and migrations applied",
          responses: {
            200: jsonResponse("Ready.", "Readiness", { ready: ["Ready", ex.readiness] }),
            503: jsonResponse("Not ready (or shutting down).", "Readiness", {
              databaseDown: ["The database is down", {
                status: "not ready",
                ready: false,
                database: { status: "down", migrations: "unknown" },
                kafka: { status: "up" },
                shuttingDown: false,
              }],
            }),
          },
        },
      },
      "/metrics": {
        get: {
          operationId: "metrics",
          tags: ["operations"],
          summary: "Prometheus metrics",
          responses: {
            200: {
              description: "Prometheus text exposition format 0.0.4.",
              content: {
                "text/plain": {
                  schema: { type: "string" },
                  example:
                    "# HELP execution_ingest_executions_received_total Items received in batches\n" +
                    "# TYPE execution_ingest_executions_received_total counter\n" +
                    "execution_ingest_executions_received_total 1000\n",
                },
              },
            },
          },
        },
      },
      "/cli/submit.mjs": {
        get: {
          operationId: "submitCli",
          tags: ["operations"],
          summary: "The submit CLI as one file for Node.js 18+ or Deno",
          description: "Built from this service's own version by `deno task build:cli`. In a CI " +
            'job: `curl -fsS "$EXECUTION_INGEST_URL/cli/submit.mjs" -o submit.mjs && node ' +
            "submit.mjs reports/`. Sends an ETag; If-None-Match answers 304 while it is current.",
          responses: {
            200: {
              description: "The CLI, one ES module.",
              content: { "text/javascript": { schema: { type: "string" } } },
            },
            503: errorResponse("The server has no CLI bundle.", {
              notBuilt: [
                "CLI_NOT_BUILT",
                "The submit CLI is not built on this server: run `deno task build:cli` where " +
                "the service runs (`deno task start` and the image build it)",
              ],
            }),
          },
        },
      },
    },
    components: {
      schemas: {
        ...componentSchemas(REQUEST_SCHEMAS, "input"),
        ...componentSchemas(RESPONSE_SCHEMAS, "output"),
      },
      responses: {
        Unauthorized: errorResponse("No API key, or one that is not configured.", {
          missing: ["UNAUTHORIZED", "Send an API key as 'Authorization: Bearer <key>'"],
          invalid: ["UNAUTHORIZED", "The API key is not valid"],
        }, { "WWW-Authenticate": { $ref: "#/components/headers/WWWAuthenticate" } }),
        Forbidden: errorResponse("A user key on an admin route.", {
          userKey: ["FORBIDDEN", "This endpoint needs an admin API key"],
        }),
        BatchUnavailable: errorResponse(
          "Nothing was stored; retry the whole batch after Retry-After seconds.",
          {
            storageUnavailable: [
              "STORAGE_UNAVAILABLE",
              "The database is unavailable or busy; nothing was stored. Retry the whole batch later",
            ],
            saturated: ["SERVICE_SATURATED", "The service is busy with other batches; retry later"],
            interrupted: [
              "UPLOAD_INTERRUPTED",
              "The service is shutting down and stopped reading the body; nothing was stored. Retry the whole batch",
            ],
          },
          RETRY_AFTER_HEADER,
        ),
        BodyTimeout: errorResponse(
          "The body did not arrive within BATCH_READ_TIMEOUT_MS; the connection is closed.",
          {
            slowBody: [
              "BODY_READ_TIMEOUT",
              "Cannot wait longer for the body: 1024 bytes arrived within 30000 ms; send it faster or in smaller batches",
            ],
          },
        ),
        ReadUnavailable: errorResponse("The database cannot be read now; retry later.", {
          unavailable: [
            "STORAGE_UNAVAILABLE",
            "Cannot read from the database now: the database is unreachable",
          ],
        }, RETRY_AFTER_HEADER),
        InternalError: errorResponse("A bug on our side; the request id finds it in the log.", {
          internal: [
            "INTERNAL_ERROR",
            "Something went wrong on our side; the request id helps us find it",
          ],
        }),
      },
      headers: {
        RequestId: {
          description: "The request's id: the one sent in X-Request-Id, or a new one.",
          schema: { type: "string" },
        },
        RetryAfter: {
          description: "Seconds to wait before retrying.",
          schema: { type: "integer", minimum: 0 },
        },
        WWWAuthenticate: {
          description: "The Bearer challenge (RFC 6750).",
          schema: { type: "string" },
        },
      },
      securitySchemes: {
        userKey: {
          type: "http",
          scheme: "bearer",
          description: "A key from API_KEYS, for /v1 (an admin key works too).",
        },
        adminKey: {
          type: "http",
          scheme: "bearer",
          description: "A key from ADMIN_API_KEYS, for /admin and /v1.",
        },
      },
    },
  };
}

// Swagger UI's files come from the npm package swagger-ui-dist in Deno's cache: the page works offline.
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>execution-ingest API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
<style>body { margin: 0 } .raw { font: 14px sans-serif; margin: 8px 20px }</style>
</head>
<body>
<p class="raw">execution-ingest API ${API_VERSION}. The OpenAPI 3.1 document itself:
<a href="openapi.json">/openapi.json</a>.</p>
<div id="swagger-ui"><noscript><p class="raw">The interactive docs need JavaScript.</p></noscript></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({ url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null });
</script>
</body>
</html>
`;

/** Creates GET /openapi.json, GET /docs, the docs page's two asset files, and redirects to /docs. */
export function createOpenApiRoutes() {
  // Built on first request, not at start-up: converting the schemas takes tens of milliseconds.
  let document: string | undefined;
  const assets = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();
  const app = new Hono();

  app.get("/openapi.json", (c) => {
    document ??= JSON.stringify(createOpenApiDocument());
    return c.body(document, 200, { "content-type": "application/json" });
  });
  app.get("/docs", (c) => c.html(DOCS_PAGE));
  // A browser pointed at the bare address lands on the docs; "/docs/" would break the page's
  // relative links. Relative locations keep both working behind a proxy that adds a path prefix.
  app.get("/", (c) => c.redirect("docs", 302));
  app.get("/docs/", (c) => c.redirect("../docs", 301));
  for (const [name, type] of Object.entries(ASSETS)) {
    app.get(`/docs/${name}`, async (c) => {
      // Read on first use and kept: about 2 MB, and never read for a service nobody browses.
      let bytes = assets.get(name);
      if (!bytes) {
        bytes = Deno.readFile(`${getSwaggerUiPath()}/${name}`);
        assets.set(name, bytes);
        bytes.catch(() => assets.delete(name));
      }
      return c.body(await bytes, 200, {
        "content-type": type,
        "cache-control": "public, max-age=86400",
      });
    });
  }
  return app;
}
