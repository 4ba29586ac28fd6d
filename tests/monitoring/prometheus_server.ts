// A real Prometheus server for the monitoring tests: its own port, config and data dir, stopped after.
import { freePort } from "../_helpers.ts";

/** The Prometheus binary (Debian's package puts it on the PATH; scripts/prometheus.sh installs it). */
export const PROMETHEUS_BIN = "prometheus";
/** promtool, from the same package. */
export const PROMTOOL_BIN = "promtool";

/** One sample of an instant query. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** An alert as /api/v1/alerts reports it. */
export interface ActiveAlert {
  labels: Record<string, string>;
  state: "pending" | "firing";
}

/** A rule as /api/v1/rules reports it. */
export interface LoadedRule {
  name: string;
  query: string;
  type: "recording" | "alerting";
  health: string;
  lastError?: string;
}

/** Options of startPrometheus. */
export interface PrometheusOptions {
  /** `host:port` of the service to scrape. */
  target: string;
  /** The scrape job's name (the `job` label). */
  job: string;
  /** Rule files to load, absolute paths. */
  ruleFiles: string[];
  /** Scrape and rule evaluation interval. @default "1s" */
  interval?: string;
}

/** Runs `promtool` with `args`; returns its exit code and its output, both streams together. */
export async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  const result = await new Deno.Command(PROMTOOL_BIN, { args, stdout: "piped", stderr: "piped" })
    .output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: result.code, output: decode(result.stdout) + decode(result.stderr) };
}

/** Starts Prometheus scraping one target; resolves once it answers /-/ready. */
export async function startPrometheus(options: PrometheusOptions) {
  const interval = options.interval ?? "1s";
  const dir = await Deno.makeTempDir({ prefix: "execution-ingest-prometheus-" });
  const port = freePort();
  // JSON is YAML, so the config needs no YAML writer.
  await Deno.writeTextFile(
    `${dir}/prometheus.yml`,
    JSON.stringify({
      global: { scrape_interval: interval, evaluation_interval: interval },
      rule_files: options.ruleFiles,
      scrape_configs: [{
        job_name: options.job,
        static_configs: [{ targets: [options.target] }],
      }],
    }),
  );
  const child = new Deno.Command(PROMETHEUS_BIN, {
    args: [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const pump = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) log.push(chunk);
  })();
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  child.status.then(() => exited = true);

  async function api<T>(path: string): Promise<T> {
    const response = await fetch(`${url}${path}`);
    const body = await response.json();
    if (body.status !== "success") {
      throw new Error(`Prometheus ${path} answered ${response.status}: ${JSON.stringify(body)}`);
    }
    return body.data;
  }

  const stop = async () => {
    if (!exited) child.kill("SIGTERM");
    await child.status;
    await pump;
    await Deno.remove(dir, { recursive: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`Prometheus did not become ready:\n${log.join("")}`);
    }
    const ready = await fetch(`${url}/-/ready`).then((r) => (r.body?.cancel(), r.ok), () => false);
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url,
    /** What Prometheus wrote to stderr. */
    log,
    /** An instant query's samples. */
    async query(expr: string): Promise<Sample[]> {
      const data = await api<
        { result: { metric: Record<string, string>; value: [number, string] }[] }
      >(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    /** Alerts pending or firing now. */
    async alerts(): Promise<ActiveAlert[]> {
      return (await api<{ alerts: ActiveAlert[] }>("/api/v1/alerts")).alerts;
    },
    /** Every loaded rule with its health. */
    async rules(): Promise<LoadedRule[]> {
      const data = await api<{ groups: { rules: LoadedRule[] }[] }>("/api/v1/rules");
      return data.groups.flatMap((group) => group.rules);
    },
    /** Scrape targets with their health and last error. */
    async targets(): Promise<{ health: string; lastError: string; scrapeUrl: string }[]> {
      return (await api<
        { activeTargets: { health: string; lastError: string; scrapeUrl: string }[] }
      >(
        "/api/v1/targets",
      )).activeTargets;
    },
    stop,
  };
}

/** A running Prometheus. */
export type PrometheusServer = Awaited<ReturnType<typeof startPrometheus>>;
