// Zod schemas and typed examples of POST /v1/imports/junit's answers, for the OpenAPI document.
import { z } from "zod";
import {
  ApiErrorSchema,
  BATCH_ID,
  BatchResponseSchema,
  ItemVerdictSchema,
  REQUEST_ID,
} from "./api_schemas.ts";
import type { ImportResult } from "./import_routes.ts";

/** The verdict on one testcase of an imported report. */
export const ImportVerdictSchema = ItemVerdictSchema.extend({
  testCaseKey: z.string().describe(
    "The key the testcase was mapped to: its testCaseKey or test_key property, else " +
      "classname.name (or name alone).",
  ),
});

/** The answer to a JUnit import: a batch answer, one verdict per testcase in document order. */
export const ImportResponseSchema = BatchResponseSchema.extend({
  items: z.array(ImportVerdictSchema),
});

/** The 422 answer to a JUnit import: the import answer plus the error envelope's field. */
export const ImportRejectedSchema = ImportResponseSchema.extend({ error: ApiErrorSchema });

// Compile-time guard: what the route sends fits what is documented for it.
type Assert<T extends true> = T;
type _ImportSendsWhatIsDocumented = Assert<
  [ImportResult] extends [z.output<typeof ImportResponseSchema>] ? true : false
>;

const REPORT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="LoginTest" timestamp="2026-11-28T10:15:00Z" tests="3" failures="1" skipped="1">
    <testcase classname="LoginTest" name="acceptsValidPassword" time="2.25"/>
    <testcase classname="LoginTest" name="refusesWrongPassword" time="0.5">
      <properties><property name="testCaseKey" value="LOGIN-002"/></properties>
      <failure type="AssertionError" message="expected 401 but was 200"/>
    </testcase>
    <testcase classname="LoginTest" name="remembersDevice" time="0">
      <skipped message="needs a browser"/>
    </testcase>
  </testsuite>
</testsuites>
`;
// The ids the import derives for REPORT with environment=staging (a test checks them).
const IDS = [
  "45377ea4-e0fb-5bb8-8e2b-a325d25ecc08",
  "b8294aa1-c7bd-5937-b25b-261df97c1f4a",
  "f3da7cc7-c7c9-5874-9c10-46a60bad026b",
];
const KEYS = ["LoginTest.acceptsValidPassword", "LOGIN-002", "LoginTest.remembersDevice"];

function verdicts(status: "created" | "duplicate") {
  return IDS.map((id, index) => ({ index, id, testCaseKey: KEYS[index], status }));
}

/** Examples of the import, typed by their schemas (and checked against them by a test). */
export const importExamples = {
  report: REPORT,
  created: {
    batchId: BATCH_ID,
    total: 3,
    created: 3,
    duplicates: 0,
    failed: 0,
    items: verdicts("created"),
  },
  again: {
    batchId: BATCH_ID,
    total: 3,
    created: 0,
    duplicates: 3,
    failed: 0,
    items: verdicts("duplicate"),
  },
  noTimestamp: {
    batchId: BATCH_ID,
    total: 1,
    created: 0,
    duplicates: 0,
    failed: 1,
    items: [{
      index: 0,
      id: null,
      testCaseKey: "SignupTest.sendsWelcomeMail",
      status: "failed",
      error: {
        code: "VALIDATION_FAILED",
        message: "Cannot accept execution at index 0: 1 problem (see details)",
        details: [{
          path: "startedAt",
          message:
            "the report gives no timestamp for this testcase or its suite; send the startedAt parameter",
        }],
      },
    }],
    error: {
      code: "VALIDATION_FAILED",
      message: "Every execution failed validation; see items[].error",
      requestId: REQUEST_ID,
    },
  },
} satisfies {
  report: string;
  created: z.input<typeof ImportResponseSchema>;
  again: z.input<typeof ImportResponseSchema>;
  noTimestamp: z.input<typeof ImportRejectedSchema>;
};
