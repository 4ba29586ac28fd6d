// Deletes batches (and their failed items) older than the retention, in small steps, on a timer.
import type { Logger } from "../domain/ports.ts";
import type { Db } from "./client.ts";

/** Options of createBatchRetention. */
export interface BatchRetentionOptions {
  /** Batches completed more than this many days ago are deleted; 0 keeps them forever. */
  days: number;
  /** Batches deleted per statement, so no sweep holds locks or builds a large transaction. @default 500 */
  step?: number;
  /** Milliseconds between sweeps. @default 3600000 */
  everyMs?: number;
  /**
   * Milliseconds from start to the first sweep: not at once, so that a start (or many instances
   * restarting together) adds no delete to its first seconds and no second connection to the pool.
   * @default 60000
   */
  firstAfterMs?: number;
  logger: Logger;
}

/** Creates the sweeper; `start` schedules it, `stop` cancels it and waits for a sweep under way. */
export function createBatchRetention(db: Db, options: BatchRetentionOptions) {
  const step = options.step ?? 500;
  const everyMs = options.everyMs ?? 3_600_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<number> | undefined;
  let stopped = false;

  /** Deletes every batch past the retention, `step` at a time; returns how many went. */
  async function sweep(): Promise<number> {
    if (options.days <= 0) return 0;
    let deleted = 0;
    while (!stopped) {
      const count = await db.run(async (sql) => {
        const [row] = await sql`
          with old as (
            select id from batches
            where completed_at < now() - ${options.days} * interval '1 day'
            order by completed_at
            limit ${step}
          ), failures as (
            delete from batch_failures f using old where f.batch_id = old.id
          ), gone as (
            delete from batches b using old where b.id = old.id returning 1
          )
          select count(*)::int as count from gone`;
        return row.count as number;
      });
      deleted += count;
      if (count < step) break;
    }
    return deleted;
  }

  function schedule(delayMs: number) {
    if (stopped) return;
    timer = setTimeout(async () => {
      running = sweep();
      try {
        const deleted = await running;
        if (deleted > 0) {
          options.logger.info({ deleted, days: options.days }, "Deleted batches past retention");
        }
      } catch (error) {
        // The next sweep tries again; nothing is lost by waiting.
        options.logger.warn(
          { errorClass: (error as Error)?.name ?? "Error", error: (error as Error)?.message },
          "Cannot delete batches past retention now; trying again later",
        );
      } finally {
        running = undefined;
      }
      schedule(everyMs);
    }, delayMs);
    // The sweep never keeps the process alive on its own.
    Deno.unrefTimer(timer as unknown as number);
  }

  return {
    sweep,
    start() {
      if (options.days > 0) schedule(options.firstAfterMs ?? 60_000);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
}
