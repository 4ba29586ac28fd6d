// The CLI's runtime seam: what it adds on Node.js 18 and how it knows it is the program being run.
import assert from "node:assert/strict";
import { fillRuntimeGaps, isMainModule } from "../../src/cli/runtime.ts";

Deno.test("without String.prototype.isWellFormed (Node.js 18), the CLI adds one that finds lone surrogates", () => {
  const native = Object.getOwnPropertyDescriptor(String.prototype, "isWellFormed")!;
  // deno-lint-ignore no-explicit-any
  delete (String.prototype as any).isWellFormed;
  try {
    fillRuntimeGaps();
    assert.equal("plain \u{1F600} text".isWellFormed(), true);
    assert.equal("lone \uD800 high".isWellFormed(), false);
    assert.equal("lone \uDC00 low".isWellFormed(), false);
    assert.equal("".isWellFormed(), true);
  } finally {
    Object.defineProperty(String.prototype, "isWellFormed", native);
  }
  fillRuntimeGaps();
  assert.equal(String.prototype.isWellFormed, native.value, "a native one is kept");
});

Deno.test("without import.meta.main (Node.js before 24), a module that is not the script run is not the entry", () => {
  // The other way round, the file run is the entry, is what every `node submit.mjs` in
  // bundle_test.ts and the CI snippets' tests relies on: Node.js 20 has no import.meta.main.
  const meta = (url: string) => ({ url, main: undefined }) as unknown as ImportMeta;
  assert.equal(isMainModule(meta(new URL("../../src/cli/submit.ts", import.meta.url).href)), false);
  assert.equal(isMainModule(meta("https://example.com/submit.mjs")), false);
  assert.equal(isMainModule({ ...import.meta, main: true }), true);
});
