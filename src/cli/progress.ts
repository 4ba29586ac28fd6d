// The progress line on stderr: redrawn in place on a terminal, one line per batch anywhere else.
import { stderrIsTerminal, writeStderr } from "./runtime.ts";
import type { SubmitProgress } from "./submit_batches.ts";

const BAR_WIDTH = 10;
const numbers = new Intl.NumberFormat("en-US");

/** A count with thousands separators: 10000 → "10,000". */
export function formatCount(value: number): string {
  return numbers.format(Math.round(value));
}

/** `[#####.....] 3,000/10,000 items · 2 batches · 4,210 items/s` */
export function formatProgress(progress: SubmitProgress, elapsedMs: number): string {
  const { sent, total, batches } = progress;
  const filled = total === 0 ? BAR_WIDTH : Math.floor((sent / total) * BAR_WIDTH);
  const bar = "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled);
  const rate = elapsedMs > 0 ? (sent * 1000) / elapsedMs : 0;
  return `[${bar}] ${formatCount(sent)}/${formatCount(total)} items · ${formatCount(batches)} ${
    batches === 1 ? "batch" : "batches"
  } · ${formatCount(rate)} items/s`;
}

/** Where and how the progress is shown. */
export interface ProgressOptions {
  /** Writes text as is. @default to stderr */
  write?: (text: string) => void;
  /** Redraw one line with \r instead of printing a line per batch. @default stderr is a terminal */
  tty?: boolean;
  /** Milliseconds, for the rate. @default performance.now */
  now?: () => number;
}

/** Creates the progress display; `update` after each batch, `note` for a line between them, `end` once. */
export function createProgress(options: ProgressOptions = {}) {
  const write = options.write ?? writeStderr;
  const tty = options.tty ?? stderrIsTerminal();
  const now = options.now ?? (() => performance.now());
  const began = now();
  let drawn = "";

  return {
    update(progress: SubmitProgress) {
      const line = formatProgress(progress, now() - began);
      if (tty) {
        // \x1b[K clears what a longer earlier line left to the right.
        write(`\r${line}\x1b[K`);
        drawn = line;
      } else {
        write(`${line}\n`);
      }
    },
    /**
     * A message of its own line (a retry, a warning), keeping the bar below it on a terminal;
     * `to` writes it elsewhere (stdout) while the bar is cleared and redrawn. @default `write`
     */
    note(message: string, to: (text: string) => void = write) {
      if (tty && drawn && to === write) {
        write(`\r\x1b[K${message}\n${drawn}`);
      } else if (tty && drawn) {
        write("\r\x1b[K");
        to(`${message}\n`);
        write(drawn);
      } else {
        to(`${message}\n`);
      }
    },
    end() {
      if (tty && drawn) write("\n");
      drawn = "";
    },
  };
}
