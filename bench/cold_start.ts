// Cold start: process start to the first answered batch, with a server database and Kafka, as a
// serverless platform starts an instance for the request that woke it. Medians of several runs.
import { parseArgs } from "node:util";
import {
  createTopic,
  DATABASE_URL,
  deleteTopic,
  dropSchema,
  executions,
  freePort,
  KAFKA_BROKERS,
  uniqueName,
} from "../tests/_helpers.ts";
import { median, ms, table } from "./stats.ts";

const ENTRY = new URL("../src/main.ts", import.meta.url).pathname;
/** A server that does nothing: what the runtime alone costs to start and answer. */
const HELLO =
  `Deno.serve({ port: Number(Deno.env.get("PORT")), onListen() {} }, () => new Response("ok"));`;

/** Options of a cold-start measurement. */
export interface ColdStartOptions {
  /** Measured runs (after one warm-up run that also applies the migrations). @default 7 */
  runs: number;
  /** The Deno binary. @default the one running this script */
  deno?: string;
  /** More environment for the service, such as PUBLISH_IN_WORKER=false. @default {} */
  env?: Record<string, string>;
}

/** One start: when the port answered, when the first batch was answered, in ms since spawn. */
interface Start {
  listening: number;
  answered: number;
}

/** Spawns `args` with `env`, waits for its port, posts `body` until a 2xx answer; kills the process. */
async function startOnce(deno: string, args: string[], env: Record<string, string>, body?: string) {
  const port = freePort();
  const began = performance.now();
  const child = new Deno.Command(deno, {
    args,
    env: { ...env, HOST: "127.0.0.1", PORT: String(port) },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let listening = NaN;
  try {
    while (Number.isNaN(listening) && performance.now() - began < 30_000) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        listening = performance.now() - began;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    while (performance.now() - began < 30_000) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/v1/executions/batch`, {
          method: body ? "POST" : "GET",
          headers: { "content-type": "application/json" },
          body,
        });
        await response.body?.cancel();
        if (response.ok) return { listening, answered: performance.now() - began };
        throw new Error(`the batch was answered ${response.status}`);
      } catch (error) {
        // A connection cut while the port's first server gave way: try again.
        if (!(error instanceof TypeError)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    throw new Error("no answer within 30 s");
  } finally {
    child.kill("SIGKILL");
    const { stderr } = await child.output().catch(() => ({ stderr: new Uint8Array() }));
    if (stderr.length && Deno.env.get("COLD_START_VERBOSE")) {
      console.error(new TextDecoder().decode(stderr));
    }
  }
}

/** Measures the service's cold start and, for scale, a do-nothing Deno server's. */
export async function measureColdStart(options: ColdStartOptions) {
  const deno = options.deno ?? Deno.execPath();
  const schema = uniqueName("cold");
  const topic = uniqueName("cold");
  await createTopic(topic, 3);
  const env = {
    DATABASE_URL,
    DB_SCHEMA: schema,
    KAFKA_BROKERS: KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topic,
    LOG_LEVEL: "warn",
    ...options.env,
  };
  const body = () => JSON.stringify({ executions: executions(10) });
  try {
    const warmUp = await startOnce(deno, ["run", "-A", ENTRY], env, body());
    const service: Start[] = [];
    const hello: Start[] = [];
    for (let i = 0; i < options.runs; i++) {
      service.push(await startOnce(deno, ["run", "-A", ENTRY], env, body()));
      hello.push(await startOnce(deno, ["eval", HELLO], { PORT: "" }));
    }
    return {
      deno: (await new Deno.Command(deno, { args: ["--version"] }).output()).stdout,
      env: options.env ?? {},
      warmUp,
      service,
      hello,
    };
  } finally {
    await dropSchema(schema);
    await deleteTopic(topic, { ignoreFailure: true });
  }
}

/** The measurement as text: per-run figures and medians. */
export function formatColdStart(result: Awaited<ReturnType<typeof measureColdStart>>): string {
  const version = new TextDecoder().decode(result.deno).split("\n")[0];
  const med = (starts: Start[], key: keyof Start) => ms(median(starts.map((s) => s[key])));
  return [
    `cold start, ${version}, ${result.service.length} runs` +
    (Object.keys(result.env).length ? `, ${JSON.stringify(result.env)}` : ""),
    `  warm-up run (migrations, code cache): first batch answered after ${
      ms(result.warmUp.answered)
    }`,
    table(["", "port answers (median)", "first batch answered (median)", "all runs (answered)"], [
      [
        "execution-ingest",
        med(result.service, "listening"),
        med(result.service, "answered"),
        result.service.map((s) => Math.round(s.answered)).join(", "),
      ],
      [
        "do-nothing Deno.serve",
        med(result.hello, "listening"),
        med(result.hello, "answered"),
        result.hello.map((s) => Math.round(s.answered)).join(", "),
      ],
    ]),
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "7" },
      deno: { type: "string" },
      env: { type: "string", multiple: true, default: [] },
      json: { type: "boolean", default: false },
    },
  });
  const env = Object.fromEntries(values.env.map((pair) => {
    const at = pair.indexOf("=");
    return [pair.slice(0, at), pair.slice(at + 1)];
  }));
  const result = await measureColdStart({ runs: Number(values.runs), deno: values.deno, env });
  console.log(values.json ? JSON.stringify(result) : formatColdStart(result));
}
