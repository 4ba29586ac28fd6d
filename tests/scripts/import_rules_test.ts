// The import-rule check (scripts/check_imports.ts): src/ keeps its arrows, and every way of
// importing across a forbidden arrow is caught, with the file and line, while comments are not.
import assert from "node:assert/strict";
import { checkImports, report } from "../../scripts/check_imports.ts";

const SCRIPT = new URL("../../scripts/check_imports.ts", import.meta.url).pathname;

Deno.test("src/ keeps its import rules: domain/ imports no adapter, metrics/ no publish/", async () => {
  const result = await checkImports(new URL("../../src/", import.meta.url));
  assert.deepEqual(result.violations, [], report(result));
  assert.ok(result.files > 50, `${result.files} files checked`);
  assert.match(report(result), /^Import rules hold in \d+ files of src\//);
});

/** A small src/ tree in a temporary folder: path → source. */
async function fixture(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "import_rules_" });
  for (const [path, source] of Object.entries(files)) {
    await Deno.mkdir(`${root}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${root}/${path}`, source);
  }
  return root;
}

Deno.test("every kind of import across a forbidden arrow is reported with its file and line, and the command exits 1", async () => {
  const root = await fixture({
    "domain/static.ts": 'import { z } from "zod";\nimport { ApiError } from "../http/errors.ts";\n',
    "domain/reexport.ts": 'export { createDb } from "../db/client.ts";\n',
    "domain/dynamic.ts": 'const m = await import("../publish/relay.ts");\n',
    "domain/multiline.ts": 'import {\n  a,\n  b,\n} from "../metrics/metrics.ts";\n',
    "domain/type_only.ts": 'import type { Db } from "../db/client.ts";\n',
    "domain/fine.ts": '// import { x } from "../http/errors.ts";\n/* import "../db/a.ts" */\n' +
      'import { ok } from "./static.ts";\nimport { toRecord } from "../domain/validate.ts";\n',
    "metrics/metrics.ts": 'import type { PublishObserver } from "../publish/publisher.ts";\n',
    "http/errors.ts": 'import { ItemErrorCode } from "../domain/errors.ts";\n',
    "publish/relay.ts": 'import { createMetrics } from "../metrics/metrics.ts";\n',
  });
  try {
    const result = await checkImports(new URL(`file://${root}/`));
    assert.deepEqual(
      result.violations.map(({ file, line, target }) => `${file}:${line} -> ${target}`),
      [
        "domain/dynamic.ts:1 -> publish/relay.ts",
        "domain/multiline.ts:4 -> metrics/metrics.ts",
        "domain/reexport.ts:1 -> db/client.ts",
        "domain/static.ts:2 -> http/errors.ts",
        "domain/type_only.ts:1 -> db/client.ts",
        "metrics/metrics.ts:1 -> publish/publisher.ts",
      ],
    );
    const command = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", SCRIPT, root],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(command.stdout);
    assert.equal(command.code, 1, output);
    assert.match(
      output,
      /^src\/domain\/static\.ts:2 imports src\/http\/errors\.ts: domain\/ must not import http\//m,
    );
    assert.match(output, /^Import rules broken: 6 import\(s\) in 9 files of src\/\.$/m);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
