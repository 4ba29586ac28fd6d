// Loads the one Kafka client in use, when it is needed: importing a client costs start-up time
// (@platformatic/kafka compiles its protocol schemas at import, about 300 ms on a 2-core machine).
import type { EventProducer, Logger } from "../domain/ports.ts";
import type { KafkaProducerOptions } from "./kafka_errors.ts";

/** The Kafka clients the service can publish with. */
export type KafkaClientName = "platformatic" | "kafkajs";

/**
 * Imports the adapter of `client` (and only that one) and creates its producer. The thread that
 * publishes calls it; a service whose publishing runs in a worker never loads a client itself.
 */
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
