// deno bench: one send of 1,000 of the service's events (six CloudEvents headers, acks=-1) through
// each Kafka adapter, on the project's broker; deno bench prints the ratio between them.
import type { EventProducer } from "../src/domain/ports.ts";
import { createKafkajsProducer } from "../src/publish/kafkajs_producer.ts";
import { createPlatformaticProducer } from "../src/publish/platformatic_producer.ts";
import { captureLogs, createTopic, KAFKA_BROKERS, uniqueName } from "../tests/_helpers.ts";
import { messages } from "./producer_bench.ts";

const GROUP = "one send of 1,000 events, acks=-1";
const topic = uniqueName("clients_bench");
await createTopic(topic, 3);
const options = { brokers: KAFKA_BROKERS, topic };
const producers: Record<string, EventProducer> = {
  kafkajs: createKafkajsProducer({
    ...options,
    clientId: uniqueName("kafkajs"),
    logger: captureLogs("error").logger,
  }),
  platformatic: createPlatformaticProducer({ ...options, clientId: uniqueName("platformatic") }),
};
// Built before the clock starts, fresh ids each time.
const batches = Array.from({ length: 40 }, () => messages(1000));
let next = 0;

for (const [name, producer] of Object.entries(producers)) {
  await producer.send(batches[0]);
  Deno.bench({
    name: `${name}: send 1,000 events`,
    group: GROUP,
    baseline: name === "kafkajs",
    async fn() {
      await producer.send(batches[next++ % batches.length]);
    },
  });
}

globalThis.addEventListener("unload", () => {
  for (const producer of Object.values(producers)) void producer.close();
});
