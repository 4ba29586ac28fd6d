// The end-of-run check of the load test: every execution stored in PostgreSQL reached the topic.
import type { Sql } from "postgres";
import { testKafka, uniqueName } from "../tests/_helpers.ts";

/** What the check found. */
export interface TopicCheck {
  storedInDb: number;
  messages: number;
  distinctIdsOnTopic: number;
  missingFromTopic: number;
  onTopicNotInDb: number;
  duplicateMessages: number;
  ok: boolean;
}

/** Reads every ce_id header on the topic until `expected` distinct ids were seen or time is up. */
async function consumeIds(topic: string, expected: number, timeoutMs: number) {
  const consumer = testKafka().consumer({
    groupId: uniqueName("load_check"),
    maxWaitTimeInMs: 200,
    maxBytes: 64 * 1024 * 1024,
    maxBytesPerPartition: 16 * 1024 * 1024,
  });
  const ids = new Set<string>();
  let messages = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => done = resolve);
  const timer = setTimeout(() => done(), timeoutMs);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: ({ batch }) => {
        for (const message of batch.messages) {
          messages++;
          const id = message.headers?.ce_id;
          if (id !== undefined) ids.add(String(id));
        }
        if (ids.size >= expected) done();
        return Promise.resolve();
      },
    });
    await finished;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
  }
  return { ids, messages };
}

/**
 * Reads the whole topic (the ce_id header of each message) and compares it id by id with the
 * executions table of the schema `sql` points at.
 */
export async function checkTopic(sql: Sql, topic: string): Promise<TopicCheck> {
  const [{ n }] = await sql<Array<{ n: number }>>`select count(*)::int as n from executions`;
  const consumed = await consumeIds(topic, n, 120_000 + n / 5);
  let missing = 0;
  for await (const rows of sql`select id::text as id from executions`.cursor(10_000)) {
    for (const { id } of rows) {
      if (!consumed.ids.delete(id)) missing++;
    }
  }
  const distinct = n - missing + consumed.ids.size;
  return {
    storedInDb: n,
    messages: consumed.messages,
    distinctIdsOnTopic: distinct,
    missingFromTopic: missing,
    onTopicNotInDb: consumed.ids.size,
    duplicateMessages: consumed.messages - distinct,
    ok: missing === 0 && consumed.ids.size === 0,
  };
}
