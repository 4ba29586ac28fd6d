// The publishing page (admin): Kafka's state, the outbox backlog and its oldest age, the publish
// rate, and the dead letters with their reason and buttons to re-queue one or all.
import type { Context } from "hono";
import { z } from "zod";
import type { KafkaState } from "../../metrics/metrics.ts";
import { ApiError, ApiErrorCode } from "../errors.ts";
import type { FormFields } from "./form_body.ts";
import { count, CsrfField, Facts, Frame, Instant, Notice } from "./layout.tsx";
import { checkCsrf, type ConsoleSession, CSRF_FIELD } from "./session.ts";

/** Where publishing stands, as the page shows it. */
export interface PublishingView {
  kafka: KafkaState;
  pending: number;
  oldestPendingSeconds: number;
  deadLetters: number;
  /** Events this instance published per second, over the last minute. */
  ratePerSecond: number;
}

/** A dead letter as the page lists it. */
export interface DeadLetterRow {
  executionId: string;
  batchId: string;
  attempts: number;
  lastError: string | null;
  failedAt?: string;
}

/** Most dead letters listed on the page (oldest first). */
export const SHOWN_DEAD_LETTERS = 100;

const KAFKA_WORDS: Record<PublishingView["kafka"], string> = {
  up: "up: events are flowing",
  down: "down: events wait in the outbox and go out once it is back",
  unknown: "not known yet (nothing sent since the start)",
  disabled: "publishing is off (no KAFKA_BROKERS): events wait in the outbox",
};

/** A duration in seconds as people read it. */
export function age(seconds: number): string {
  if (seconds < 1) return "none";
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The publishing page. */
export function PublishingPage(props: {
  session: ConsoleSession;
  open: boolean;
  view: PublishingView;
  deadLetters: DeadLetterRow[];
  requeued?: number;
}) {
  const { view, deadLetters } = props;
  return (
    <Frame title="Publishing" section="publishing" session={props.session} open={props.open}>
      {props.requeued !== undefined && (
        <Notice kind="ok">
          {props.requeued === 1 ? "1 dead letter" : `${count(props.requeued)} dead letters`}{" "}
          re-queued: they are published again shortly.
        </Notice>
      )}
      <Facts
        items={[
          [
            "Kafka",
            <span key="kafka" class={`state ${view.kafka}`}>{KAFKA_WORDS[view.kafka]}</span>,
          ],
          ["Backlog", `${count(view.pending)} events pending`],
          ["Oldest pending", age(view.oldestPendingSeconds)],
          [
            "Publish rate",
            `${view.ratePerSecond.toFixed(1)} events/s (this instance, last minute)`,
          ],
          ["Dead letters", count(view.deadLetters)],
        ]}
      />
      <h2>Dead letters</h2>
      {deadLetters.length === 0
        ? <p>No dead letter: every stored event was published or is on its way.</p>
        : (
          <>
            <form method="post" action="/console/publishing/requeue" class="inline">
              <CsrfField session={props.session} />
              <input type="hidden" name="all" value="1" />
              <button type="submit">Re-queue all {count(view.deadLetters)}</button>
            </form>
            <div class="scroll" tabindex={0} role="region" aria-label="Dead letters">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Execution</th>
                    <th scope="col">Batch</th>
                    <th scope="col" class="num">Attempts</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Failed</th>
                    <th scope="col">
                      <span class="visually-hidden">Action</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {deadLetters.map((letter) => (
                    <tr>
                      <td>
                        <code>{letter.executionId}</code>
                      </td>
                      <td>
                        <a href={`/console/batches/${letter.batchId}`}>{letter.batchId}</a>
                      </td>
                      <td class="num">{letter.attempts}</td>
                      <td>{letter.lastError ?? ""}</td>
                      <td>{letter.failedAt ? <Instant at={letter.failedAt} /> : ""}</td>
                      <td>
                        <form method="post" action="/console/publishing/requeue">
                          <CsrfField session={props.session} />
                          <input type="hidden" name="id" value={letter.executionId} />
                          <button type="submit" aria-label={`Re-queue ${letter.executionId}`}>
                            Re-queue
                          </button>
                        </form>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {view.deadLetters > deadLetters.length && (
              <p class="hint">
                The {count(deadLetters.length)} oldest of {count(view.deadLetters)} are listed.
              </p>
            )}
          </>
        )}
    </Frame>
  );
}

/** What the publishing handlers need. */
export interface PublishingDeps {
  view(): Promise<PublishingView>;
  listDeadLetters(limit: number): Promise<DeadLetterRow[]>;
  requeue(ids?: readonly string[]): Promise<number>;
  open: boolean;
  /** Reads a form within the console's bounds (form_body.ts). */
  readForm(c: Context): Promise<FormFields>;
}

// Re-queue one dead letter (its execution id) or all of them.
const RequeueForm = z.union([
  z.object({ id: z.uuid() }),
  z.object({ all: z.literal("1") }),
]);

/** The handlers of GET /console/publishing and POST /console/publishing/requeue. */
export function createPublishingHandlers(deps: PublishingDeps) {
  return {
    async show(c: Context) {
      const requeued = c.req.query("requeued");
      const [view, deadLetters] = await Promise.all([
        deps.view(),
        deps.listDeadLetters(SHOWN_DEAD_LETTERS),
      ]);
      return c.html(
        <PublishingPage
          session={c.get("session")!}
          open={deps.open}
          view={view}
          deadLetters={deadLetters}
          requeued={requeued !== undefined && /^\d{1,9}$/.test(requeued)
            ? Number(requeued)
            : undefined}
        />,
      );
    },

    async requeue(c: Context) {
      const form = await deps.readForm(c);
      checkCsrf(c.get("session")!, form[CSRF_FIELD]);
      const parsed = RequeueForm.safeParse(form);
      if (!parsed.success) {
        throw new ApiError(
          400,
          ApiErrorCode.INVALID_BODY,
          "Cannot tell which dead letters to re-queue; use the buttons on the publishing page",
        );
      }
      const requeued = await deps.requeue("id" in parsed.data ? [parsed.data.id] : undefined);
      // Post, then redirect: reloading the page afterwards does not re-queue again.
      return c.redirect(`/console/publishing?requeued=${requeued}`, 303);
    },
  };
}
