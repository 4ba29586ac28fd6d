// docs/threat-model.md stays backed by tests: every test a row names exists under that name.
import assert from "node:assert/strict";

const DOC = await Deno.readTextFile(new URL("../docs/threat-model.md", import.meta.url));

Deno.test("every test the threat model names exists in the file it names, under that name", async () => {
  const rows = DOC.split("\n").filter((line) => /^\|\s*\d+\s*\|/.test(line));
  assert.ok(rows.length >= 14, `the table has its rows (${rows.length})`);
  let cited = 0;
  for (const row of rows) {
    const citations = [...row.matchAll(/`(tests\/[^`]+\.ts)`: "([^"]+)"/g)];
    assert.ok(citations.length > 0, `a row names at least one test: ${row.slice(0, 80)}`);
    for (const [, file, name] of citations) {
      const source = await Deno.readTextFile(new URL(`../${file}`, import.meta.url));
      assert.ok(source.includes(`"${name}"`), `${file} has a test named "${name}"`);
      cited++;
    }
  }
  assert.ok(cited >= rows.length);
});
