// Deno Deploy, played locally: instances of the deno.json `deploy` entry point run with the platform's
// permissions (--allow-all, no other flag), its variables and its injected listen address, each
// started only when a request (or a cron run) finds none running, and stopped by a signal.
import denoConfig from "../../deno.json" with { type: "json" };
import { collectLines, freePort } from "../_helpers.ts";

const ROOT = new URL("../../", import.meta.url);
/** The entry point Deno Deploy runs, as deno.json's `deploy` section names it. */
export const DEPLOY_ENTRY = new URL(denoConfig.deploy.runtime.entrypoint, ROOT).pathname;

/** The path of the oldest Deno the README claims, installed on first use (scripts/oldest_deno.sh). */
export async function oldestDeno(): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("bash", {
    args: [new URL("scripts/oldest_deno.sh", ROOT).pathname],
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
  if (code !== 0) throw new Error(`cannot install the oldest Deno:\n${text(stderr)}`);
  return text(stdout);
}

/** `deno --version`'s first line, such as "deno 2.5.0 (stable, release, x86_64-unknown-linux-gnu)". */
export async function denoVersion(deno: string): Promise<string> {
  const { stdout } = await new Deno.Command(deno, { args: ["--version"] }).output();
  return new TextDecoder().decode(stdout).split("\n")[0];
}

/** How an instance ended. */
export interface Ended {
  signal: Deno.Signal;
  code: number;
  /** Milliseconds from the signal to the end of the process. */
  ms: number;
}

/** A running instance. */
export interface Instance {
  name: string;
  url: string;
  /** Everything it wrote, one line per entry. */
  lines: string[];
  /** Milliseconds from spawn to its port accepting connections. */
  startMs: number;
  stop(signal: Deno.Signal): Promise<Ended>;
}

/**
 * Spawns one instance and waits until its port accepts connections, as Deploy waits for the HTTP
 * server before it routes the request. Deploy injects the address in DENO_SERVE_ADDRESS, which
 * Deno.serve honours over the HOST and PORT the service asks for.
 */
export async function startInstance(
  deno: string,
  name: string,
  env: Record<string, string>,
): Promise<Instance> {
  const port = freePort();
  const began = performance.now();
  const child = new Deno.Command(deno, {
    args: ["run", "--allow-all", DEPLOY_ENTRY],
    cwd: ROOT.pathname,
    env: { ...env, DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}` },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const { lines, done: pumps } = collectLines(child);
  let exited = false;
  const status = child.status.then((s) => (exited = true, s));
  for (;;) {
    if (exited) throw new Error(`${name} exited during start-up:\n${lines.join("\n")}`);
    if (performance.now() - began > 30_000) {
      child.kill("SIGKILL");
      await status;
      throw new Error(`${name} did not listen within 30 s:\n${lines.join("\n")}`);
    }
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    lines,
    startMs: performance.now() - began,
    async stop(signal) {
      const sent = performance.now();
      child.kill(signal);
      const { code } = await status;
      await pumps;
      return { signal, code, ms: performance.now() - sent };
    },
  };
}

/** Log lines with this message, parsed. */
export function logged(instance: Instance, message: string): Record<string, unknown>[] {
  return instance.lines.filter((line) => line.includes(`"msg":"${message}`)).map((line) =>
    JSON.parse(line)
  );
}
