// Publishing's fakes: an outbox and a producer that record every call, and stored executions and
// claimed chunks to feed them.
import { PublishError, type PublishFailureKind } from "../../src/domain/errors.ts";
import { EXECUTION_FIELDS, type StoredExecution } from "../../src/domain/execution.ts";
import type {
  ChunkRelease,
  ChunkSettlement,
  ClaimedChunk,
  EventMessage,
  EventProducer,
  OutboxPort,
} from "../../src/domain/ports.ts";

// Every optional field of the registry, absent: a new optional field needs no change here.
const ABSENT = Object.fromEntries(
  EXECUTION_FIELDS.filter((field) => !field.required).map((field) => [field.name, null]),
);

/** A stored execution whose id ends in `i`; its optional fields are null. */
export function stored(
  i: number,
  batchId = "00000000-0000-4000-8000-000000000000",
): StoredExecution {
  return {
    ...ABSENT,
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    batchId,
    testCaseKey: `TC-${i}`,
    status: "PASSED",
    startedAt: "2026-11-28T10:00:00.000Z",
    createdAt: new Date().toISOString(),
  } as StoredExecution;
}

/** A claimed chunk holding stored(i) for each i, of `bytes` estimated bytes (1000 per event). */
export function chunk(id: string, is: number[], bytes = is.length * 1000): ClaimedChunk {
  return {
    id,
    executions: is.map((i) => stored(i)),
    unreadable: [],
    storedAtMs: Date.now(),
    bytes,
  };
}

/** An outbox in memory: due chunks to hand out, and every settle, release and renewal it got. */
export function fakeOutbox(due: ClaimedChunk[] = []) {
  const calls = {
    claims: [] as Array<{ maxEvents: number; held: string[]; maxBytes: number }>,
    settled: [] as ChunkSettlement[],
    released: [] as Array<ChunkRelease & { delayMs: number }>,
    renewed: [] as string[][],
  };
  const queue = [...due];
  const outbox: OutboxPort = {
    claimDue(maxEvents, _leaseMs, held, maxBytes = Infinity) {
      calls.claims.push({ maxEvents, held: [...held], maxBytes });
      const taken: ClaimedChunk[] = [];
      let events = 0, bytes = 0;
      while (queue.length > 0 && events < maxEvents) {
        const next = queue[0];
        if (taken.length > 0 && bytes + next.bytes > maxBytes) break;
        queue.shift();
        if (held.includes(next.id)) continue;
        taken.push(next);
        events += next.executions.length + next.unreadable.length;
        bytes += next.bytes;
      }
      return Promise.resolve(taken);
    },
    renewLeases(ids) {
      calls.renewed.push([...ids]);
      return Promise.resolve();
    },
    settle(chunks) {
      calls.settled.push(...chunks);
      return Promise.resolve();
    },
    release(chunks, delayMs) {
      calls.released.push(...chunks.map((c) => ({ ...c, delayMs })));
      return Promise.resolve();
    },
  };
  return {
    outbox,
    calls,
    /** Adds chunks that come due. */
    add: (...chunks: ClaimedChunk[]) => void queue.push(...chunks),
  };
}

/**
 * A producer that records every send (the ce_id of each message) and fails the way `fail` says:
 * a kind for the whole send, or nothing.
 */
export function fakeProducer(
  fail: (messages: readonly EventMessage[]) => PublishFailureKind | undefined = () => undefined,
) {
  const sends: string[][] = [];
  const acknowledged: string[] = [];
  let closed = false;
  const producer: EventProducer = {
    send(messages) {
      const ids = messages.map((message) => message.headers.ce_id);
      sends.push(ids);
      if (closed) return Promise.reject(new PublishError("closed", "the producer is closed"));
      const kind = fail(messages);
      if (kind) return Promise.reject(new PublishError(kind, `injected: ${kind}`));
      acknowledged.push(...ids);
      return Promise.resolve();
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
  return {
    producer,
    sends,
    acknowledged,
    get closed() {
      return closed;
    },
  };
}

/** The message of a stored execution, as the service builds it (ce_id is what the fakes read). */
export function encode(execution: StoredExecution): EventMessage {
  return {
    key: execution.testCaseKey,
    value: JSON.stringify(execution),
    headers: { ce_id: execution.id, ce_time: execution.createdAt },
  };
}
