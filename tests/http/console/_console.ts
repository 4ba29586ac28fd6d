// Shared steps of the console's tests: signing in through the form, a page's form token, and the
// service as its own process with the start task's heap flags and its peak memory.
import assert from "node:assert/strict";
import { readPeakRss, readRss, START_V8_FLAGS } from "../../../bench/service_process.ts";
import { spawnService } from "../../_helpers.ts";

/** Signs in through the form; returns the session cookie and the token its forms carry. */
export async function signIn(url: string, key: string) {
  const response = await fetch(`${url}/console/sign-in`, {
    method: "POST",
    headers: { origin: url },
    body: new URLSearchParams({ key }),
    redirect: "manual",
  });
  assert.equal(response.status, 303);
  await response.body?.cancel();
  const cookie = response.headers.get("set-cookie")!.split(";")[0];
  return { cookie, token: await tokenOf(url, cookie) };
}

/** The form token of the session's upload page. */
export async function tokenOf(url: string, cookie: string): Promise<string> {
  const page = await (await fetch(`${url}/console/upload`, { headers: { cookie } })).text();
  return /name="_csrf" value="([^"]+)"/.exec(page)![1];
}

/** The error code a console page shows. */
export function codeOf(page: string): string | undefined {
  return /\b(PAYLOAD_TOO_LARGE|TOO_MANY_ITEMS|BODY_READ_TIMEOUT|INVALID_BODY|SERVICE_SATURATED|UNSUPPORTED_MEDIA_TYPE|FORBIDDEN|UNAUTHORIZED|INTERNAL_ERROR)\b/
    .exec(page)?.[1];
}

/** The service as its own process with the start task's heap flags; `peakKb` reads its VmHWM. */
export async function spawnWithStartFlags(env: Record<string, string>) {
  const main = new URL("../../../src/main.ts", import.meta.url).pathname;
  assert.ok(START_V8_FLAGS.length > 0, "the start task sets V8 flags");
  const service = await spawnService(env, { args: ["run", ...START_V8_FLAGS, "-A", main] });
  const pid = service.child.pid;
  return { ...service, peakKb: () => readPeakRss(pid) / 1024, rssKb: () => readRss(pid) / 1024 };
}
