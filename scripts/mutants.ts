// The mutation check: applies each mutant of scripts/mutants.json (a small change that breaks one
// claim of the product) to a scratch copy of the repository, runs only the test files that claim
// the behaviour, and reports which mutants the tests catch and which survive.
//
//   deno task mutants [--list] [--keep] [--no-baseline] [--timeout=SECONDS] [ID...]
//
// Tests run against the PostgreSQL and Kafka of DATABASE_URL and KAFKA_BROKERS (as `./dev test`'s
// helpers read them). Exits 1 when a mutant survived, was stale (its search text is no longer in
// its file exactly once) or broke loading instead of failing a test; 2 when the unmutated tests
// already fail.

/** One mutant: where it goes, what it breaks, and which tests claim the behaviour. */
export interface Mutant {
  id: string;
  /** The claim the mutant breaks, in one line. */
  claim: string;
  /** The file it changes, relative to the repository. */
  file: string;
  /** Text that must occur exactly once in the file. */
  search: string;
  replace: string;
  /** Test files (relative to the repository) that must fail with the mutant in place. */
  tests: string[];
}

/** What became of a mutant. */
export type Outcome = "caught" | "caught (timeout)" | "survived" | "stale" | "error";

const ROOT = new URL("../", import.meta.url).pathname;
const decoder = new TextDecoder();

/** Reads the mutant list; every field is checked, so a typo fails before anything runs. */
export async function loadMutants(path = `${ROOT}scripts/mutants.json`): Promise<Mutant[]> {
  const list = JSON.parse(await Deno.readTextFile(path));
  if (!Array.isArray(list)) throw new Error(`${path}: must hold a JSON array of mutants`);
  const ids = new Set<string>();
  for (const [i, m] of list.entries()) {
    for (const field of ["id", "claim", "file", "search", "replace"]) {
      if (typeof m?.[field] !== "string") throw new Error(`${path}: mutant ${i} needs "${field}"`);
    }
    if (!Array.isArray(m.tests) || m.tests.length === 0) {
      throw new Error(`${path}: mutant "${m.id}" names no test file`);
    }
    if (ids.has(m.id)) throw new Error(`${path}: mutant id "${m.id}" is used twice`);
    ids.add(m.id);
  }
  return list;
}

/** Applies a mutant to a file's text; undefined when its search text is not there exactly once. */
export function mutate(text: string, mutant: Pick<Mutant, "search" | "replace">) {
  const at = text.indexOf(mutant.search);
  if (at < 0 || text.indexOf(mutant.search, at + 1) >= 0) return undefined;
  return text.slice(0, at) + mutant.replace + text.slice(at + mutant.search.length);
}

/** Copies the repository's tracked and unignored files (no .cache, no node_modules) to `dest`. */
async function copyRepository(dest: string): Promise<number> {
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  if (!listed.success) throw new Error("Cannot list the repository's files with git ls-files");
  const files = decoder.decode(listed.stdout).split("\0").filter((file) =>
    file && !file.startsWith(".cache/") && !file.split("/").includes("node_modules")
  );
  let copied = 0;
  for (const file of new Set(files)) {
    try {
      await Deno.mkdir(`${dest}/${file.split("/").slice(0, -1).join("/")}`, { recursive: true });
      await Deno.copyFile(`${ROOT}${file}`, `${dest}/${file}`);
      copied++;
    } catch (error) {
      // A file deleted in the work tree but still in the index is simply not copied.
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return copied;
}

/** Runs test files in the scratch copy (no type check: only a failing test may catch a mutant). */
async function runTests(dir: string, tests: string[], timeoutMs: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", "--no-check", ...tests],
    cwd: dir,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  return { code, timedOut, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

/** Caught only when a test failed; a run that failed without a failing test is an error. */
export function classify(run: { code: number; timedOut: boolean; output: string }): Outcome {
  if (run.timedOut) return "caught (timeout)";
  if (run.code === 0) return "survived";
  return /^FAILED \| \d+ passed.* \| [1-9]\d* failed/m.test(run.output) ? "caught" : "error";
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd())
    .join("\n");
}

async function main(args: string[]) {
  const flags = new Set(args.filter((arg) => arg.startsWith("--")));
  const timeoutFlag = args.find((arg) => arg.startsWith("--timeout="));
  const timeoutMs = 1000 * Number(timeoutFlag?.split("=")[1] ?? 600);
  const wanted = args.filter((arg) => !arg.startsWith("--"));
  const all = await loadMutants();
  const unknown = wanted.filter((id) => !all.some((m) => m.id === id));
  if (unknown.length > 0 || !(timeoutMs > 0)) {
    console.error(`Unknown mutant(s) ${unknown.join(", ")} or bad --timeout; see --list`);
    return 2;
  }
  const mutants = wanted.length ? all.filter((m) => wanted.includes(m.id)) : all;
  if (flags.has("--list")) {
    console.log(
      table([
        ["mutant", "file", "tests"],
        ...mutants.map((m) => [m.id, m.file, m.tests.join(" ")]),
      ]),
    );
    return 0;
  }

  const dir = await Deno.makeTempDir({ prefix: "mutants-" });
  try {
    const copied = await copyRepository(dir);
    console.error(`Copied ${copied} files to ${dir}`);
    if (!flags.has("--no-baseline")) {
      const tests = [...new Set(mutants.flatMap((m) => m.tests))];
      console.error(`Baseline: ${tests.length} test files without mutants...`);
      const run = await runTests(dir, tests, timeoutMs * 2);
      if (run.code !== 0 || run.timedOut) {
        console.error(run.output.split("\n").slice(-40).join("\n"));
        console.error("FAILED: the tests fail without any mutant; fix them first");
        return 2;
      }
    }
    const rows: string[][] = [["mutant", "result", "time", "claim"]];
    const counts = new Map<Outcome, number>();
    for (const mutant of mutants) {
      const path = `${dir}/${mutant.file}`;
      const original = await Deno.readTextFile(path).catch(() => "");
      const mutated = mutate(original, mutant);
      const began = performance.now();
      let outcome: Outcome = "stale";
      if (mutated !== undefined) {
        await Deno.writeTextFile(path, mutated);
        try {
          outcome = classify(await runTests(dir, mutant.tests, timeoutMs));
        } finally {
          await Deno.writeTextFile(path, original);
        }
      }
      const seconds = `${((performance.now() - began) / 1000).toFixed(1)} s`;
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
      console.error(`${mutant.id}: ${outcome} (${seconds})`);
      rows.push([mutant.id, outcome, seconds, mutant.claim]);
    }
    console.log(table(rows));
    const caught = (counts.get("caught") ?? 0) + (counts.get("caught (timeout)") ?? 0);
    const bad = mutants.length - caught;
    console.log(
      `${mutants.length} mutants: ${caught} caught, ${counts.get("survived") ?? 0} survived` +
        `, ${counts.get("stale") ?? 0} stale, ${counts.get("error") ?? 0} errors`,
    );
    return bad === 0 ? 0 : 1;
  } finally {
    if (flags.has("--keep")) console.error(`Kept ${dir}`);
    else await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
