// createKeyRing and requireKey through a tiny Hono app: 401 without a valid key, 403 for a user key on
// admin routes, admin keys open user routes, and no configured key means no access control.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { createKeyRing, requireKey } from "../../src/http/auth.ts";
import { createErrorHandler } from "../../src/http/error_mapper.ts";
import { recordingLogger } from "../_fakes/fixtures.ts";

const USER_KEY = "user-key-0123456789";
const ADMIN_KEY = "admin-key-0123456789";

const { logger } = recordingLogger();

/** The same wiring as createApp, with one route behind each role. */
function appWith(userKeys: string[], adminKeys: string[]) {
  const ring = createKeyRing(userKeys, adminKeys);
  const app = new Hono();
  app.use(requestId());
  app.use("/v1/*", requireKey(ring, "user"));
  app.use("/admin/*", requireKey(ring, "admin"));
  app.get("/v1/things", (c) => c.json({ route: "user" }));
  app.get("/admin/things", (c) => c.json({ route: "admin" }));
  app.onError(createErrorHandler(logger));
  return app;
}

interface Row {
  name: string;
  path: string;
  authorization?: string;
  status: 200 | 401 | 403;
  code?: "UNAUTHORIZED" | "FORBIDDEN";
}

const ROWS: Row[] = [
  { name: "no Authorization header is 401", path: "/v1/things", status: 401, code: "UNAUTHORIZED" },
  {
    name: "no Authorization header on an admin route is 401",
    path: "/admin/things",
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "a wrong key is 401",
    path: "/v1/things",
    authorization: "Bearer not-a-key",
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "a wrong key on an admin route is 401",
    path: "/admin/things",
    authorization: "Bearer not-a-key",
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "a key that only starts like a valid one is 401",
    path: "/v1/things",
    authorization: `Bearer ${USER_KEY}x`,
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "a valid key in another scheme is 401",
    path: "/v1/things",
    authorization: `Basic ${USER_KEY}`,
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "a Bearer header without a key is 401",
    path: "/v1/things",
    authorization: "Bearer ",
    status: 401,
    code: "UNAUTHORIZED",
  },
  {
    name: "a user key on an admin route is 403",
    path: "/admin/things",
    authorization: `Bearer ${USER_KEY}`,
    status: 403,
    code: "FORBIDDEN",
  },
  {
    name: "a user key on a user route is let through",
    path: "/v1/things",
    authorization: `Bearer ${USER_KEY}`,
    status: 200,
  },
  {
    name: "an admin key on a user route is let through",
    path: "/v1/things",
    authorization: `Bearer ${ADMIN_KEY}`,
    status: 200,
  },
  {
    name: "an admin key on an admin route is let through",
    path: "/admin/things",
    authorization: `Bearer ${ADMIN_KEY}`,
    status: 200,
  },
  {
    name: "the scheme is case-insensitive",
    path: "/v1/things",
    authorization: `bearer ${USER_KEY}`,
    status: 200,
  },
];

Deno.test("requireKey lets through only keys of the route's role", async (t) => {
  const app = appWith([USER_KEY, "second-user-key"], [ADMIN_KEY]);
  for (const row of ROWS) {
    await t.step(row.name, async () => {
      const headers: Record<string, string> = {};
      if (row.authorization !== undefined) headers.authorization = row.authorization;
      const response = await app.request(row.path, { headers });
      assert.equal(response.status, row.status);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      const body = await response.json();
      if (row.status === 200) {
        assert.deepEqual(body, { route: row.path.startsWith("/admin") ? "admin" : "user" });
        return;
      }
      assert.equal(body.error.code, row.code);
      assert.equal(typeof body.error.message, "string");
      assert.equal(body.error.requestId, response.headers.get("x-request-id"));
      assert.ok(!JSON.stringify(body).includes(USER_KEY), "the key is never echoed");
      if (row.status === 401) {
        assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer realm=/);
      }
    });
  }
});

Deno.test("requireKey accepts every configured key, not only the first", async () => {
  const app = appWith([USER_KEY, "second-user-key"], [ADMIN_KEY, "second-admin-key"]);
  for (
    const [path, key] of [["/v1/things", "second-user-key"], ["/admin/things", "second-admin-key"]]
  ) {
    const response = await app.request(path, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(response.status, 200, `${key} on ${path}`);
    await response.body?.cancel();
  }
});

Deno.test("with only admin keys configured, user routes need an admin key too", async () => {
  const app = appWith([], [ADMIN_KEY]);
  const anonymous = await app.request("/v1/things");
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
  const admin = await app.request("/v1/things", {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  assert.equal(admin.status, 200);
  await admin.body?.cancel();
});

Deno.test("with no keys configured every route is open", async (t) => {
  const app = appWith([], []);
  for (const path of ["/v1/things", "/admin/things"]) {
    await t.step(`${path} without a header`, async () => {
      const response = await app.request(path);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      await response.json();
    });
    await t.step(`${path} with any header`, async () => {
      const response = await app.request(path, { headers: { authorization: "Bearer whatever" } });
      assert.equal(response.status, 200);
      await response.json();
    });
  }
});

Deno.test("createKeyRing tells admin keys, user keys and unknown keys apart", () => {
  const ring = createKeyRing([USER_KEY], [ADMIN_KEY]);
  assert.equal(ring.enabled, true);
  assert.equal(ring.roleOf(USER_KEY), "user");
  assert.equal(ring.roleOf(ADMIN_KEY), "admin");
  assert.equal(ring.roleOf("nope"), undefined);
  assert.equal(ring.roleOf(""), undefined);
  assert.equal(createKeyRing([], []).enabled, false);
  assert.equal(createKeyRing([ADMIN_KEY], [ADMIN_KEY]).roleOf(ADMIN_KEY), "admin");
});
