// The memory tier (issue 21): each hostile case against the real service as its own process, with the
// start task's V8 flags, the real PostgreSQL and a real (or unreachable) broker. Prints a Markdown
// table: the answer, whether the process lived, its peak RSS, and the bytes case 6 added.
//   ./dev memory [--case NAME]... [--batches 12] [--watch-seconds 30] [--backlog 50000] [--soak-minutes 0]
import { parseArgs } from "node:util";
import { type CaseRow, hostileCases } from "./memory_cases.ts";
import { outageCases } from "./memory_outage.ts";
import { mb } from "./memory_probe.ts";
import { START_V8_FLAGS } from "./service_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    case: { type: "string", multiple: true },
    batches: { type: "string", default: "12" },
    "watch-seconds": { type: "string", default: "30" },
    backlog: { type: "string", default: "50000" },
    "soak-minutes": { type: "string", default: "0" },
  },
});
const wanted = new Set(values.case ?? []);
const picked = (...names: string[]) => wanted.size === 0 || names.some((name) => wanted.has(name));
const log = (line: string) => console.error(line);

const jobs: Array<() => Promise<CaseRow[]>> = [];
for (const each of hostileCases()) {
  // "--case 1" runs 1a, 1b and 1c.
  if (picked(each.name, each.name.replace(/[a-z]$/, ""))) {
    jobs.push(async () => [{
      name: each.name,
      input: each.input,
      expect: each.expect,
      ...await each.run(),
    }]);
  }
}
const outage = outageCases({
  batches: Number(values.batches),
  watchSeconds: Number(values["watch-seconds"]),
  backlog: Number(values.backlog),
  soakMinutes: Number(values["soak-minutes"]),
  log,
});
for (const each of outage) if (picked(...each.names)) jobs.push(each.run);

const rows: CaseRow[] = [];
let unrun = 0;
for (const job of jobs) {
  try {
    for (const row of await job()) {
      rows.push(row);
      log(
        `memory: ${row.name} ${row.answer}; survived ${row.survived}; peak ${mb(row.peakBytes)} MB`,
      );
    }
  } catch (error) {
    unrun++;
    log(`memory: a case could not run: ${error instanceof Error ? error.message : error}`);
  }
}

const cell = (text: string) => text.replaceAll("|", "\\|");
/**
 * Issue 21's targets: the process lives, peaks at 400 MB or less, never answers 500, answers as
 * the issue expects where it says how, and stores no more failure bytes than the case allows.
 */
const PEAK_TARGET_BYTES = 400e6;
const meets = (row: CaseRow) =>
  row.survived && row.peakBytes <= PEAK_TARGET_BYTES && !/\b500\b|no answer/.test(row.answer) &&
  (row.expect?.test(row.answer) ?? true) && (row.bytesAdded ?? 0) <= (row.bytesLimit ?? Infinity);

console.log(
  `Service flags: ${START_V8_FLAGS.join(" ") || "(none)"}; ${new Date().toISOString()}\n`,
);
console.log(
  "| case | input | answer | expected | survived | peak RSS MB | bytes added | target met | note |",
);
console.log("|---|---|---|---|---|---:|---:|---|---|");
for (const row of rows) {
  console.log(
    `| ${row.name} | ${cell(row.input)} | ${cell(row.answer)} | ${
      row.expect ? `\`${cell(row.expect.source)}\`` : ""
    } | ${row.survived ? "yes" : "**no**"} | ${mb(row.peakBytes)} | ${
      row.bytesAdded === undefined ? "" : row.bytesAdded.toLocaleString("en")
    } | ${meets(row) ? "yes" : "**no**"} | ${cell(row.note)} |`,
  );
}
for (const row of rows.filter((row) => row.series)) {
  console.log(`\nCase ${row.name}, RSS over time:\n\n${row.series!.join("\n")}`);
}
// Exit 1 when a case misses a target or could not run, so the tier can gate a change.
if (unrun > 0 || !rows.every(meets)) Deno.exitCode = 1;
