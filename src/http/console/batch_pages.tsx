// The batches pages: recent batches newest first with where their events stand, and one batch with
// its failed rows, both paged by key.
import type { Context } from "hono";
import type { BatchPage, BatchReader, FailurePage, OwnedBatch } from "../../domain/ports.ts";
import { listedUploader, mayRead } from "../auth.ts";
import { ApiError, ApiErrorCode } from "../errors.ts";
import { UUID_PATTERN } from "../query_params.ts";
import { count, Facts, Frame, Instant } from "./layout.tsx";
import type { ConsoleSession } from "./session.ts";
import { FailureTable } from "./upload_page.tsx";

/** The recent batches (a user key sees the ones it sent). */
export function BatchesPage(props: { session: ConsoleSession; open: boolean; page: BatchPage }) {
  const { batches, nextBefore } = props.page;
  const admin = props.session.role === "admin";
  return (
    <Frame title="Recent batches" section="batches" session={props.session} open={props.open}>
      {batches.length === 0
        ? (
          <p>
            No batch yet. <a href="/console/upload">Upload a report</a>.
          </p>
        )
        : (
          <div class="scroll" tabindex={0} role="region" aria-label="Batches">
            <table>
              <thead>
                <tr>
                  <th scope="col">Received</th>
                  <th scope="col">Batch</th>
                  <th scope="col" class="num">Rows</th>
                  <th scope="col" class="num">Created</th>
                  <th scope="col" class="num">Duplicates</th>
                  <th scope="col" class="num">Failed</th>
                  <th scope="col">Events</th>
                  {admin && <th scope="col">Key</th>}
                </tr>
              </thead>
              <tbody>
                {batches.map((batch) => (
                  <tr>
                    <td>
                      <Instant at={batch.receivedAt} />
                    </td>
                    <td>
                      <a href={`/console/batches/${batch.batchId}`}>{batch.batchId}</a>
                    </td>
                    <td class="num">{count(batch.total)}</td>
                    <td class="num">{count(batch.created)}</td>
                    <td class="num">{count(batch.duplicates)}</td>
                    <td class="num">{count(batch.failed)}</td>
                    <td>
                      <Events batch={batch} />
                    </td>
                    {admin && <td>{batch.uploadedBy ?? "(none)"}</td>}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      {nextBefore && (
        <p>
          <a href={`/console/batches?before=${nextBefore}`} rel="next">Older batches</a>
        </p>
      )}
    </Frame>
  );
}

/** One batch: its counts, its events, and a page of its failed rows. */
export function BatchPageView(props: {
  session: ConsoleSession;
  open: boolean;
  batch: OwnedBatch;
  failures: FailurePage;
}) {
  const { batch, failures } = props;
  return (
    <Frame
      title={`Batch ${batch.batchId}`}
      section="batches"
      session={props.session}
      open={props.open}
    >
      <Facts
        items={[
          ["Received", <Instant key="received" at={batch.receivedAt} />],
          ["Completed", <Instant key="completed" at={batch.completedAt} />],
          ["Rows", count(batch.total)],
          ["Created", count(batch.created)],
          ["Duplicates", count(batch.duplicates)],
          ["Failed", count(batch.failed)],
          ["Events", <Events key="events" batch={batch} />],
        ]}
      />
      <h2>Failed rows</h2>
      {failures.items.length === 0
        ? <p>{batch.failed === 0 ? "No row failed." : "No more failed rows."}</p>
        : <FailureTable failures={failures.items} />}
      {failures.nextAfter !== null && (
        <p>
          <a href={`/console/batches/${batch.batchId}?after=${failures.nextAfter}`} rel="next">
            Next failed rows
          </a>
        </p>
      )}
    </Frame>
  );
}

/** Where a batch's events stand: published, pending, failed (dead letters). */
function Events(props: { batch: OwnedBatch }) {
  const { published, pending, failed } = props.batch.events;
  return (
    <span class="events">
      <span class="published">{count(published)} published</span>,{" "}
      <span class={pending > 0 ? "pending" : ""}>{count(pending)} pending</span>,{" "}
      <span class={failed > 0 ? "failed" : ""}>{count(failed)} failed</span>
    </span>
  );
}

/** Batches listed per page, and failed rows shown per page of a batch. */
const BATCHES_PER_PAGE = 20;
const FAILURES_PER_PAGE = 100;

function badParameter(name: string, value: string): ApiError {
  return new ApiError(
    400,
    ApiErrorCode.INVALID_PARAMETER,
    `Cannot show the page for ${name} "${value.slice(0, 64)}"; follow the console's own links`,
  );
}

/** The handlers of GET /console/batches and /console/batches/{batchId}. */
export function createBatchHandlers(deps: { batches: BatchReader; open: boolean }) {
  return {
    async list(c: Context) {
      const session = c.get("session")!;
      const before = c.req.query("before");
      if (before !== undefined && !UUID_PATTERN.test(before)) throw badParameter("before", before);
      const page = await deps.batches.listBatches({
        limit: BATCHES_PER_PAGE,
        before: before?.toLowerCase(),
        uploadedBy: listedUploader(session),
      });
      return c.html(<BatchesPage session={session} open={deps.open} page={page} />);
    },

    async show(c: Context) {
      const session = c.get("session")!;
      const id = c.req.param("batchId") ?? "";
      if (!UUID_PATTERN.test(id)) throw badParameter("batch", id);
      const after = c.req.query("after");
      if (after !== undefined && !/^\d{1,9}$/.test(after)) throw badParameter("after", after);
      const batch = await deps.batches.getBatch(id.toLowerCase());
      if (!batch || !mayRead(session, batch)) {
        throw new ApiError(404, ApiErrorCode.NOT_FOUND, `Cannot find batch "${id}"`);
      }
      const failures = await deps.batches.listFailures(batch.batchId, {
        after: after === undefined ? undefined : Number(after),
        limit: FAILURES_PER_PAGE,
      });
      return c.html(
        <BatchPageView session={session} open={deps.open} batch={batch} failures={failures} />,
      );
    },
  };
}
