// The embedded PostgreSQL serves postgres.js like a server, keeps its data and locks its folder.
import assert from "node:assert/strict";
import postgres from "postgres";
import { startEmbeddedPostgres } from "../../src/db/embedded_postgres.ts";

const ROWS = 1_000;
const FOLDER_IN_USE =
  /^Error: Cannot start embedded PostgreSQL in ".+": the folder is in use by another embedded PostgreSQL \(pid \d+\)$/;

// The socket server serves one connection, and all its connections share one session.
const connect = (url: string) => postgres(url, { max: 1, onnotice: () => {} });

Deno.test("the embedded PostgreSQL serves postgres.js, keeps its rows and locks its folder", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "embedded_postgres_test_" });
  let embedded = await startEmbeddedPostgres({ dataDir });
  let sql = connect(embedded.url);
  try {
    await t.step(
      "an unnest insert of 1,000 uuid, timestamptz and jsonb rows stores them as sent",
      async () => {
        // A pool's first query with an array parameter can fail (porsager/postgres#789).
        await sql`select 1`;
        await sql`
        create table runs (id uuid primary key, started_at timestamptz not null, body jsonb not null)`;
        const ids = Array.from({ length: ROWS }, () => crypto.randomUUID());
        const times = ids.map((_, i) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString());
        const bodies = ids.map((_, i) => JSON.stringify({ index: i, tags: ["a", "b"] }));
        // postgres.js encodes a parameter for the type the server infers: sent as jsonb[], each string
        // would be JSON-encoded again and stored as a JSON string, so the strings go in as text[].
        const inserted = await sql`
        insert into runs
        select * from unnest(${ids}::uuid[], ${times}::timestamptz[], ${bodies}::text[]::jsonb[])`;
        assert.equal(inserted.count, ROWS);
        const [last] = await sql`select started_at, body from runs where id = ${ids[ROWS - 1]}`;
        assert.equal(last.started_at.toISOString(), times[ROWS - 1]);
        assert.deepEqual(last.body, { index: ROWS - 1, tags: ["a", "b"] });
      },
    );

    await t.step("FOR UPDATE SKIP LOCKED claims rows inside a transaction", async () => {
      const claimed = await sql.begin((tx) =>
        tx`select id from runs order by started_at limit 10 for update skip locked`
      );
      assert.equal(claimed.length, 10);
    });

    await t.step(
      "five concurrent selects and a transaction complete on one connection",
      async () => {
        const results = await Promise.all([
          ...[1, 2, 3, 4, 5].map((n) => sql`select ${n}::int as n`),
          sql.begin(async (tx) => {
            await tx`update runs set body = body || '{"seen": true}' where body->>'index' = '0'`;
            return tx`select count(*)::int as n from runs where body ? 'seen'`;
          }),
        ]);
        assert.deepEqual(results.map(([row]) => row.n), [1, 2, 3, 4, 5, 1]);
      },
    );

    await t.step("a second start on the same folder fails while the first runs", async () => {
      await assert.rejects(startEmbeddedPostgres({ dataDir }), FOLDER_IN_USE);
    });

    await t.step(
      "the rows are still there after a stop and a new start on the folder",
      async () => {
        await sql.end();
        await embedded.stop();
        embedded = await startEmbeddedPostgres({ dataDir });
        sql = connect(embedded.url);
        const [counts] = await sql`
        select count(*)::int as rows, count(*) filter (where body ? 'seen')::int as seen from runs`;
        assert.deepEqual({ ...counts }, { rows: ROWS, seen: 1 });
      },
    );

    await t.step("a start that cannot listen names the folder and leaves it free", async () => {
      await sql.end();
      await embedded.stop();
      using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      await assert.rejects(
        startEmbeddedPostgres({ dataDir, port: taken.addr.port }),
        /^Error: Cannot start embedded PostgreSQL in ".+": .*EADDRINUSE/,
      );
      embedded = await startEmbeddedPostgres({ dataDir });
      sql = connect(embedded.url);
      assert.deepEqual([...await sql`select 1 as ok`], [{ ok: 1 }]);
    });
  } finally {
    await sql.end();
    await embedded.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
