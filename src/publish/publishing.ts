// Publishing as one unit: stored chunks come in memory (or, when they could not be taken, through
// the relay once their lease ends) and the publisher sends them. The same unit runs in the
// service's thread or in a worker of its own (publishing_worker.ts).
import type { StoredExecution } from "../domain/execution.ts";
import type {
  EventMessage,
  EventProducer,
  Logger,
  OutboxChunk,
  OutboxPort,
  PublishObserver,
} from "../domain/ports.ts";
import { createChannel } from "./channel.ts";
import {
  createPublisher,
  errorClass,
  type HeldChunk,
  type PublisherSettings,
} from "./publisher.ts";
import { createRelay, type RelaySettings } from "./relay.ts";

/** Everything publishing reads; a reload replaces it as a whole. */
export interface PublishingSettings {
  publisher: PublisherSettings;
  relay: RelaySettings;
  /** Most events held in memory, waiting to be sent. @default 20000 */
  channelCapacity: number;
  /**
   * Most estimated bytes of events held in memory, waiting to be sent: what does not fit waits in
   * the outbox. @default 16777216
   */
  channelMaxBytes: number;
}

/** What publishing says of itself, for readiness and metrics. */
export interface PublishingStatus {
  kafka: "unknown" | "up" | "down";
  channelSize: number;
  channelCapacity: number;
  /** Estimated bytes of the events held: in the channel and being sent. */
  heldBytes: number;
  /**
   * Estimated bytes of every chunk offered since start (taken or not): a worker's handle subtracts
   * it from what it posted to know how much is still on its way.
   */
  offeredBytes: number;
}

/** The handle the service holds, whichever thread publishing runs in. */
export interface PublishingHandle {
  /** A chunk was stored: held and sent if there is room, else left leased to the outbox. */
  offer(chunk: OutboxChunk): void;
  /** Applies new settings (a reload); the log level matters to a worker, whose logger is its own. */
  reload(settings: PublishingSettings, logLevel?: string): void;
  /** Runs one relay pass now; resolves with the number of events it handed to the publisher. */
  relayNow(): Promise<number>;
  /** Publishes what it holds until the deadline, then hands the rest back to the outbox. */
  stop(deadlineMs: number): Promise<void>;
  status(): PublishingStatus;
}

/** What createPublishing needs. */
export interface PublishingDeps {
  outbox: OutboxPort;
  producer: EventProducer;
  logger: Logger;
  settings: PublishingSettings;
  encode: (execution: StoredExecution) => EventMessage;
  observer?: PublishObserver;
}

/** Creates and starts publishing in the current thread. */
export function createPublishing(deps: PublishingDeps): PublishingHandle {
  let settings = deps.settings;
  const channel = createChannel<HeldChunk>({
    capacity: settings.channelCapacity,
    weight: (chunk) => chunk.events.length,
    maxBytes: settings.channelMaxBytes,
    bytes: (chunk) => chunk.bytes,
  });
  let turnedAway = false, catchingUp = false;
  let offeredBytes = 0;
  const observer = deps.observer;
  const publisher = createPublisher({
    channel,
    producer: deps.producer,
    outbox: deps.outbox,
    logger: deps.logger,
    settings: () => settings.publisher,
    encode: deps.encode,
    observer,
    // Called only once sending is under way, after the relay below exists, and only when a stored
    // chunk was turned away: it waits in the outbox, due, and the room that came free is its.
    onRoom: () => {
      if (!turnedAway || catchingUp || publisher.room === 0) return;
      catchingUp = true;
      relay.pass().then((queued) => {
        // With room and nothing more due, what was turned away has all been taken back.
        if (queued === 0) turnedAway = false;
      }).finally(() => catchingUp = false);
    },
  });
  const relay = createRelay({
    outbox: deps.outbox,
    publisher,
    logger: deps.logger,
    settings: () => settings.relay,
  });
  publisher.start();
  relay.start();

  return {
    offer: (chunk) => {
      offeredBytes += chunk.bytes;
      if (publisher.offer(chunk)) return;
      turnedAway = true;
      // Leased to this instance by its insert; made due now, so that any relay (this one once
      // there is room, or another instance's) takes it without waiting for the lease to end.
      const release = { id: chunk.id, pendingIds: [], deadLetters: [], whole: true };
      deps.outbox.release([release], 0).catch((error) =>
        deps.logger.warn(
          { errorClass: errorClass(error) },
          "Cannot hand a chunk the channel had no room for back to the outbox; its lease ends by itself",
        )
      );
    },
    relayNow: () => relay.pass(),
    reload(next) {
      settings = next;
      channel.setCapacity(next.channelCapacity, next.channelMaxBytes);
      publisher.resize(next.publisher.concurrency);
    },
    async stop(deadlineMs) {
      await relay.stop();
      await publisher.stop(deadlineMs);
    },
    status: () => ({
      kafka: publisher.kafkaStatus,
      channelSize: channel.size,
      channelCapacity: channel.capacity,
      heldBytes: publisher.heldBytes,
      offeredBytes,
    }),
  };
}
