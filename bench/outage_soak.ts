// The Kafka outage soak (issue 21): the service at the start task's heap flags takes continuous
// 15 MB batches of large valid executions while the broker is stopped, for minutes; then the
// broker comes back and every stored event must be on the topic exactly once. Its RSS is printed
// every tick. Optionally a restart with a large backlog follows. The same code as
// tests/publish/outage_memory_test.ts, which runs it short.
//
//   deno task soak:outage [--minutes 10] [--backlog 50000] [--tick-seconds 10] [--no-read-back]
//     [--env NAME=VALUE ...]
//
// It stops and starts the broker that scripts/kafka.sh runs under KAFKA_HOME and KAFKA_PORT, and
// refuses a KAFKA_BROKERS that names another: give it a broker of its own.
import { parseArgs } from "node:util";
import { runBacklogRestart, runOutage } from "../tests/publish/_outage_rig.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      minutes: { type: "string", default: "10" },
      backlog: { type: "string", default: "0" },
      "tick-seconds": { type: "string", default: "10" },
      "no-read-back": { type: "boolean", default: false },
      env: { type: "string", multiple: true, default: [] },
    },
  });
  const env = Object.fromEntries(values.env.map((pair) => {
    const at = pair.indexOf("=");
    return [pair.slice(0, at), pair.slice(at + 1)];
  }));
  const minutes = Number(values.minutes), backlog = Number(values.backlog);
  const options = {
    tickMs: Number(values["tick-seconds"]) * 1000,
    log: (line: string) => console.log(`  ${line}`),
    readBack: !values["no-read-back"],
    drainTimeoutMs: 3_600_000,
    env,
  };
  let failed = false;
  if (minutes > 0) {
    console.log(`Outage soak: broker stopped for ${minutes} min under continuous 15 MB batches`);
    try {
      const r = await runOutage({ batches: Infinity, seconds: minutes * 60 }, options);
      const lost = r.missing ?? "not read back";
      console.log(
        `  batches ${r.posted} (answers ${JSON.stringify(r.answers)}), stored ${r.stored}, ` +
          `on the topic ${r.onTopic}, stored but missing ${lost}, peak RSS ${r.peakRssMb} MB`,
      );
      failed ||= r.onTopic !== r.stored || (r.missing ?? 0) > 0;
    } catch (error) {
      failed = true;
      console.log(`  FAILED: ${(error as Error).message}`);
    }
  }
  if (backlog > 0) {
    console.log(`Restart with ${backlog} large events pending, the broker stopped for 30 s`);
    try {
      const r = await runBacklogRestart({ events: backlog, downSeconds: 30 }, options);
      console.log(
        `  ${r.notes.join("; ")}; on the topic ${r.onTopic}, ` +
          `stored but missing ${r.missing ?? "not read back"}, peak RSS ${r.peakRssMb} MB`,
      );
      failed ||= r.onTopic !== backlog || (r.missing ?? 0) > 0;
    } catch (error) {
      failed = true;
      console.log(`  FAILED: ${(error as Error).message}`);
    }
  }
  if (failed) Deno.exit(1);
}
