// Publisher loops: take chunks from the channel, send their events through the resilience policy,
// settle the outbox one chunk at a time; chunks held in memory keep their lease.
import { CircuitState } from "cockatiel";
import { PublishError } from "../domain/errors.ts";
import type { StoredExecution } from "../domain/execution.ts";
import type {
  ClaimedChunk,
  DeadLetterInput,
  EventMessage,
  EventProducer,
  Logger,
  OutboxChunk,
  OutboxPort,
  PublishObserver,
} from "../domain/ports.ts";
import type { Channel } from "./channel.ts";
import {
  createResilience,
  type Resilience,
  type ResilienceSettings,
  sameResilience,
} from "./resilience.ts";

/** Publisher settings; read again for every batch, so a reload takes effect at once. */
export interface PublisherSettings {
  /** Parallel publisher loops. @default 4 */
  concurrency: number;
  /** Most events per send. @default 1000 */
  batchMax: number;
  /**
   * Most estimated bytes a loop takes from the channel at once (one chunk at least, whatever its
   * size): with `concurrency`, it bounds the events being encoded and sent. Below the broker's
   * `message.max.bytes` (1 MiB by default): a send's messages for one partition travel as one
   * record batch, and one refused as too large fails the send while the other partitions' batches
   * are written, so the retry would write those twice. @default 786432
   */
  batchMaxBytes: number;
  resilience: ResilienceSettings;
  /** Lease of a chunk held in memory, in milliseconds; renewed every third of it. @default 10000 */
  leaseMs: number;
}

/** A chunk in the publisher's hands: the events still to send and those given up on meanwhile. */
export interface HeldChunk {
  id: string;
  /** When it was stored, on this process's clock. */
  storedAtMs: number;
  events: StoredExecution[];
  /** The estimated size of `events`, in bytes. */
  bytes: number;
  dead: DeadLetterInput[];
  /** True while none of the chunk's events has been acknowledged or set aside. */
  whole: boolean;
}

/** What createPublisher needs. */
export interface PublisherDeps {
  channel: Channel<HeldChunk>;
  producer: EventProducer;
  outbox: OutboxPort;
  logger: Logger;
  settings: () => PublisherSettings;
  /** Turns a stored execution into its message; may throw for an event that cannot be encoded. */
  encode: (execution: StoredExecution) => EventMessage;
  observer?: PublishObserver;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** Called when chunks leave the channel for good, so the relay can fill the room. */
  onRoom?: () => void;
}

/** A short class name for logs: never the message of a client error, which may quote a payload. */
export function errorClass(error: unknown): string {
  if (error instanceof PublishError) return `PublishError:${error.kind}`;
  const e = error as { name?: string } | undefined;
  return e?.name ?? "Error";
}

/** Any failure as a PublishError (adapters throw nothing else; this keeps a stray error classified). */
function asPublishError(error: unknown): PublishError {
  if (error instanceof PublishError) return error;
  return new PublishError("unavailable", `Cannot send to Kafka: ${errorClass(error)}`, {
    cause: error,
  });
}

interface Entry {
  chunk: HeldChunk;
  event: StoredExecution;
  message: EventMessage;
}

/** A claimed outbox chunk as the publisher holds it. */
export function heldChunk(chunk: ClaimedChunk): HeldChunk {
  const unreadable = chunk.unreadable;
  return {
    id: chunk.id,
    storedAtMs: chunk.storedAtMs,
    events: chunk.executions,
    bytes: chunk.bytes,
    dead: unreadable.map((u) => ({
      executionId: u.id,
      batchId: u.batchId,
      attempts: 0,
      reason: u.reason,
    })),
    whole: unreadable.length === 0,
  };
}

/** Creates the publisher; call start() to run its loops. */
export function createPublisher(deps: PublisherDeps) {
  const { channel, producer, outbox, logger } = deps;
  const now = deps.now ?? Date.now;
  const loops = new Set<Promise<void>>();
  const inFlight = new Set<HeldChunk>();
  let wanted = 0;
  let running = 0;
  let stopping = false;
  let probing = false;
  let openedAt = 0;
  let everSent = false;
  let resilience: Resilience | undefined;
  let keeper: ReturnType<typeof setTimeout> | undefined;
  // Wakes loops that wait for the breaker, on any change of its state or on stop.
  let wakeAll: () => void = () => {};
  let changed = new Promise<void>((resolve) => wakeAll = resolve);
  function notify() {
    wakeAll();
    changed = new Promise<void>((resolve) => wakeAll = resolve);
  }

  /** The long-lived policy; rebuilt only when its settings change (a reload). */
  function policy(): Resilience {
    const wantedSettings = deps.settings().resilience;
    if (resilience && sameResilience(resilience.settings, wantedSettings)) return resilience;
    const next = createResilience(wantedSettings);
    next.retry.onRetry((event) => {
      deps.observer?.retried(1);
      logger.warn({
        attempt: event.attempt,
        delayMs: event.delay,
        errorClass: "error" in event ? errorClass(event.error) : "unknown",
        problem: "error" in event ? (event.error as Error).message : undefined,
      }, "Kafka send failed; retrying");
    });
    next.breaker.onBreak(() => {
      openedAt = now();
      logger.error(
        { pauseMs: wantedSettings.breaker.halfOpenAfterMs },
        "Kafka is unavailable; publishing pauses and events wait in the outbox",
      );
      notify();
    });
    next.breaker.onHalfOpen(() => notify());
    next.breaker.onReset(() => {
      logger.info({}, "Kafka is reachable again; publishing resumes");
      notify();
    });
    resilience = next;
    notify();
    return next;
  }

  /** Waits while the breaker is open; when its pause is over, lets exactly one loop probe. */
  async function gate(): Promise<boolean> {
    while (!stopping) {
      const current = policy();
      const state = current.breaker.state;
      if (state === CircuitState.Closed) return false;
      let wait = 250;
      if (state === CircuitState.Open) {
        wait = openedAt + current.settings.breaker.halfOpenAfterMs - now();
        if (wait <= 0 && !probing) {
          probing = true;
          return true;
        }
        if (wait <= 0) wait = 250;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        changed,
        new Promise((resolve) => timer = setTimeout(resolve, Math.max(20, Math.min(wait, 1000)))),
      ]);
      clearTimeout(timer);
    }
    return false;
  }

  /** Sends the events of some chunks, then settles each chunk or hands it back. */
  async function publish(chunks: HeldChunk[]): Promise<void> {
    for (const chunk of chunks) inFlight.add(chunk);
    try {
      const { batchMax, batchMaxBytes } = deps.settings();
      const done = new Set<StoredExecution>();
      // Events are encoded as they are sent, one send at a time: a send holds at most batchMax
      // events and about batchMaxBytes of encoded messages (measured by the length of the text
      // just encoded), however large the chunks; a chunk of large executions is sent in parts.
      let slice: Entry[] = [], sliceBytes = 0, taking = true;
      // After a send Kafka did not take, the rest is not tried (nor encoded) now: it would only
      // find the outage again.
      sending: for (const chunk of chunks) {
        for (const event of chunk.events) {
          let message: EventMessage;
          try {
            message = deps.encode(event);
          } catch (error) {
            // Encoding is deterministic: no retry would help.
            giveUpOn(chunk, event, 0, `cannot encode the event (${errorClass(error)})`, done);
            continue;
          }
          slice.push({ chunk, event, message });
          sliceBytes += message.key.length + message.value.length;
          if (slice.length >= batchMax || sliceBytes >= batchMaxBytes) {
            taking = await send(slice, done);
            slice = [];
            sliceBytes = 0;
            if (!taking) break sending;
          }
        }
      }
      if (taking && slice.length > 0) await send(slice, done);
      const settled: HeldChunk[] = [];
      const unsent: HeldChunk[] = [];
      for (const chunk of chunks) {
        const left = chunk.events.filter((event) => !done.has(event));
        if (left.length < chunk.events.length) {
          chunk.whole = false;
          chunk.bytes = Math.round(chunk.bytes * left.length / chunk.events.length);
        }
        chunk.events = left;
        (left.length === 0 ? settled : unsent).push(chunk);
      }
      await settle(settled);
      if (settled.length > 0) deps.onRoom?.();
      if (unsent.length > 0) {
        deps.observer?.unavailable(unsent.reduce((n, chunk) => n + chunk.events.length, 0));
        // Still held (its lease renewed) and first in line for the next send; at shutdown, back
        // to the outbox, due at once, for whoever runs next.
        if (stopping || channel.closed) await handBack(unsent);
        else channel.putBack(unsent);
      }
    } finally {
      for (const chunk of chunks) inFlight.delete(chunk);
    }
  }

  function giveUpOn(
    chunk: HeldChunk,
    event: StoredExecution,
    attempts: number,
    reason: string,
    done: Set<StoredExecution>,
  ) {
    chunk.dead.push({ executionId: event.id, batchId: event.batchId, attempts, reason });
    done.add(event);
  }

  /**
   * Sends entries through the policy: first all together; after a failure that is the events'
   * own (not an outage), each on its own, so one bad event does not hold the others back.
   * Resolves false when Kafka did not take some of them (an outage, or a stop).
   */
  async function send(slice: Entry[], done: Set<StoredExecution>): Promise<boolean> {
    const current = policy();
    const lastError = new Map<Entry, PublishError>();
    let remaining = slice;
    let lastKind: PublishError["kind"] | undefined;
    let tries = 0;
    const began = now();
    try {
      await current.policy.execute(async () => {
        tries++;
        if (tries === 1 || lastKind !== "rejected" || remaining.length === 1) {
          try {
            await producer.send(remaining.map((entry) => entry.message));
          } catch (error) {
            const failure = asPublishError(error);
            lastKind = failure.kind;
            for (const entry of remaining) lastError.set(entry, failure);
            throw failure;
          }
          acknowledge(remaining, began, done);
          remaining = [];
          return;
        }
        const results = await Promise.allSettled(
          remaining.map((entry) => producer.send([entry.message])),
        );
        const failed: Entry[] = [];
        let first: PublishError | undefined;
        results.forEach((result, i) => {
          if (result.status === "fulfilled") return;
          const failure = asPublishError(result.reason);
          lastError.set(remaining[i], failure);
          failed.push(remaining[i]);
          if (!first || (failure.kind === "rejected" && first.kind !== "rejected")) first = failure;
        });
        acknowledge(remaining.filter((_, i) => results[i].status === "fulfilled"), began, done);
        remaining = failed;
        if (first) {
          lastKind = first.kind;
          throw first;
        }
      });
    } catch (error) {
      const dead = stopping
        ? []
        : remaining.filter((entry) => lastError.get(entry)?.kind === "rejected");
      for (const entry of dead) {
        giveUpOn(entry.chunk, entry.event, tries, lastError.get(entry)!.message, done);
      }
      if (dead.length > 0) {
        deps.observer?.deadLettered(dead.length);
        logger.error({
          events: dead.length,
          attempts: tries,
          errorClass: errorClass(lastError.get(dead[0])),
          problem: lastError.get(dead[0])?.message,
          executionIds: dead.slice(0, 20).map((entry) => entry.event.id),
        }, "Cannot publish events after the last retry; kept as dead letters");
      }
      if (dead.length < remaining.length) {
        logger.warn({
          events: remaining.length - dead.length,
          attempts: tries,
          errorClass: errorClass(error),
          problem: (error as Error).message,
        }, "Kafka did not take these events; they wait to be sent again");
        return false;
      }
    }
    return true;
  }

  function acknowledge(entries: Entry[], began: number, done: Set<StoredExecution>) {
    if (entries.length === 0) return;
    everSent = true;
    const at = now();
    for (const entry of entries) done.add(entry.event);
    deps.observer?.sent((at - began) / 1000);
    deps.observer?.published(
      entries.map((entry) => (at - entry.chunk.storedAtMs) / 1000),
    );
  }

  async function settle(chunks: HeldChunk[]) {
    if (chunks.length === 0) return;
    try {
      await outbox.settle(chunks.map((chunk) => ({ id: chunk.id, deadLetters: chunk.dead })));
    } catch (error) {
      // Kafka has them; once the lease ends they are sent once more, which at-least-once allows.
      logger.warn(
        { chunks: chunks.length, errorClass: errorClass(error) },
        "Cannot settle published chunks in the outbox; their events will be sent again",
      );
    }
  }

  /** Returns chunks to the outbox, due at once; what is still unsent is all a row keeps. */
  async function handBack(chunks: HeldChunk[]) {
    if (chunks.length === 0) return;
    try {
      await outbox.release(
        chunks.map((chunk) => ({
          id: chunk.id,
          pendingIds: chunk.events.map((event) => event.id),
          deadLetters: chunk.dead,
          whole: chunk.whole,
        })),
        0,
      );
    } catch (error) {
      // Their leases end by themselves; then the relay of any instance takes them.
      logger.warn(
        { chunks: chunks.length, errorClass: errorClass(error) },
        "Cannot hand chunks back to the outbox; they are taken again when their lease ends",
      );
    }
  }

  /** Ids of every chunk held in memory: in the channel or being sent. */
  function heldIds(): string[] {
    const ids = channel.peek().map((chunk) => chunk.id);
    for (const chunk of inFlight) ids.push(chunk.id);
    return ids;
  }

  /**
   * Estimated bytes of the chunks held: in the channel and being sent. The channel's byte bound
   * (PUBLISH_CHANNEL_MAX_BYTES) covers both, so chunks taken for sending make no room for more.
   */
  function heldBytes(): number {
    let bytes = channel.bytes;
    for (const chunk of inFlight) bytes += chunk.bytes;
    return bytes;
  }

  /**
   * The bytes that may be held now: the channel's bound while Kafka takes sends; while the breaker
   * is not closed (Kafka down, or one probe under way) only what one send takes, since nothing else
   * could be sent and what waits is as safe in the outbox and costs no memory there.
   */
  function boundNow(): number {
    const state = resilience?.breaker.state ?? CircuitState.Closed;
    if (state === CircuitState.Closed) return channel.maxBytes;
    return Math.min(channel.maxBytes, deps.settings().batchMaxBytes);
  }

  /** How many of `chunks`, in order, fit beside what is held (the first always, if none is held). */
  function fitting(chunks: readonly HeldChunk[]): number {
    let held = heldBytes(), count = 0;
    const bound = boundNow();
    for (const chunk of chunks) {
      if (held > 0 && held + chunk.bytes > bound) break;
      held += chunk.bytes;
      count++;
    }
    return count;
  }

  function keepLeases() {
    const { leaseMs } = deps.settings();
    keeper = setTimeout(async () => {
      try {
        await outbox.renewLeases(heldIds(), leaseMs);
      } catch (error) {
        logger.warn({ errorClass: errorClass(error) }, "Cannot renew the leases of held chunks");
      }
      if (!stopping) keepLeases();
    }, Math.max(10, Math.floor(leaseMs / 3)));
  }

  async function loop() {
    try {
      while (!stopping && running <= wanted) {
        const probe = await gate();
        try {
          if (stopping || running > wanted) break;
          const { batchMax, batchMaxBytes } = deps.settings();
          const chunks = await channel.take(batchMax, batchMaxBytes);
          if (chunks.length === 0) {
            if (channel.closed) break;
            continue;
          }
          await publish(chunks);
        } finally {
          if (probe) probing = false;
        }
      }
    } finally {
      // Counted down in the same turn as the decision to leave, so that several surplus loops
      // waking together cannot all leave and undershoot the wanted number.
      running--;
    }
  }

  function spawn() {
    running++;
    const done: Promise<void> = loop().catch((error) => {
      logger.error({ errorClass: errorClass(error) }, "Publisher loop failed");
    }).finally(() => loops.delete(done));
    loops.add(done);
  }

  return {
    /** Starts (or resizes to) `settings().concurrency` loops, and the lease keeper. */
    start() {
      policy();
      if (!keeper) keepLeases();
      this.resize(deps.settings().concurrency);
    },
    /** Changes the number of loops; surplus loops end after their current batch. */
    resize(concurrency: number) {
      wanted = concurrency;
      while (!stopping && running < wanted) spawn();
    },
    /** Takes a freshly stored chunk if the channel has room; false leaves it leased in the outbox. */
    offer(chunk: OutboxChunk): boolean {
      const held = heldChunk({ ...chunk, unreadable: [] });
      return fitting([held]) === 1 && channel.offer([held]) === 1;
    },
    /**
     * Takes claimed chunks (one this instance already holds is ignored); those without a readable
     * event settle at once, as dead letters. Returns how many events it queued.
     */
    async accept(claimed: readonly ClaimedChunk[]): Promise<number> {
      const held = new Set(heldIds());
      const chunks = claimed.filter((chunk) => !held.has(chunk.id)).map(heldChunk);
      await settle(chunks.filter((chunk) => chunk.events.length === 0));
      const sendable = chunks.filter((chunk) => chunk.events.length > 0);
      const taken = channel.offer(sendable.slice(0, fitting(sendable)));
      await handBack(sendable.slice(taken));
      return sendable.slice(0, taken).reduce((n, chunk) => n + chunk.events.length, 0);
    },
    heldIds,
    /** Room left in the channel, in events. */
    get room() {
      return Math.max(0, channel.capacity - channel.size);
    },
    get heldBytes() {
      return heldBytes();
    },
    /** Room left for chunks, in bytes: the bound in force (see boundNow) less what is held. */
    get roomBytes() {
      return Math.max(0, boundNow() - heldBytes());
    },
    /**
     * Publishes what the channel holds until it is empty or the deadline passes, then closes the
     * producer (sends still running come back unsent) and hands every chunk it holds back.
     */
    async stop(deadlineMs: number) {
      channel.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = (ms: number) =>
        new Promise((resolve) => timer = setTimeout(resolve, Math.max(0, ms)));
      await Promise.race([Promise.all([...loops]), deadline(deadlineMs)]);
      clearTimeout(timer);
      stopping = true;
      clearTimeout(keeper);
      notify();
      await producer.close().catch(() => {});
      // Loops whose sends the close cut short hand their chunks back now.
      await Promise.race([Promise.all([...loops]), deadline(2000)]);
      clearTimeout(timer);
      const left = channel.drain(Number.MAX_SAFE_INTEGER);
      if (left.length > 0) {
        const events = left.reduce((n, chunk) => n + chunk.events.length, 0);
        logger.warn({ events }, "Shutdown deadline passed; events stay in the outbox, due at once");
        await handBack(left);
      }
    },
    get loops() {
      return running;
    },
    /** What the breaker says of Kafka; "unknown" until the first send. */
    get kafkaStatus(): "unknown" | "up" | "down" {
      const state = resilience?.breaker.state ?? CircuitState.Closed;
      if (state !== CircuitState.Closed) return "down";
      return everSent ? "up" : "unknown";
    },
  };
}

/** The publisher's interface. */
export type Publisher = ReturnType<typeof createPublisher>;
