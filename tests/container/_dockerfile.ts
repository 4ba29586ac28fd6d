// Reads the repository's Dockerfile the way the container tests need it: instructions with their
// continuation lines joined, the JSON (exec) form parsed, and the image's paths mapped to this machine.

/** The repository root (where the Dockerfile and compose.yaml are). */
export const ROOT = new URL("../../", import.meta.url);

/** One instruction: its keyword (upper case) and the rest of its text, continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions, comments and blank lines left out. */
export function instructions(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, " ");
  return joined.split("\n").filter((line) => line.trim() && !line.trimStart().startsWith("#"))
    .map((line) => {
      const [, keyword, args] = line.trim().match(/^(\S+)\s*(.*)$/)!;
      return { keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, " ").trim() };
    });
}

/** The Dockerfile of the repository, read. */
export function readDockerfile(): Promise<string> {
  return Deno.readTextFile(new URL("Dockerfile", ROOT));
}

/** The only instruction with `keyword`; throws when there is none or several. */
export function only(all: Instruction[], keyword: string): Instruction {
  const found = all.filter((i) => i.keyword === keyword);
  if (found.length !== 1) throw new Error(`expected one ${keyword}, found ${found.length}`);
  return found[0];
}

/** The JSON array of an exec-form instruction (CMD, or HEALTHCHECK after its --flags and CMD). */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf("["));
  const parsed = JSON.parse(json);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === "string")) {
    throw new Error(`not an exec form: ${args}`);
  }
  return parsed;
}

/** The variables an ENV instruction sets (`ENV A=1 B=2`). */
export function envOf(all: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of all.filter((i) => i.keyword === "ENV")) {
    for (const pair of args.split(" ")) {
      const [key, value] = pair.split("=");
      env[key] = value;
    }
  }
  return env;
}

/** The arguments of the image's `deno remove` step (after `deno`). */
export function denoRemove(all: Instruction[]): string[] {
  const run = all.find((i) => i.keyword === "RUN" && i.args.startsWith("deno remove"));
  if (!run) throw new Error("the Dockerfile has no RUN deno remove");
  return run.args.split("&&")[0].trim().split(" ").slice(1);
}

/** The packages the image's `deno remove` drops (the test-only ones). */
export function removedPackages(all: Instruction[]): string[] {
  return denoRemove(all).slice(1).filter((word) => !word.startsWith("--"));
}
