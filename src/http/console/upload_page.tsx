// The upload page: the form (file, format, cycle key, environment, start of undated reports) and,
// after an upload, its counts, the table of failed rows and the failure file to download.
import { ExecutionInputSchema } from "../../domain/execution.ts";
import type { ValidationDetail } from "../../domain/validate.ts";
import { count, CsrfField, Facts, Frame, Notice } from "./layout.tsx";
import type { ConsoleSession } from "./session.ts";

/** A failed row as the tables show it (an upload's, or one kept with a batch). */
export interface FailureRow {
  index: number;
  /** The file's line, when the upload's format has lines. */
  line?: number;
  code: string;
  message: string;
  details?: ValidationDetail[];
}

/** An upload's outcome as the page shows it. */
export interface UploadOutcome {
  fileName: string;
  batchId: string;
  /** False when nothing was stored: the batch is not kept, this page is its only record. */
  kept: boolean;
  total: number;
  created: number;
  duplicates: number;
  failed: number;
  failures: FailureRow[];
  download?: { fileName: string; href: string };
}

// The stamps take no more than the API would; read from its schema, so the two cannot drift.
const CYCLE_KEY_MAX = ExecutionInputSchema.shape.cycleKey.unwrap().maxLength ?? undefined;
const ENVIRONMENT_MAX = ExecutionInputSchema.shape.environment.unwrap().maxLength ?? undefined;

/** Most failed rows listed on the page; the failure file and the batch page hold the rest. */
export const SHOWN_FAILURES = 500;

/** The table of failed rows: index (and line), code, message, the fields named. */
export function FailureTable(props: { failures: FailureRow[] }) {
  const withLines = props.failures.some((failure) => failure.line !== undefined);
  return (
    <div class="scroll" tabindex={0} role="region" aria-label="Failed rows">
      <table>
        <thead>
          <tr>
            <th scope="col">Index</th>
            {withLines && <th scope="col">Line</th>}
            <th scope="col">Code</th>
            <th scope="col">Message</th>
            <th scope="col">Fields</th>
          </tr>
        </thead>
        <tbody>
          {props.failures.map((failure) => (
            <tr>
              <td class="num">{failure.index}</td>
              {withLines && <td class="num">{failure.line ?? ""}</td>}
              <td>
                <code>{failure.code}</code>
              </td>
              <td>{failure.message}</td>
              <td>
                {failure.details?.length
                  ? (
                    <ul class="fields">
                      {failure.details.map((detail) => (
                        <li>
                          <code>{detail.path || "(the row)"}</code> {detail.message}
                        </li>
                      ))}
                    </ul>
                  )
                  : ""}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The upload page, with the last upload's outcome or the reason it was refused. */
export function UploadPage(props: {
  session: ConsoleSession;
  open: boolean;
  maxItems: number;
  maxBytes: number;
  outcome?: UploadOutcome;
  error?: string;
}) {
  const { outcome } = props;
  return (
    <Frame title="Upload a report" section="upload" session={props.session} open={props.open}>
      {props.error && <Notice kind="error">{props.error}</Notice>}
      {outcome && <Outcome outcome={outcome} />}
      <form method="post" action="/console/upload" enctype="multipart/form-data" class="upload">
        <CsrfField session={props.session} />
        <label for="file">Report file</label>
        <p class="hint" id="file-hint">
          JSON, NDJSON, CSV or JUnit XML; choose it, or drop it on the field. Up to{" "}
          {count(props.maxItems)} rows and {count(Math.floor(props.maxBytes / 1024 / 1024))} MiB.
        </p>
        <input
          id="file"
          name="file"
          type="file"
          required
          class="drop"
          aria-describedby="file-hint"
          accept=".json,.ndjson,.jsonl,.csv,.xml,application/json,text/csv,application/xml,text/xml"
        />
        <label for="format">Format</label>
        <select id="format" name="format">
          <option value="">From the file name or its content</option>
          <option value="json">JSON</option>
          <option value="ndjson">NDJSON</option>
          <option value="csv">CSV</option>
          <option value="junit">JUnit XML</option>
        </select>
        <label for="cycleKey">Cycle key (optional)</label>
        <input
          id="cycleKey"
          name="cycleKey"
          type="text"
          maxlength={CYCLE_KEY_MAX}
          autocomplete="off"
        />
        <label for="environment">Environment (optional)</label>
        <input
          id="environment"
          name="environment"
          type="text"
          maxlength={ENVIRONMENT_MAX}
          autocomplete="off"
        />
        <label for="startedAt">Report start, for JUnit reports without timestamps (optional)</label>
        <input
          id="startedAt"
          name="startedAt"
          type="text"
          placeholder="2026-11-28T10:15:00Z"
          autocomplete="off"
        />
        <button type="submit">Upload</button>
      </form>
    </Frame>
  );
}

function Outcome(props: { outcome: UploadOutcome }) {
  const { outcome } = props;
  const more = outcome.failed - outcome.failures.length;
  return (
    <section aria-labelledby="outcome" class="outcome">
      <h2 id="outcome">
        {outcome.fileName}: {outcome.failed === 0
          ? "every row stored"
          : `${count(outcome.failed)} of ${count(outcome.total)} rows failed`}
      </h2>
      <Facts
        items={[
          ["Rows", count(outcome.total)],
          ["Created", count(outcome.created)],
          ["Duplicates", count(outcome.duplicates)],
          ["Failed", count(outcome.failed)],
          [
            "Batch",
            outcome.kept
              ? <a key="batch" href={`/console/batches/${outcome.batchId}`}>{outcome.batchId}</a>
              : <span key="batch">{outcome.batchId} (nothing stored, so not kept)</span>,
          ],
        ]}
      />
      {outcome.download && (
        <p>
          <a href={outcome.download.href} download={outcome.download.fileName} class="button">
            Download the failed rows ({outcome.download.fileName})
          </a>{" "}
          <span class="hint">Fix them and upload that file again.</span>
        </p>
      )}
      {outcome.failures.length > 0 && (
        <>
          <h3>Failed rows</h3>
          <FailureTable failures={outcome.failures} />
          {more > 0 && (
            <p class="hint">
              And {count(more)} more: they are in the failure file and on the batch's page.
            </p>
          )}
        </>
      )}
    </section>
  );
}
