// A service process under a hostile input: its peak resident memory, whether it lived, and the
// answer a request got, for the memory tier and the budget measurement.
import { DATABASE_URL, dropSchema, uniqueName } from "../tests/_helpers.ts";
import {
  readPeakRss,
  readRss,
  type ServiceProcess,
  type ServiceProcessOptions,
  startServiceProcess,
} from "./service_process.ts";

/** A user key the tier starts every service with (the console's sign-in needs one). */
export const USER_KEY = "memory-tier-user-key-0123456789";
const SESSION_SECRET = "memory-tier-session-secret-of-32-characters";
const SAMPLE_EVERY_MS = 50;
/** How long a process is watched after its answer: V8 may die after the response went out. */
const AFTERLIFE_MS = 1500;

/** The peak of VmRSS and VmHWM (the kernel's own high-water mark) of a process, in bytes; 0 once gone. */
export function readPeak(pid: number): number {
  return Math.max(readRss(pid) || 0, readPeakRss(pid) || 0);
}

/**
 * Samples a process's peak every 50 ms. VmHWM keeps the true peak between samples, so only the
 * moments after the last sample before a death are lost.
 */
export function watchPeak(pid: number) {
  let peak = readPeak(pid);
  const timer = setInterval(() => peak = Math.max(peak, readPeak(pid)), SAMPLE_EVERY_MS);
  return {
    get peak() {
      return Math.max(peak, readPeak(pid));
    },
    stop(): number {
      clearInterval(timer);
      peak = Math.max(peak, readPeak(pid));
      return peak;
    },
  };
}

/** The service started the way the tier starts it: the start task's V8 flags, a user key, `env`. */
export async function startTierService(
  schema: string,
  env: Record<string, string> = {},
  options: ServiceProcessOptions = {},
): Promise<ServiceProcess> {
  const service = await startServiceProcess({
    DATABASE_URL,
    DB_SCHEMA: schema,
    API_KEYS: USER_KEY,
    CONSOLE_SESSION_SECRET: SESSION_SECRET,
    KAFKA_BROKERS: "",
    ...env,
  }, options);
  // The pid sampled must be the Deno process that serves, not a wrapper that started it.
  const command = Deno.readTextFileSync(`/proc/${service.pid}/cmdline`).split("\0");
  if (!command.some((arg) => arg.endsWith("src/main.ts"))) {
    await service.stop();
    throw new Error(`pid ${service.pid} is not the service: ${command.join(" ")}`);
  }
  return service;
}

/** What one run of a case found. */
export interface Finding {
  /** Status and error code of each answer, or how the request ended without one. */
  answer: string;
  survived: boolean;
  peakBytes: number;
  note: string;
}

/** Runs `work` against a fresh service in a fresh schema; stops it and drops the schema after. */
export async function probe(
  env: Record<string, string>,
  work: (service: ServiceProcess, schema: string) => Promise<{ answer: string; note?: string }>,
): Promise<Finding> {
  const schema = uniqueName("mem");
  const service = await startTierService(schema, env);
  const watch = watchPeak(service.pid);
  try {
    const { answer, note } = await work(service, schema);
    const survived = await stillServing(service);
    return { answer, survived, peakBytes: watch.stop(), note: note ?? deathNote(service) };
  } finally {
    watch.stop();
    await service.stop();
    await dropSchema(schema);
  }
}

/** True when the process is alive a moment after its answer and still answers /healthz. */
export async function stillServing(service: ServiceProcess): Promise<boolean> {
  const until = performance.now() + AFTERLIFE_MS;
  while (performance.now() < until && !service.exitedEarly) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (service.exitedEarly) return false;
  try {
    const response = await fetch(`${service.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** Why the process ended, from its last lines (V8's out-of-memory line), when it did. */
export function deathNote(service: ServiceProcess): string {
  if (!service.exitedEarly) return "";
  const fatal = service.tail.find((line) => /out of memory|Fatal|RangeError/i.test(line));
  return `exit ${service.exitedEarly.code}${fatal ? `: ${fatal.trim().slice(0, 80)}` : ""}`;
}

/** The status and error code of an answer, or how the request ended without one. */
export async function answerOf(request: Promise<Response>): Promise<string> {
  try {
    const response = await request;
    const text = await response.text();
    let code: string | undefined;
    try {
      code = JSON.parse(text).error?.code;
    } catch {
      // The console answers in HTML: its error pages name the code.
      code = /\b[A-Z]{2,}(?:_[A-Z]+)+\b/.exec(text)?.[0];
    }
    return `${response.status}${code ? ` ${code}` : ""}`;
  } catch (error) {
    return `no answer (${error instanceof Error ? error.name : "error"})`;
  }
}

/** Counts equal answers: "201 ×8, no answer (TypeError) ×1". */
export function tally(answers: string[]): string {
  const counts = new Map<string, number>();
  for (const answer of answers) counts.set(answer, (counts.get(answer) ?? 0) + 1);
  return [...counts].map(([answer, n]) => `${answer} ×${n}`).join(", ");
}

/** Bytes as MB with one decimal. */
export const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
