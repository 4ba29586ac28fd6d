// The revocation check's memory: a revocation is known at once where it was made and kept until the
// session's end; "not revoked" is trusted for REVOCATION_CACHE_MS, then asked again.
import assert from "node:assert/strict";
import type { SessionRevocations } from "../../../src/domain/ports.ts";
import {
  createRevocationCheck,
  REVOCATION_CACHE_MS,
} from "../../../src/http/console/revocation_check.ts";

/** A store in memory that counts the questions it is asked. */
function countingStore() {
  const revoked = new Set<string>();
  const store = {
    asked: 0,
    revoke: (id: string) => Promise.resolve(void revoked.add(id)),
    isRevoked: (id: string) => {
      store.asked++;
      return Promise.resolve(revoked.has(id));
    },
  };
  return { store: store satisfies SessionRevocations, revoked };
}

Deno.test("a session revoked on another instance is refused here once REVOCATION_CACHE_MS has passed, and trusted as not revoked until then", async () => {
  const { store, revoked } = countingStore();
  let now = 1_000_000;
  const check = createRevocationCheck(store, { now: () => now });
  const expiresAt = now + 3_600_000;
  assert.equal(await check.isRevoked("s1", expiresAt), false);
  assert.equal(await check.isRevoked("s1", expiresAt), false);
  assert.equal(store.asked, 1, "the second look is answered from memory");
  revoked.add("s1"); // signed out through another instance
  now += REVOCATION_CACHE_MS - 1;
  assert.equal(await check.isRevoked("s1", expiresAt), false);
  now += 2;
  assert.equal(await check.isRevoked("s1", expiresAt), true);
  assert.equal(store.asked, 2);
});

Deno.test("a session revoked here is refused at once and without asking the store again", async () => {
  const { store } = countingStore();
  const now = 1_000_000;
  const check = createRevocationCheck(store, { now: () => now });
  assert.equal(await check.isRevoked("s2", now + 60_000), false);
  await check.revoke("s2", now + 60_000);
  assert.equal(await check.isRevoked("s2", now + 60_000), true);
  assert.equal(store.asked, 1);
});
