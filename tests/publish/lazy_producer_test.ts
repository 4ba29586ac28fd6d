// createLazyProducer: the client is loaded by the first send only, once, and again after a failed load.
import assert from "node:assert/strict";
import type { EventMessage, EventProducer } from "../../src/domain/ports.ts";
import { createLazyProducer } from "../../src/publish/load_producer.ts";

const MESSAGE: EventMessage = { key: "LOGIN-001", value: "{}", headers: {} };

/** A loader of a fake producer that records what happened. */
function fakeLoader(failFirst = false) {
  const events: string[] = [];
  let loads = 0;
  const producer: EventProducer = {
    send: (messages) => Promise.resolve(void events.push(`send ${messages.length}`)),
    close: () => Promise.resolve(void events.push("close")),
  };
  const load = () => {
    loads++;
    events.push(`load ${loads}`);
    return failFirst && loads === 1
      ? Promise.reject(new Error("cannot import"))
      : Promise.resolve(producer);
  };
  return { load, events };
}

Deno.test("a lazy producer loads nothing until the first send, then loads once for sends side by side", async () => {
  const { load, events } = fakeLoader();
  const producer = createLazyProducer(load);
  assert.deepEqual(events, []);
  await Promise.all([producer.send([MESSAGE]), producer.send([MESSAGE, MESSAGE])]);
  await producer.send([MESSAGE]);
  await producer.close();
  assert.deepEqual(events, ["load 1", "send 1", "send 2", "send 1", "close"]);
});

Deno.test("a lazy producer closed before any send never loads its client", async () => {
  const { load, events } = fakeLoader();
  await createLazyProducer(load).close();
  assert.deepEqual(events, []);
});

Deno.test("a failed load fails that send only; the next send loads again", async () => {
  const { load, events } = fakeLoader(true);
  const producer = createLazyProducer(load);
  await assert.rejects(producer.send([MESSAGE]), /cannot import/);
  await producer.send([MESSAGE]);
  assert.deepEqual(events, ["load 1", "load 2", "send 1"]);
});
