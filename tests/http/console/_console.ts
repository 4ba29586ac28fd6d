// Shared steps of the console's tests: signing in through the form, a page's form token, and the
// service as its own process with the start task's heap flags and its peak memory.
import assert from "node:assert/strict";
import denoConfig from "../../../deno.json" with { type: "json" };
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

/** The V8 flags of the start task, as deno.json holds them (never copied). */
export function startTaskV8Flags(): string {
  const flags = /--v8-flags=(\S+)/.exec(denoConfig.tasks.start)?.[1];
  assert.ok(flags, "the start task sets V8 flags");
  return `--v8-flags=${flags}`;
}

/** The service as its own process with the start task's heap flags; `peakKb` reads its VmHWM. */
export async function spawnWithStartFlags(env: Record<string, string>) {
  const main = new URL("../../../src/main.ts", import.meta.url).pathname;
  const service = await spawnService(env, { args: ["run", startTaskV8Flags(), "-A", main] });
  const status = (field: string) => {
    const text = Deno.readTextFileSync(`/proc/${service.child.pid}/status`);
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)![1]);
  };
  return { ...service, peakKb: () => status("VmHWM"), rssKb: () => status("VmRSS") };
}
