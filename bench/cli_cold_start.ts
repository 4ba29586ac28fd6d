// The submit CLI on a cold CI runner: from nothing but a shell, curl and a runtime to the first
// batch answered. Each run is a new folder (a new runner) that downloads GET /cli/submit.mjs from
// the running service and submits a small JUnit report, with Node.js, and with Deno and an empty
// DENO_DIR; medians of several runs, alternating.
//
//   bash scripts/with_services.sh deno run -A bench/cli_cold_start.ts [--runs 7] [--testcases 20]
import { parseArgs } from "node:util";
import { buildCli } from "../scripts/build_cli.ts";
import { dropSchema, uniqueName } from "../tests/_helpers.ts";
import { junitReport } from "../tests/cli/_bundle.ts";
import { startServiceProcess } from "./service_process.ts";
import { median, ms, table } from "./stats.ts";

/** One cold run: ms from spawn to the CLI's first "batch" line, and to its exit. */
interface ColdRun {
  firstBatch: number;
  total: number;
}

/** The command each runtime runs the downloaded file with (the runner's DENO_DIR is empty). */
const RUNTIMES: Record<string, string> = {
  node: "node submit.mjs report.xml --quiet",
  deno: `"${Deno.execPath()}" run -A submit.mjs report.xml --quiet`,
};

/** Runs `command` in a new runner folder holding `report`; times the first batch and the exit. */
async function coldRun(url: string, command: string, report: string): Promise<ColdRun> {
  const runner = await Deno.makeTempDir({ prefix: "cold_runner_" });
  const denoDir = await Deno.makeTempDir({ prefix: "cold_deno_dir_" });
  try {
    await Deno.writeTextFile(`${runner}/report.xml`, report);
    const began = performance.now();
    const child = new Deno.Command("sh", {
      args: ["-ec", `curl -fsS "$EXECUTION_INGEST_URL/cli/submit.mjs" -o submit.mjs && ${command}`],
      cwd: runner,
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "",
        EXECUTION_INGEST_URL: url,
        DENO_DIR: denoDir,
        NO_COLOR: "1",
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let firstBatch = NaN;
    let output = "";
    const stderr = new Response(child.stderr).text();
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      output += chunk;
      if (Number.isNaN(firstBatch) && /^batch /m.test(output)) {
        firstBatch = performance.now() - began;
      }
    }
    const status = await child.status;
    const total = performance.now() - began;
    if (status.code !== 0 || Number.isNaN(firstBatch)) {
      throw new Error(`the cold run failed (exit ${status.code}):\n${output}\n${await stderr}`);
    }
    await stderr;
    return { firstBatch, total };
  } finally {
    await Deno.remove(runner, { recursive: true });
    await Deno.remove(denoDir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "7" },
      testcases: { type: "string", default: "20" },
    },
  });
  const runs = Number(values.runs);
  const testcases = Number(values.testcases);
  const folder = await Deno.makeTempDir({ prefix: "cli_bundle_" });
  const bundle = `${folder}/submit.mjs`;
  const bytes = await buildCli(bundle);
  const schema = uniqueName("cli_cold");
  const service = await startServiceProcess({
    DB_SCHEMA: schema,
    KAFKA_BROKERS: "",
    CLI_BUNDLE_PATH: bundle,
  });
  const results: Record<string, ColdRun[]> = { node: [], deno: [] };
  try {
    // One warm-up per runtime (the service's first request, the OS's file cache), not counted.
    for (let run = -1; run < runs; run++) {
      for (const [name, command] of Object.entries(RUNTIMES)) {
        const report = junitReport(`Cold${name}${run + 1}`, testcases);
        const measured = await coldRun(service.url, command, report);
        if (run >= 0) results[name].push(measured);
      }
    }
  } finally {
    await service.stop();
    await dropSchema(schema);
    await Deno.remove(folder, { recursive: true });
  }
  console.log(
    `Bundle: ${(bytes / 1024).toFixed(0)} KiB (${bytes} bytes); ${runs} runs each, ` +
      `${testcases} testcases, curl download included; Node.js ${
        new TextDecoder().decode(
          (await new Deno.Command("node", { args: ["--version"] }).output()).stdout,
        )
          .trim()
      }, Deno ${Deno.version.deno} with an empty DENO_DIR\n`,
  );
  console.log(table(
    ["runtime", "first batch (median)", "min", "max", "exit (median)"],
    Object.entries(results).map(([name, list]) => {
      const first = list.map((r) => r.firstBatch);
      return [
        name,
        ms(median(first)),
        ms(Math.min(...first)),
        ms(Math.max(...first)),
        ms(median(list.map((r) => r.total))),
      ];
    }),
  ));
}
