// The import rules of src/ (arrows point inward): fails when domain/ imports http/, db/, publish/
// or metrics/, or when metrics/ imports publish/. Run by `deno task ok` and by a test.
//
//   deno run --allow-read scripts/check_imports.ts [root]   (root defaults to this repository's src/)

/** One rule: files under `from` may not import files under any of `forbidden` (folders of src/). */
export interface ImportRule {
  from: string;
  forbidden: readonly string[];
  /** Why, as the message says it. */
  reason: string;
}

/** The rules of this project, from STYLE.md's layout. */
export const IMPORT_RULES: readonly ImportRule[] = [
  {
    from: "domain",
    forbidden: ["http", "db", "publish", "metrics"],
    reason: "the core never imports the outside",
  },
  {
    from: "metrics",
    forbidden: ["publish"],
    reason: "publishing reports to metrics through a port (PublishObserver), not the other way",
  },
];

/** An import that breaks a rule. */
export interface Violation {
  file: string;
  line: number;
  target: string;
  rule: ImportRule;
}

// Static imports and re-exports (`… from "x"`, also over several lines), side-effect imports and
// dynamic imports with a literal specifier.
const SPECIFIER =
  /\b(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']|\bimport\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

/** The relative specifiers a module imports, with the line each starts on; comments are skipped. */
export function importsOf(source: string): Array<{ specifier: string; line: number }> {
  // Blank out comments (keeping line breaks), so an example in a comment is not an import.
  const code = source.replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, (c) => c.replace(/[^\n]/g, " "));
  const found: Array<{ specifier: string; line: number }> = [];
  for (const match of code.matchAll(SPECIFIER)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (!specifier.startsWith(".")) continue;
    const line = code.slice(0, match.index! + match[0].indexOf(specifier)).split("\n").length;
    found.push({ specifier, line });
  }
  return found;
}

/** Checks every .ts and .tsx file under `root` (src/); returns the files checked and the violations. */
export async function checkImports(root: URL): Promise<{ files: number; violations: Violation[] }> {
  const violations: Violation[] = [];
  let files = 0;
  for await (const path of walk(root)) {
    files++;
    const file = path.href.slice(root.href.length);
    const rules = IMPORT_RULES.filter((rule) => file.startsWith(`${rule.from}/`));
    if (rules.length === 0) continue;
    for (const { specifier, line } of importsOf(await Deno.readTextFile(path))) {
      const target = new URL(specifier, path).href;
      if (!target.startsWith(root.href)) continue;
      const inside = target.slice(root.href.length);
      for (const rule of rules) {
        if (rule.forbidden.some((folder) => inside.startsWith(`${folder}/`))) {
          violations.push({ file, line, target: inside, rule });
        }
      }
    }
  }
  return { files, violations };
}

async function* walk(dir: URL): AsyncGenerator<URL> {
  const entries = [];
  for await (const entry of Deno.readDir(dir)) entries.push(entry);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.isDirectory) yield* walk(new URL(`${entry.name}/`, dir));
    else if (/\.tsx?$/.test(entry.name)) yield new URL(entry.name, dir);
  }
}

/** The report printed by the command: one line per violation, then a summary. */
export function report(result: { files: number; violations: Violation[] }): string {
  const lines = result.violations.map(({ file, line, target, rule }) =>
    `src/${file}:${line} imports src/${target}: ${rule.from}/ must not import ` +
    `${target.split("/")[0]}/ (${rule.reason})`
  );
  const rules = IMPORT_RULES.map((rule) =>
    `${rule.from}/ imports none of ${rule.forbidden.map((f) => `${f}/`).join(", ")}`
  ).join("; ");
  lines.push(
    result.violations.length === 0
      ? `Import rules hold in ${result.files} files of src/: ${rules}.`
      : `Import rules broken: ${result.violations.length} import(s) in ${result.files} files of src/.`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const root = Deno.args[0]
    ? new URL(`${Deno.realPathSync(Deno.args[0])}/`, "file://")
    : new URL("../src/", import.meta.url);
  const result = await checkImports(root);
  console.log(report(result));
  if (result.violations.length > 0) Deno.exit(1);
}
