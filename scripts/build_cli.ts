// Builds the submit CLI into one ES module that Node.js 18+ and Deno run with no install step:
// `deno bundle` (esbuild inside Deno) of src/cli/submit.ts and every package it imports.
//
//   deno run -A scripts/build_cli.ts [output]   (output defaults to dist/submit.mjs; `deno task build:cli`)
import { dirname, resolve } from "node:path";

const ROOT = new URL("../", import.meta.url);

/** The CLI's entry module. */
export const CLI_ENTRY = "src/cli/submit.ts";

/** Where `deno task build:cli` writes the bundle, and where the service reads it by default. */
export const DEFAULT_CLI_BUNDLE = "dist/submit.mjs";

/** A bundle that would not run on Node.js, or a failed build. */
export class CliBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliBuildError";
  }
}

/** The first use of the `Deno` namespace in bundled code (such as "Deno.readFile"), if any. */
export function denoNamespaceUse(code: string): string | undefined {
  return /\bDeno\.[A-Za-z]+/.exec(code)?.[0];
}

/**
 * Bundles the CLI into `output` (written beside it first and renamed over, so a service serving
 * the old file never serves half a new one) and returns its size in bytes. Refuses a bundle that
 * names the `Deno` namespace: Node.js has none, so the CLI's code must reach files, the
 * environment and the terminal through node: builtins (src/cli/runtime.ts).
 */
export async function buildCli(output: string): Promise<number> {
  const target = resolve(output);
  const temporary = `${target}.${crypto.randomUUID()}.tmp`;
  await Deno.mkdir(dirname(target), { recursive: true });
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--platform",
        "deno",
        "--format",
        "esm",
        "--minify",
        "-o",
        temporary,
        CLI_ENTRY,
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      throw new CliBuildError(`deno bundle failed:\n${new TextDecoder().decode(stderr)}`);
    }
    const bundle = await Deno.readTextFile(temporary);
    const denoUse = denoNamespaceUse(bundle);
    if (denoUse) {
      throw new CliBuildError(
        `The bundle uses ${denoUse}, which Node.js lacks: use a node: builtin ` +
          "(see src/cli/runtime.ts) in the CLI's code instead",
      );
    }
    const { version } = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
    const text = `// execution-ingest submit CLI ${version}: node submit.mjs --help\n${bundle}`;
    await Deno.writeTextFile(temporary, text);
    await Deno.rename(temporary, target);
    return new TextEncoder().encode(text).length;
  } finally {
    await Deno.remove(temporary).catch(() => {});
  }
}

if (import.meta.main) {
  const output = Deno.args[0] ?? DEFAULT_CLI_BUNDLE;
  try {
    const bytes = await buildCli(output);
    console.log(`Built ${output} (${(bytes / 1024).toFixed(0)} KiB)`);
  } catch (error) {
    if (!(error instanceof CliBuildError)) throw error;
    console.error(`error: ${error.message}`);
    Deno.exit(1);
  }
}
