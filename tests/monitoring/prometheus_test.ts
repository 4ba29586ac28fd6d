// A real Prometheus scrapes the real service while batches go through: every query of the dashboard
// and the rules returns data, and the alerts that should fire do, and only those.
import assert from "node:assert/strict";
import {
  createTopic,
  eventually,
  execution,
  executions,
  KAFKA_BROKERS,
  postBatch,
  startTestService,
  uniqueName,
} from "../_helpers.ts";
import {
  dashboardQueries,
  expandQuery,
  loadDashboard,
  OPERATOR_SERIES,
  RULES_FILE,
  seriesNames,
} from "./deploy_files.ts";
import { type PrometheusServer, startPrometheus } from "./prometheus_server.ts";

const JOB = "execution-ingest";

/** The shipped rules with every `for:` set to 0s, so an alert whose expression holds fires at once. */
async function rulesFiringAtOnce(): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "execution-ingest-alerts-", suffix: ".yml" });
  const rules = await Deno.readTextFile(RULES_FILE);
  await Deno.writeTextFile(path, rules.replace(/^(\s+)for: \S+$/gm, "$1for: 0s"));
  return path;
}

async function value(prometheus: PrometheusServer, expr: string): Promise<number> {
  const samples = await prometheus.query(expr);
  return samples.length ? samples[0].value : NaN;
}

/** Sends batches side by side until `wanted` were refused with SERVICE_SATURATED. */
async function saturate(url: string, wanted: number): Promise<{ refused: number; stored: number }> {
  let refused = 0;
  let stored = 0;
  for (let round = 0; round < 50 && refused < wanted; round++) {
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => postBatch(url, executions(20))),
    );
    for (const response of responses) {
      const body = await response.json();
      if (response.status === 503) {
        assert.equal(body.error.code, "SERVICE_SATURATED");
        refused++;
      } else {
        assert.equal(response.status, 200);
        stored += body.created;
      }
    }
  }
  assert.ok(refused >= wanted, `only ${refused} batches were refused`);
  return { refused, stored };
}

Deno.test("a real Prometheus scraping the service gets data for every dashboard and rule query, and fires the right alerts", async () => {
  const topic = uniqueName("executions");
  await createTopic(topic, 1);
  // One batch at a time and no queue, so that batches sent side by side are refused as saturated.
  const service = await startTestService({
    KAFKA_BROKERS: KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topic,
    BATCH_MAX_CONCURRENT: "1",
    BATCH_QUEUE_MAX: "0",
  });
  const rulesFile = await rulesFiringAtOnce();
  let prometheus: PrometheusServer | undefined;
  try {
    prometheus = await startPrometheus({
      target: new URL(service.url).host,
      job: JOB,
      ruleFiles: [rulesFile],
    });
    const p = prometheus;

    // A first scrape succeeds before any batch; Kafka is not known yet, exported as NaN.
    await eventually(async () => (await p.query(`up{job="${JOB}"} == 1`)).length === 1, 20_000);
    const [target] = await p.targets();
    assert.equal(target.health, "up", target.lastError);
    assert.ok(Number.isNaN(await value(p, "execution_ingest_kafka_up")));
    assert.equal(
      await value(p, 'execution_ingest_executions_failed_total{code="STORAGE_UNAVAILABLE"}'),
      0,
    );

    // Two rounds, each seen by a scrape, so that every rate has two different samples.
    let received = 0;
    let created = 0;
    for (let round = 0; round < 2; round++) {
      const mixed = executions(40).map((item, i) =>
        i % 2 === 0 ? execution(i, { status: "NOPE" }) : item
      );
      const answers = [
        await postBatch(service.url, mixed),
        await postBatch(service.url, executions(60)),
      ];
      assert.deepEqual(answers.map((answer) => answer.status), [207, 200]);
      for (const answer of answers) created += (await answer.json()).created;
      received += 100;
      await eventually(
        async () => await value(p, "execution_ingest_executions_received_total") >= received,
        20_000,
      );
    }
    const { refused, stored } = await saturate(service.url, 6);
    created += stored;
    // Every stored execution is published, and Prometheus has seen it.
    await eventually(
      async () =>
        await value(p, "execution_ingest_kafka_events_published_total") >= created &&
        await value(p, 'execution_ingest_http_errors_total{code="SERVICE_SATURATED"}') >= refused,
      30_000,
    );

    // 40 of the items failed (well over 5 %) and at least 6 batches were refused: those two alerts
    // fire; the others (Kafka up, nothing slow, no backlog, no dead letters, no 503 from storage,
    // no batch expectation recorded) do not.
    const firing = async () =>
      (await p.alerts()).filter((alert) => alert.state === "firing")
        .map((alert) => alert.labels.alertname).sort();
    const expected = ["ExecutionIngestHighFailureShare", "ExecutionIngestSaturated"];
    const firesAsExpected = async () => JSON.stringify(await firing()) === JSON.stringify(expected);
    // On a timeout the assertion below names the alerts that did fire.
    await eventually(firesAsExpected, 20_000).catch(() => {});
    assert.deepEqual(await firing(), expected);
    assert.equal(await value(p, "execution_ingest_kafka_up"), 1);

    const rules = await p.rules();
    assert.ok(rules.length >= 20, `${rules.length} rules loaded`);
    for (const rule of rules) {
      assert.equal(rule.health, "ok", `${rule.name}: ${rule.lastError}`);
    }
    // Every series a rule reads or records has a finite sample.
    const names = new Set(rules.flatMap((rule) => [...seriesNames(rule.query), rule.name]));
    names.delete(OPERATOR_SERIES);
    for (const name of names) {
      if (!name.includes("execution_ingest")) continue;
      const samples = await p.query(`${name}{job="${JOB}"}`);
      assert.ok(
        samples.some((s) => Number.isFinite(s.value)),
        `${name}: ${JSON.stringify(samples)}`,
      );
    }
    // Every panel query, as Grafana sends it, returns a finite sample.
    for (const { title, expr } of dashboardQueries(await loadDashboard())) {
      const samples = await p.query(expandQuery(expr, JOB));
      assert.ok(
        samples.some((s) => Number.isFinite(s.value)),
        `"${title}": ${expr} gave ${JSON.stringify(samples)}`,
      );
    }
    assert.deepEqual(await firing(), expected);
  } finally {
    await prometheus?.stop();
    await Deno.remove(rulesFile);
    await service.close();
  }
});
