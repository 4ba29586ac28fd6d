// The CLI's one seam to its runtime: node: builtins that Deno and Node.js (18 or later) both have,
// so one source runs as `deno run src/cli/submit.ts` and as the single-file `node submit.mjs`.
import { realpathSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** Writes text to standard output (synchronous for files and pipes on Linux, in both runtimes). */
export function writeStdout(text: string): void {
  process.stdout.write(text);
}

/** Writes text to standard error. */
export function writeStderr(text: string): void {
  process.stderr.write(text);
}

/** Whether standard error is a terminal (the progress line is then redrawn in place). */
export function stderrIsTerminal(): boolean {
  return process.stderr.isTTY === true;
}

/** The command line's arguments after the script. */
export function commandArgs(): string[] {
  return process.argv.slice(2);
}

/** The process's environment. */
export function environment(): Record<string, string | undefined> {
  return process.env;
}

/** The current working folder. */
export function workingFolder(): string {
  return process.cwd();
}

/** Ends the process with `code`. */
export function exitWith(code: number): never {
  return process.exit(code);
}

/**
 * Whether the module of `meta` is the program being run. Deno (and Node.js 24) say so in
 * `import.meta.main`; older Node.js is asked through the script path, resolved as it resolves
 * the module's own URL (on macOS /tmp is a link to /private/tmp).
 */
export function isMainModule(meta: ImportMeta): boolean {
  if (typeof meta.main === "boolean") return meta.main;
  const script = process.argv[1];
  if (!script || !meta.url.startsWith("file:")) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(meta.url));
  } catch {
    return false;
  }
}

/**
 * Adds what Node.js 18 lacks and the shared code uses: String.prototype.isWellFormed (ES2024,
 * Node.js 20), with which the execution rules refuse lone surrogates. Called once by the entry.
 */
export function fillRuntimeGaps(): void {
  if (typeof String.prototype.isWellFormed === "function") return;
  Object.defineProperty(String.prototype, "isWellFormed", {
    configurable: true,
    writable: true,
    // encodeURIComponent throws URIError on a lone surrogate and on nothing else.
    value: function isWellFormed(this: string): boolean {
      try {
        encodeURIComponent(this);
        return true;
      } catch {
        return false;
      }
    },
  });
}

/** Whether an error from node:fs says the path does not exist. */
export function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ENOENT";
}
