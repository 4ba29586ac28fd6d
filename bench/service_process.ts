// The service as a process of its own for the load test: start, scrape /metrics, sample its RSS, stop.
import { DATABASE_URL } from "../tests/_helpers.ts";

const MAIN = new URL("../src/main.ts", import.meta.url).pathname;
/** The V8 flags `deno task start` runs the service with (heap limits), so the load test measures them. */
export const START_V8_FLAGS: string[] = (() => {
  const config = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  return (config.tasks.start as string).split(" ").filter((arg) => arg.startsWith("--v8-flags="));
})();
/** Lines of the service's output kept for the report (the rest are counted, not kept). */
const KEEP_LINES = 200;

/** Options of startServiceProcess. */
export interface ServiceProcessOptions {
  /**
   * Extra flags for `deno run`, such as `--cpu-prof`; a `--v8-flags=` among them replaces the
   * start task's. @default []
   */
  denoFlags?: string[];
  /** Run with the start task's V8 flags (unless denoFlags has its own); false: none, as on Deno Deploy. @default true */
  startFlags?: boolean;
  /** Milliseconds to wait for the "listening" line. @default 30000 */
  startTimeoutMs?: number;
}

/**
 * Runs `deno run -A src/main.ts` with `env` (PORT=0) and waits for its JSON log line
 * "execution-ingest is listening" to learn the port (logged at info: LOG_LEVEL must let it through).
 */
export async function startServiceProcess(
  env: Record<string, string>,
  options: ServiceProcessOptions = {},
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(options.startFlags === false ||
          options.denoFlags?.some((flag) => flag.startsWith("--v8-flags="))
        ? []
        : START_V8_FLAGS),
      ...(options.denoFlags ?? []),
      MAIN,
    ],
    env: { DATABASE_URL, HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  const counts = { lines: 0, warn: 0, error: 0 };
  let onLine: ((line: string) => void) | undefined;
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      for (const line of parts) {
        counts.lines++;
        if (line.includes('"level":"warn"')) counts.warn++;
        if (line.includes('"level":"error"') || line.includes('"level":"fatal"')) counts.error++;
        tail.push(line);
        if (tail.length > KEEP_LINES) tail.shift();
        onLine?.(line);
      }
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the service did not start:\n${tail.join("\n")}`)),
      options.startTimeoutMs ?? 30_000,
    );
    onLine = (line) => {
      if (!line.includes("execution-ingest is listening")) return;
      clearTimeout(timer);
      resolve(JSON.parse(line).port);
    };
    child.status.then(() => {
      clearTimeout(timer);
      reject(new Error(`the service exited during start-up:\n${tail.join("\n")}`));
    });
  });
  onLine = undefined;
  let stopping = false;
  let exitedEarly: { at: number; code: number } | undefined;
  child.status.then((status) => {
    if (!stopping) exitedEarly = { at: performance.now(), code: status.code };
  });
  return {
    pid: child.pid,
    /** Set when the process ended before stop() was called: when (performance.now()) and how. */
    get exitedEarly() {
      return exitedEarly;
    },
    url: `http://127.0.0.1:${port}`,
    /** The last lines the service wrote. */
    tail,
    counts,
    /** Sends SIGTERM and waits for the process (and its output) to end; returns the exit code. */
    async stop(signal: Deno.Signal = "SIGTERM"): Promise<number> {
      stopping = true;
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
      const status = await child.status;
      await pumps;
      return status.code;
    },
  };
}

/** A running service process. */
export type ServiceProcess = Awaited<ReturnType<typeof startServiceProcess>>;

/** One scrape: series name with its labels (as written) to value. */
export type Scrape = Map<string, number>;

/** Scrapes /metrics; undefined when the service does not answer within 5 s. */
export async function scrapeMetrics(url: string): Promise<Scrape | undefined> {
  try {
    const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    if (!response.ok) return undefined;
    const series: Scrape = new Map();
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#")) continue;
      const space = line.lastIndexOf(" ");
      series.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
    return series;
  } catch {
    return undefined;
  }
}

/**
 * Estimates a quantile of a Prometheus histogram from its cumulative buckets, interpolating
 * linearly inside the bucket that holds it (as histogram_quantile does). Infinity when it lies in
 * the +Inf bucket; NaN when the histogram is empty.
 */
export function histogramQuantile(scrape: Scrape, name: string, q: number): number {
  const buckets: Array<{ le: number; count: number }> = [];
  for (const [key, value] of scrape) {
    const match = key.match(new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\}$`));
    if (match) {
      buckets.push({ le: match[1] === "+Inf" ? Infinity : Number(match[1]), count: value });
    }
  }
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let lower = 0, below = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      if (le === Infinity) return Infinity;
      return lower + (le - lower) * ((rank - below) / Math.max(1, count - below));
    }
    lower = le;
    below = count;
  }
  return Infinity;
}

/** A memory field of /proc/<pid>/status in bytes, or NaN once the process is gone. */
function statusBytes(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = status.match(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m"));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Resident memory of a process in bytes (VmRSS), or NaN once it is gone. */
export const readRss = (pid: number): number => statusBytes(pid, "VmRSS");

/** Peak resident memory of a process in bytes (VmHWM, the kernel's high-water mark), or NaN once it is gone. */
export const readPeakRss = (pid: number): number => statusBytes(pid, "VmHWM");
