// POST /v1/imports/junit: a JUnit XML report in, answered exactly like a batch, plus each testCaseKey.
import { type Context, Hono } from "hono";
import { z } from "zod";
import { ExecutionInputSchema } from "../domain/execution.ts";
import { createIdAssigner, withDerivedId } from "../domain/execution_id.ts";
import type { BatchResult, ItemVerdict } from "../domain/ingest.ts";
import { UnparseableItem } from "../domain/ingest.ts";
import type { JunitCase, JunitOptions } from "../domain/junit.ts";
import { answerBatch, type BatchAnswerDeps } from "./batch_answer.ts";
import { type BatchLimits, mediaType, readText } from "./batch_body.ts";
import { ApiError, ApiErrorCode } from "./errors.ts";
import { parseQuery } from "./query_params.ts";

/** The query parameters of POST /v1/imports/junit. */
export const JunitImportQuerySchema = z.strictObject({
  cycleKey: ExecutionInputSchema.shape.cycleKey.describe("Set on every imported execution."),
  environment: ExecutionInputSchema.shape.environment.describe(
    "Set on every imported execution.",
  ),
  startedAt: ExecutionInputSchema.shape.startedAt.optional().describe(
    "Start of the report, used only for testcases whose report gives no timestamp (neither the " +
      "testcase nor an enclosing testsuite): each starts at startedAt plus the time of the " +
      "testcases before it.",
  ),
});

/** The answer to an import: a batch answer whose items also carry their testCaseKey. */
export interface ImportResult extends BatchResult {
  items: Array<ItemVerdict & { testCaseKey: string }>;
}

const XML_TYPES = new Set(["application/xml", "text/xml"]);

function readQuery(c: Context): JunitOptions {
  const raw: Record<string, string> = {};
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (values.length > 1) {
      throw new ApiError(
        400,
        ApiErrorCode.INVALID_PARAMETER,
        `Cannot use the query parameter "${
          name.slice(0, 64)
        }" ${values.length} times; send it once`,
      );
    }
    raw[name] = values[0];
  }
  return parseQuery(
    JunitImportQuerySchema,
    raw,
    "it is not one of cycleKey, environment, startedAt",
  );
}

function requireXml(c: Context) {
  const type = mediaType(c);
  if (!XML_TYPES.has(type)) {
    throw new ApiError(
      415,
      ApiErrorCode.UNSUPPORTED_MEDIA_TYPE,
      `Cannot read a JUnit report sent as "${
        type || "(no content type)"
      }": send application/xml or text/xml`,
    );
  }
}

/** The report's testcases; a report that cannot be read is an ApiError (413 over a limit). */
async function parseReport(text: string, options: JunitOptions): Promise<JunitCase[]> {
  // The XML parser is loaded by the first import, not at start-up: most instances never see one.
  const [{ junitToExecutions }, { ReportError }] = await Promise.all([
    import("../domain/junit.ts"),
    import("../domain/junit_xml.ts"),
  ]);
  try {
    return junitToExecutions(text, options).cases;
  } catch (error) {
    if (!(error instanceof ReportError)) throw error;
    if (error.kind === "too_many") {
      throw new ApiError(413, ApiErrorCode.TOO_MANY_ITEMS, error.message);
    }
    if (error.kind === "too_large") {
      throw new ApiError(413, ApiErrorCode.PAYLOAD_TOO_LARGE, error.message);
    }
    throw new ApiError(400, ApiErrorCode.INVALID_BODY, error.message);
  }
}

/** Creates the import routes (mounted under /v1). */
export function createImportRoutes(deps: BatchAnswerDeps) {
  const app = new Hono();

  app.post("/imports/junit", (c) => {
    requireXml(c);
    const options = readQuery(c);
    let keys: string[] = [];
    const read = async (limits: BatchLimits) => {
      const { text, bytes } = await readText(c, limits, { ...deps.bodies, logger: deps.logger });
      let cases;
      try {
        cases = await parseReport(text, { ...options, maxItems: limits.maxItems });
      } catch (error) {
        // Loading the parser may fail too: the bytes go back whatever went wrong.
        deps.bodies.budget.give(bytes);
        throw error;
      }
      keys = cases.map((item) => item.testCaseKey);
      // Ids follow from what the report says and the key it is sent with, so the same key posting
      // it again stores nothing twice, and no other key can foresee (and take) them.
      const idOf = createIdAssigner(c.get("caller").idScope);
      const items = cases.map(({ execution, problem }) => {
        if (problem) return new UnparseableItem(problem.message, problem.path);
        return withDerivedId(execution!, idOf);
      });
      return { items, bytes };
    };
    const present = (result: BatchResult): ImportResult => ({
      ...result,
      items: result.items.map(({ index, id, ...rest }) => ({
        index,
        id,
        testCaseKey: keys[index],
        ...rest,
      })),
    });
    return answerBatch(c, deps, read, present);
  });

  return app;
}
