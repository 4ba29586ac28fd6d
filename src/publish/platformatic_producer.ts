// The @platformatic/kafka adapter behind the EventProducer port: connects lazily, acks from all replicas.
import { Buffer } from "node:buffer";
import { compatibilityPartitioner, Producer } from "@platformatic/kafka";
import type { PublishFailureKind } from "../domain/errors.ts";
import type { EventProducer } from "../domain/ports.ts";
import { type KafkaProducerOptions, MESSAGE_FAULTS, publishFailure } from "./kafka_errors.ts";

interface PltError {
  code?: string;
  apiId?: string;
  message?: string;
  errors?: unknown[];
  cause?: unknown;
}

/**
 * Classifies a @platformatic/kafka error by walking its tree (MultipleErrors hold one error per
 * try or per broker): a protocol error that is the messages' fault makes it "rejected"; anything
 * else (PLT_KFK_NETWORK, PLT_KFK_TIMEOUT, no leader) is the broker's. The reason quotes the
 * first leaf, which says what actually happened.
 */
export function classifyPlatformaticError(
  error: unknown,
): { kind: PublishFailureKind; reason: string } {
  const stack: Array<{ e: unknown; depth: number }> = [{ e: error, depth: 0 }];
  let fault = false;
  let leaf: PltError | undefined;
  while (stack.length > 0) {
    const { e, depth } = stack.shift()!;
    if (!e || typeof e !== "object" || depth > 6) continue;
    const node = e as PltError;
    if (node.apiId && MESSAGE_FAULTS.has(node.apiId)) fault = true;
    const children = [...(node.errors ?? []), ...(node.cause ? [node.cause] : [])];
    if (children.length === 0) leaf ??= node;
    for (const child of children) stack.push({ e: child, depth: depth + 1 });
  }
  const root = leaf ?? (error as PltError);
  const label = [root?.code, root?.apiId].filter(Boolean).join(":");
  return {
    kind: fault ? "rejected" : "unavailable",
    reason: `${root?.message ?? String(error)}${label ? ` (${label})` : ""}`,
  };
}

/**
 * Header bytes, made once where they repeat. Every event carries the same six header names and
 * four of its six values are the same for all; a Buffer made anew for each of them was a third of
 * the publishing thread's time (small Buffers are dear under Deno's Node layer, in the making and
 * in the collecting).
 */
function createHeaderBytes() {
  const names = new Map<string, Buffer>();
  const lastValues = new Map<string, { text: string; bytes: Buffer }>();
  return (headers: Record<string, string>): Map<Buffer, Buffer> => {
    const out = new Map<Buffer, Buffer>();
    for (const name in headers) {
      const text = headers[name];
      let nameBytes = names.get(name);
      if (!nameBytes) names.set(name, nameBytes = Buffer.from(name));
      let last = lastValues.get(name);
      if (last?.text !== text) lastValues.set(name, last = { text, bytes: Buffer.from(text) });
      out.set(nameBytes, last.bytes);
    }
    return out;
  };
}

const asBuffer = (text?: string) => text === undefined ? undefined : Buffer.from(text);
const asIs = (bytes?: Buffer) => bytes;

/** Creates the producer; nothing connects until the first send, so the service starts without Kafka. */
export function createPlatformaticProducer(options: KafkaProducerOptions): EventProducer {
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const headerBytes = createHeaderBytes();
  const producer = new Producer<string, string, Buffer, Buffer>({
    clientId: options.clientId,
    bootstrapBrokers: options.brokers,
    serializers: { key: asBuffer, value: asBuffer, headerKey: asIs, headerValue: asIs },
    acks: -1,
    autocreateTopics: true,
    // One retry policy rules: ours (publish/resilience.ts); the client's own would multiply it.
    retries: 0,
    connectTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout,
    // How long the broker may wait for its replicas before answering; kept inside the client's wait.
    timeout: Math.max(1000, requestTimeout - 1000),
    // Java's and kafkajs's partitioner: one key lands on the same partition whichever client sent it.
    partitioner: compatibilityPartitioner,
  });
  let closed = false;

  return {
    async send(messages) {
      try {
        await producer.send({
          messages: messages.map((message) => ({
            topic: options.topic,
            key: message.key,
            value: message.value,
            headers: headerBytes(message.headers),
          })),
        });
      } catch (error) {
        const { kind, reason } = classifyPlatformaticError(error);
        throw publishFailure(closed ? "closed" : kind, options, messages.length, error, reason);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await producer.close();
    },
  };
}
