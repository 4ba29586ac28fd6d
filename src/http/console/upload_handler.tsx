// GET and POST /console/upload: read the form's file within the batch limits, ingest it through the
// API's own use case, and show its counts, failed rows and failure file.
import { Buffer } from "node:buffer";
import type { Context } from "hono";
import { z } from "zod";
import { INPUT_FORMATS } from "../../cli/read_executions.ts";
import { ExecutionInputSchema } from "../../domain/execution.ts";
import { type BatchAnswerDeps, batchStatus, ingestBatch } from "../batch_answer.ts";
import { answerError, describeError } from "../error_mapper.ts";
import { ApiError, ApiErrorCode } from "../errors.ts";
import { type FormFields, readFormHolding } from "./form_body.ts";
import { checkCsrf, CSRF_FIELD } from "./session.ts";
import { failureFile, failuresOf, readUpload } from "./upload.ts";
import { SHOWN_FAILURES, type UploadOutcome, UploadPage } from "./upload_page.tsx";

// Empty fields are absent; a start must be a timestamp the API would take.
const blank = (value: unknown) => (value === "" ? undefined : value);
const UploadForm = z.object({
  format: z.preprocess(blank, z.enum(INPUT_FORMATS).optional()),
  cycleKey: z.preprocess(blank, z.string().optional()),
  environment: z.preprocess(blank, z.string().optional()),
  startedAt: z.preprocess(blank, ExecutionInputSchema.shape.startedAt.optional()),
});

/** Room in an upload's form for its short fields and the boundaries around them. */
const FORM_OVERHEAD_BYTES = 64 * 1024;

/** The upload page's handlers. */
export function createUploadHandler(deps: BatchAnswerDeps & { open: boolean }) {
  const page = (c: Context, extra: { error?: string; outcome?: UploadOutcome } = {}) => {
    const { maxItems, maxBytes } = deps.limits;
    return (
      <UploadPage
        session={c.get("session")!}
        open={deps.open}
        maxItems={maxItems}
        maxBytes={maxBytes}
        {...extra}
      />
    );
  };

  // The whole form is read by the API's body reader before anything parses it: within
  // BATCH_READ_TIMEOUT_MS, at most the file's limit plus room for the short fields and the
  // boundaries, its bytes taken from BATCH_BYTES_IN_FLIGHT as they arrive and held until the
  // rows read from it are stored.
  const { maxBytes } = deps.limits;
  const formLimits = {
    maxBytes: maxBytes + FORM_OVERHEAD_BYTES,
    readTimeoutMs: deps.limits.readTimeoutMs,
    tooLarge: `a file over ${maxBytes} bytes; split it, or send it with the submit CLI`,
  };
  const bodies = { ...deps.bodies, logger: deps.logger };

  async function post(c: Context) {
    const { fields: form, taken } = await readFormHolding(c, formLimits, bodies);
    // Given back here unless ingesting took it over (ingestBatch gives it back when stored).
    let held = taken;
    try {
      checkCsrf(c.get("session")!, form[CSRF_FIELD]);
      try {
        const upload = readFile(form);
        held = 0;
        return c.html(await ingestUpload(c, upload, taken));
      } catch (error) {
        // A refused upload is told on the upload page, so the form is at hand for the next try.
        if (!(error instanceof ApiError)) throw error;
        const response = describeError(error);
        answerError(c, response, deps.logger);
        return c.html(page(c, { error: response.message }), response.status);
      }
    } finally {
      deps.bodies.budget.give(held);
    }
  }

  /** The form's file read into rows (counted from its bytes first), with its name and fields. */
  function readFile(form: FormFields) {
    const file = form.file;
    if (!(file instanceof File) || file.size === 0) {
      throw new ApiError(400, ApiErrorCode.INVALID_BODY, "Choose a report file to upload");
    }
    const fields = UploadForm.safeParse(form);
    if (!fields.success) {
      const [issue] = fields.error.issues;
      throw new ApiError(
        400,
        ApiErrorCode.INVALID_PARAMETER,
        `Cannot use the field "${String(issue.path[0])}": ${issue.message}`,
      );
    }
    return { file, fields: fields.data };
  }

  async function ingestUpload(
    c: Context,
    { file, fields }: ReturnType<typeof readFile>,
    bytes: number,
  ) {
    let upload;
    try {
      upload = readUpload(file.name, await file.bytes(), fields, {
        maxItems: deps.limits.maxItems,
        // The ids the session's key derives through the API and the submit CLI too.
        idScope: c.get("session")!.idScope,
      });
    } catch (error) {
      deps.bodies.budget.give(bytes);
      throw error;
    }
    const result = await ingestBatch(c, deps, { items: upload.items, bytes });
    const failures = failuresOf(upload, result);
    const download = failures.length > 0 ? failureFile(file.name, upload, failures) : undefined;
    return page(c, {
      outcome: {
        fileName: file.name,
        batchId: result.batchId,
        kept: batchStatus(result) !== 422,
        total: result.total,
        created: result.created,
        duplicates: result.duplicates,
        failed: result.failed,
        failures: failures.slice(0, SHOWN_FAILURES),
        download: download && {
          fileName: download.fileName,
          // The rows are in this answer only (never kept on the server): the link carries them.
          href: `data:${download.type};charset=utf-8;base64,${
            Buffer.from(download.text).toString("base64")
          }`,
        },
      },
    });
  }

  return {
    show: (c: Context) => c.html(page(c)),
    post,
  };
}
