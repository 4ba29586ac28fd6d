// Loads the one Kafka client in use, when it is needed: importing a client costs start-up time
// (@platformatic/kafka compiles its protocol schemas at import, about 300 ms on a 2-core machine).
import type { EventMessage, EventProducer, Logger } from "../domain/ports.ts";
import type { KafkaProducerOptions } from "./kafka_errors.ts";

/** The Kafka clients the service can publish with. */
export type KafkaClientName = "platformatic" | "kafkajs";

/** Imports the adapter of `client` (and only that one) and creates its producer. */
export async function loadProducer(
  client: KafkaClientName,
  options: KafkaProducerOptions,
  logger: Logger,
): Promise<EventProducer> {
  if (client === "kafkajs") {
    const { createKafkajsProducer } = await import("./kafkajs_producer.ts");
    return createKafkajsProducer({ ...options, logger });
  }
  const { createPlatformaticProducer } = await import("./platformatic_producer.ts");
  return createPlatformaticProducer(options);
}

/**
 * A producer that calls `load` on its first send, not before: publishing in the service's own
 * thread then costs the start-up path nothing. A load that fails fails that send (the publisher's
 * retry policy applies) and is tried again by the next one.
 */
export function createLazyProducer(load: () => Promise<EventProducer>): EventProducer {
  let loading: Promise<EventProducer> | undefined;
  const producer = () => {
    loading ??= load().catch((error) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
  return {
    async send(messages: readonly EventMessage[]) {
      await (await producer()).send(messages);
    },
    async close() {
      // Nothing was ever loaded, so nothing is open.
      if (!loading) return;
      await (await loading.catch(() => undefined))?.close();
    },
  };
}
