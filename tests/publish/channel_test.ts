// createChannel: offers never block and take what fits, takes wait for items, close wakes every taker.
import assert from "node:assert/strict";
import { createChannel } from "../../src/publish/channel.ts";

/** Whether a promise is still pending once every queued job has run. */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let pending = true;
  promise.then(() => pending = false, () => pending = false);
  for (let i = 0; i < 20; i++) await Promise.resolve();
  return pending;
}

Deno.test("offer takes what fits, in order, and returns how many it took", async (t) => {
  const channel = createChannel<number>({ capacity: 3 });

  await t.step("everything while there is room", () => {
    assert.equal(channel.offer([1, 2]), 2);
    assert.equal(channel.size, 2);
  });

  await t.step("only the first items that fit when the rest would overflow", () => {
    assert.equal(channel.offer([3, 4, 5]), 1);
    assert.equal(channel.size, 3);
  });

  await t.step("nothing at capacity, without blocking", () => {
    assert.equal(channel.offer([6]), 0);
    assert.equal(channel.offer([]), 0);
  });

  await t.step("the items taken are the first ones, in offer order", () => {
    assert.deepEqual(channel.drain(10), [1, 2, 3]);
    assert.equal(channel.size, 0);
  });
});

Deno.test("take waits while the channel is empty and resolves once items are offered", async () => {
  const channel = createChannel<string>({ capacity: 10 });
  const taking = channel.take(5);
  assert.equal(await isPending(taking), true);
  channel.offer(["a", "b"]);
  assert.deepEqual(await taking, ["a", "b"]);
  assert.equal(channel.size, 0);
});

Deno.test("take returns at most max items and leaves the rest for the next take", async () => {
  const channel = createChannel<number>({ capacity: 10 });
  channel.offer([1, 2, 3, 4, 5]);
  assert.deepEqual(await channel.take(2), [1, 2]);
  assert.deepEqual(await channel.take(2), [3, 4]);
  assert.deepEqual(await channel.take(2), [5]);
  assert.equal(channel.size, 0);
});

Deno.test("items offered to several waiting takers go to them in order, and a taker left empty keeps waiting", async () => {
  const channel = createChannel<number>({ capacity: 10 });
  const first = channel.take(10);
  const second = channel.take(10);
  channel.offer([1]);
  assert.deepEqual(await first, [1]);
  assert.equal(await isPending(second), true, "the second taker does not return empty-handed");
  channel.offer([2, 3]);
  assert.deepEqual(await second, [2, 3]);
});

Deno.test("close wakes every waiting taker with an empty list, and later takes return at once", async () => {
  const channel = createChannel<number>({ capacity: 10 });
  const takers = [channel.take(10), channel.take(10), channel.take(1)];
  assert.equal(await isPending(Promise.race(takers)), true);
  channel.close();
  assert.deepEqual(await Promise.all(takers), [[], [], []]);
  assert.equal(channel.closed, true);
  assert.deepEqual(await channel.take(10), []);
  assert.equal(channel.offer([1, 2]), 0, "a closed channel takes nothing");
  assert.equal(channel.size, 0);
});

Deno.test("items still held when the channel closes can be taken", async () => {
  const channel = createChannel<number>({ capacity: 10 });
  channel.offer([1, 2, 3]);
  channel.close();
  assert.deepEqual(await channel.take(2), [1, 2]);
  assert.deepEqual(channel.drain(10), [3]);
  assert.deepEqual(await channel.take(10), []);
});

Deno.test("setCapacity changes how much later offers can add", async (t) => {
  const channel = createChannel<number>({ capacity: 2 });
  channel.offer([1, 2]);

  await t.step("a larger capacity makes room at once", () => {
    channel.setCapacity(4);
    assert.equal(channel.capacity, 4);
    assert.equal(channel.offer([3, 4, 5]), 2);
    assert.equal(channel.size, 4);
  });

  await t.step(
    "a smaller capacity keeps what is held but refuses more until it drains below",
    () => {
      channel.setCapacity(1);
      assert.equal(channel.size, 4);
      assert.equal(channel.offer([6]), 0);
      assert.deepEqual(channel.drain(3), [1, 2, 3]);
      assert.equal(channel.offer([6]), 0, "size 1 is still at the new capacity");
      assert.deepEqual(channel.drain(1), [4]);
      assert.equal(channel.offer([6, 7]), 1);
      assert.deepEqual(channel.drain(10), [6]);
    },
  );
});

Deno.test("drain never waits", () => {
  const channel = createChannel<number>({ capacity: 5 });
  assert.deepEqual(channel.drain(10), []);
  channel.offer([1, 2, 3]);
  assert.deepEqual(channel.drain(0), []);
  assert.deepEqual(channel.drain(2), [1, 2]);
});

Deno.test("a weighted channel counts weight, not items", async (t) => {
  const channel = createChannel<number[]>({ capacity: 10, weight: (chunk) => chunk.length });
  await t.step("offer takes whole items while the weight held is under the capacity", () => {
    assert.equal(channel.offer([[1, 2, 3], [4, 5, 6, 7, 8], [9, 10, 11], [12]]), 3);
    assert.equal(channel.size, 11, "the last item taken may carry it past the capacity");
  });
  await t.step("drain takes items up to the weight, at least one however heavy", () => {
    assert.deepEqual(channel.drain(7), [[1, 2, 3]]);
    assert.deepEqual(channel.drain(2), [[4, 5, 6, 7, 8]]);
    assert.equal(channel.size, 3);
  });
  await t.step("putBack puts items in front whatever the capacity", () => {
    channel.setCapacity(1);
    channel.putBack([[1, 2, 3], [4]]);
    assert.equal(channel.size, 7);
    assert.deepEqual(channel.peek(), [[1, 2, 3], [4], [9, 10, 11]]);
    assert.deepEqual(channel.drain(100), [[1, 2, 3], [4], [9, 10, 11]]);
    assert.equal(channel.size, 0);
  });
});

Deno.test("putBack wakes a waiting taker", async () => {
  const channel = createChannel<number>({ capacity: 1 });
  const taken = channel.take(5);
  channel.putBack([7, 8]);
  assert.deepEqual(await taken, [7, 8]);
});

Deno.test("a byte bound is never exceeded: an item that does not fit waits outside, unless the channel is empty", async (t) => {
  const channel = createChannel<{ id: string; bytes: number }>({
    capacity: 1000,
    maxBytes: 100,
    bytes: (item) => item.bytes,
  });
  const item = (id: string, bytes: number) => ({ id, bytes });

  await t.step("items are taken while their bytes fit, in order", () => {
    assert.equal(channel.offer([item("a", 60), item("b", 30), item("c", 20)]), 2);
    assert.equal(channel.bytes, 90);
  });

  await t.step("a take is bounded in bytes too, but always takes one item", () => {
    assert.deepEqual(channel.drain(10, 50).map((i) => i.id), ["a"]);
    assert.deepEqual(channel.drain(10, 10).map((i) => i.id), ["b"]);
    assert.equal(channel.bytes, 0);
  });

  await t.step("an item larger than the bound enters an empty channel alone", () => {
    assert.equal(channel.offer([item("huge", 250), item("d", 1)]), 1);
    assert.equal(channel.offer([item("e", 1)]), 0);
    assert.equal(channel.bytes, 250);
  });

  await t.step("putBack restores the bytes, and a lower bound applies to later offers", () => {
    channel.putBack(channel.drain(10));
    assert.equal(channel.bytes, 250);
    channel.drain(10);
    channel.setCapacity(1000, 10);
    assert.equal(channel.offer([item("f", 10), item("g", 1)]), 1);
  });
});
