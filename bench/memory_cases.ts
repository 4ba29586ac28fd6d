// The cases of issue 21, each against a fresh service process: what it sends and what it reads back.
import { sqlFor } from "../tests/_helpers.ts";
import {
  jsonEmptyRows,
  jsonNested,
  JUNIT_HUGE_TIME,
  junitEmptyElements,
  junitLargeAttribute,
  junitLargeSystemOut,
  oneItemManyValues,
  oneValidManyEmpty,
  signInForm,
} from "./hostile_inputs.ts";
import { answerOf, type Finding, probe, USER_KEY } from "./memory_probe.ts";
import type { ServiceProcess } from "./service_process.ts";

const TIMEOUT_MS = 180_000;
/** The read deadline the trickling form's service gets, so the case waits seconds, not minutes. */
const TRICKLE_DEADLINE_MS = 2000;
/** How long past that deadline the trickling form is given before it counts as held. */
const TRICKLE_GRACE_MS = 3000;

/** One row of the tier's table. */
export interface CaseRow extends Finding {
  name: string;
  input: string;
  /** Bytes a table grew by (case 6). */
  bytesAdded?: number;
  /** The most bytes it may grow by: ten times the request's own (issue 21 found 118 times). */
  bytesLimit?: number;
  /** The answer issue 21 expects, when it names one. */
  expect?: RegExp;
  /** Lines of a Markdown table over time (the soak's RSS). */
  series?: string[];
}

/** A case: its name (for --case), the answer issue 21 expects, and what it does. */
export interface MemoryCase {
  name: string;
  input: string;
  expect?: RegExp;
  run: () => Promise<Omit<CaseRow, "name" | "input" | "expect">>;
}

const bearer = { authorization: `Bearer ${USER_KEY}` };

function post(url: string, body: BodyInit, headers: Record<string, string>) {
  return answerOf(fetch(url, {
    method: "POST",
    headers,
    body,
    redirect: "manual",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }));
}

/** Signs in through the console's form; the session cookie and its form token. */
async function signIn(url: string) {
  const response = await fetch(`${url}/console/sign-in`, {
    method: "POST",
    headers: { origin: url },
    body: new URLSearchParams({ key: USER_KEY }),
    redirect: "manual",
  });
  await response.body?.cancel();
  const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0];
  const page = await (await fetch(`${url}/console/upload`, { headers: { cookie } })).text();
  const token = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!token) throw new Error(`cannot sign in to the console (status ${response.status})`);
  return { cookie, token };
}

/** Uploads a file through the console as a signed-in user. */
async function upload(service: ServiceProcess, bytes: Uint8Array, name: string, format: string) {
  const session = await signIn(service.url);
  const form = new FormData();
  form.set("_csrf", session.token);
  form.set("format", format);
  form.set("file", new File([bytes as BlobPart], name));
  return post(`${service.url}/console/upload`, form, {
    origin: service.url,
    cookie: session.cookie,
  });
}

const batch = (service: ServiceProcess, bytes: Uint8Array) =>
  post(`${service.url}/v1/executions/batch`, bytes as BodyInit, {
    ...bearer,
    "content-type": "application/json",
  });

const report = (service: ServiceProcess, bytes: Uint8Array | string) =>
  post(`${service.url}/v1/imports/junit`, bytes as BodyInit, {
    ...bearer,
    "content-type": "application/xml",
  });

const signInPost = (service: ServiceProcess, bytes: Uint8Array) =>
  post(`${service.url}/console/sign-in`, bytes as BodyInit, {
    origin: service.url,
    "content-type": "application/x-www-form-urlencoded",
  });

/**
 * Sends a sign-in form's headers and first bytes, then nothing: answered (status line) or cut by the
 * service within its read deadline and a grace, or "held" when the connection is still open then.
 */
async function trickle(service: ServiceProcess): Promise<{ answer: string; note: string }> {
  const { port } = new URL(service.url);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  await conn.write(new TextEncoder().encode(
    `POST /console/sign-in HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\norigin: ${service.url}\r\n` +
      "content-type: application/x-www-form-urlencoded\r\ncontent-length: 1000000\r\n\r\nkey=abc",
  ));
  const began = performance.now();
  const limit = TRICKLE_DEADLINE_MS + TRICKLE_GRACE_MS;
  const read = (async () => {
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer).catch(() => null);
    return n === null ? "closed" : new TextDecoder().decode(buffer.subarray(0, n)).split("\r\n")[0];
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    read,
    new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), limit)),
  ]);
  clearTimeout(timer);
  conn.close();
  await read.catch(() => {});
  const seconds = ((performance.now() - began) / 1000).toFixed(1);
  if (outcome === undefined) {
    return { answer: `held ${seconds} s`, note: `still open ${seconds} s after the first bytes` };
  }
  return { answer: outcome.replace(/^HTTP\/1\.1 /, ""), note: `ended after ${seconds} s` };
}

/** Case 6's growth: bytes of batch_failures (with its indexes and TOAST) before and after. */
async function failureBytes(service: ServiceProcess, schema: string, body: Uint8Array) {
  const sql = sqlFor(schema);
  try {
    const size = async () =>
      Number((await sql`select pg_total_relation_size('batch_failures') as size`)[0].size);
    const before = await size();
    const answer = await batch(service, body);
    return { answer, bytesAdded: (await size()) - before };
  } finally {
    await sql.end();
  }
}

const simple = (
  [name, input, expect]: [string, string, RegExp],
  send: (service: ServiceProcess) => Promise<string>,
): MemoryCase => ({
  name,
  input,
  expect,
  run: () => probe({}, async (service) => ({ answer: await send(service) })),
});

/** Answers that refuse without a 500: a 4xx, or a 207 with the item refused. */
const REFUSED = /^(4\d\d|207)\b/;
/** The console answers its page (200) with the refused row and its code, or refuses the upload. */
const CONSOLE_REFUSED = /^(200 VALIDATION_FAILED|4\d\d)\b/;

/** Cases 1 to 4, 6 and 7 (case 5, the outage, is in memory_outage.ts). */
export function hostileCases(): MemoryCase[] {
  return [
    simple(
      ["1a", "console sign-in, 12 MB form", /^413\b/],
      (s) => signInPost(s, signInForm(12e6)),
    ),
    simple(["1b", "console sign-in, 2 MB form", /^413\b/], (s) => signInPost(s, signInForm(2e6))),
    {
      name: "1c",
      input:
        `console sign-in form that stops arriving (BATCH_READ_TIMEOUT_MS=${TRICKLE_DEADLINE_MS})`,
      expect: /^(408|413)\b|^closed/,
      run: () => probe({ BATCH_READ_TIMEOUT_MS: String(TRICKLE_DEADLINE_MS) }, trickle),
    },
    simple(
      ["2a", "JUnit, 1.5 M empty elements (6 MB)", /^(400|413)\b/],
      (s) => report(s, junitEmptyElements(1.5e6)),
    ),
    simple(
      ["2b", "JUnit, genuine, 8 MB system-out", /^20[01]\b/],
      (s) => report(s, junitLargeSystemOut(8e6)),
    ),
    simple(
      ["2c", "JUnit, one 5 MB attribute", /^(400|413)\b/],
      (s) => report(s, junitLargeAttribute(5e6)),
    ),
    simple(
      ["3", "batch, one item, 4 M `{}` in attributes (12 MB)", /^(413|422)\b/],
      (s) => batch(s, oneItemManyValues(4e6)),
    ),
    simple(
      ["4", "console upload, 15 MB JSON of 5 M `{}`", /^413\b/],
      (s) => upload(s, jsonEmptyRows(5e6), "rows.json", "json"),
    ),
    {
      name: "6",
      input: "batch, 1 valid + 9,999 `{}` (30 kB)",
      expect: /^207\b/,
      run: () => {
        let bytesAdded = 0;
        const body = oneValidManyEmpty(9_999);
        return probe({}, async (service, schema) => {
          const result = await failureBytes(service, schema, body);
          bytesAdded = result.bytesAdded;
          return { answer: result.answer };
          // The record is bounded by a setting, not by the request: at most BATCH_FAILURES_KEPT
          // (1,000 by default) failure rows of about 400 bytes each, index included.
        }).then((finding) => ({ ...finding, bytesAdded, bytesLimit: 1000 * 512 }));
      },
    },
    simple(
      ["7a", "console upload, JSON nested 10,000 deep", CONSOLE_REFUSED],
      (s) => upload(s, jsonNested(10_000), "deep.json", "json"),
    ),
    simple(["7b", 'JUnit time="9e15" (API)', REFUSED], (s) => report(s, JUNIT_HUGE_TIME)),
    simple(
      ["7c", 'JUnit time="9e15" (console upload)', CONSOLE_REFUSED],
      (s) => upload(s, new TextEncoder().encode(JUNIT_HUGE_TIME), "t.xml", "junit"),
    ),
  ];
}
