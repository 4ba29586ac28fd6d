// Array literals built by hand read back in PostgreSQL exactly as the values that went in.
import assert from "node:assert/strict";
import postgres from "postgres";
import { plainArray, textArray } from "../../src/db/pg_array.ts";
import { DATABASE_URL } from "../_helpers.ts";

Deno.test("text array literals round-trip quotes, backslashes, braces, commas, NULL-like words and unicode", async () => {
  const values = [
    "plain",
    "",
    'say "hi"',
    "back\\slash\\\\",
    "{braces}, and, commas",
    "NULL",
    null,
    "  spaces  ",
    "tab\tand\nnewline",
    "ünïcødé 🚀",
    '\\"',
    '{"json": ["a", 1, null]}',
  ];
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    // Read back as JSON: postgres.js itself parses a NULL element of text[] as the word "NULL".
    const [row] = await sql`select array_to_json(${textArray(values)}::text[]) as out`;
    assert.deepEqual(row.out, values);
    const [json] = await sql`
      select array_to_json(${textArray(['{"a":"x\\"y"}', null])}::text[]::jsonb[]) as out`;
    assert.deepEqual(json.out, [{ a: 'x"y' }, null]);
  } finally {
    await sql.end();
  }
});

Deno.test("plain array literals carry uuids, timestamps, integers and NULL", async () => {
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`
      select
        array_to_json(${plainArray(["0195f0e2-0000-7000-8000-000000000001", null])}::uuid[]) as ids,
        array_to_json(array(
          select to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS')
          from unnest(${plainArray(["2026-11-28T10:00:00.000Z", null])}::timestamptz[]) as t
        )) as times,
        array_to_json(${plainArray([0, 2147483647, null])}::int4[]) as ints`;
    assert.deepEqual(row.ids, ["0195f0e2-0000-7000-8000-000000000001", null]);
    assert.deepEqual(row.times, ["2026-11-28T10:00:00.000", null]);
    assert.deepEqual(row.ints, [0, 2147483647, null]);
  } finally {
    await sql.end();
  }
});
