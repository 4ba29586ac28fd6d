// What the store derives from the field registry agrees with the executions table that the
// migrations really build: every column, its type and its nullability; and a full round trip.
import assert from "node:assert/strict";
import { createDb } from "../../src/db/client.ts";
import {
  COLUMN_TYPES,
  EXECUTION_SELECT,
  INSERT_COLUMNS,
  OWNER_COLUMN,
} from "../../src/db/execution_columns.ts";
import { createExecutionStore } from "../../src/db/execution_store.ts";
import { migrate } from "../../src/db/migrate.ts";
import { EXECUTION_FIELDS, RECORD_FIELDS } from "../../src/domain/execution.ts";
import { DATABASE_URL, dropSchema, execution, recordOf, uniqueName } from "../_helpers.ts";

async function withMigratedSchema(test: (db: ReturnType<typeof createDb>) => Promise<void>) {
  const schema = uniqueName("t");
  const db = createDb({ url: DATABASE_URL, schema, poolMax: 2 });
  try {
    await db.sql`select 1`;
    await migrate(db.sql, schema);
    await test(db);
  } finally {
    await db.close();
    await dropSchema(schema);
  }
}

Deno.test("the registry names every column of the migrated executions table, with its type and nullability", async () => {
  await withMigratedSchema(async (db) => {
    const rows = await db.sql`
      select column_name, udt_name, is_nullable from information_schema.columns
      where table_schema = ${db.schema} and table_name = 'executions'
      order by ordinal_position`;
    const table = rows.map((row) => ({
      column: row.column_name as string,
      type: row.udt_name as string,
      nullable: row.is_nullable === "YES",
    }));
    const declared = [
      ...EXECUTION_FIELDS.map((field) => ({
        column: field.column,
        type: COLUMN_TYPES[field.kind],
        nullable: !field.required,
      })),
      { ...OWNER_COLUMN },
    ];
    const byColumn = (a: { column: string }, b: { column: string }) =>
      a.column.localeCompare(b.column);
    assert.deepEqual([...declared].sort(byColumn), [...table].sort(byColumn));
  });
});

Deno.test("the insert fills every client field's column, and the select list reads every field back", async () => {
  assert.deepEqual(INSERT_COLUMNS, RECORD_FIELDS.map((field) => field.column));
  await withMigratedSchema(async (db) => {
    const store = createExecutionStore(db);
    const record = recordOf({
      ...execution(7),
      startedAt: "2026-11-28T11:00:00.250+01:00",
      comment: 'quotes " and \\ backslashes, {braces}, commas',
      attributes: { nested: { list: [1, "two", null] }, "key with space": true },
    });
    const batchId = crypto.randomUUID();
    const uploadedBy = "0123456789abcdef";
    const inserted = await store.repository.insertChunk(batchId, [record], { uploadedBy });
    assert.deepEqual(inserted.skipped, []);
    const { uploadedBy: owner, ...read } = (await store.getExecution(record.id))!;
    assert.equal(owner, uploadedBy, "the sender's fingerprint is kept with the row");
    assert.deepEqual(read, { ...record, batchId, createdAt: inserted.createdAt });
    assert.deepEqual(Object.keys(read), EXECUTION_FIELDS.map((field) => field.name));
    const [row] = await db.sql`select ${db.sql.unsafe(EXECUTION_SELECT)} from executions`;
    assert.deepEqual(row, read);
  });
});
