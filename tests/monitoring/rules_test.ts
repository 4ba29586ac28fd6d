// The shipped rules and dashboard, checked with promtool and read as Grafana would import them.
import assert from "node:assert/strict";
import { createMetrics } from "../../src/metrics/metrics.ts";
import {
  type Dashboard,
  dashboardQueries,
  loadDashboard,
  OPERATOR_SERIES,
  RULES_FILE,
  RULES_TEST_FILE,
  seriesNames,
} from "./deploy_files.ts";
import { promtool } from "./prometheus_server.ts";

Deno.test("promtool check rules finds the shipped rules file valid", async () => {
  const { code, output } = await promtool("check", "rules", RULES_FILE);
  assert.equal(code, 0, output);
  assert.match(output, /SUCCESS: \d+ rules found/);
});

Deno.test("promtool test rules passes every unit test of the alerts, firing and silent", async () => {
  const { code, output } = await promtool("test", "rules", RULES_TEST_FILE);
  assert.equal(code, 0, output);
  assert.match(output, /SUCCESS/);
});

Deno.test("every alert in the rules file has a test that fires it and a test that keeps it silent", async () => {
  const rules = await Deno.readTextFile(RULES_FILE);
  const tests = await Deno.readTextFile(RULES_TEST_FILE);
  const alerts = [...new Set([...rules.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]))];
  assert.ok(alerts.length >= 9, `alerts found: ${alerts}`);
  for (const alert of alerts) {
    // A test case is the alertname line and what follows up to the next case.
    const cases = tests.split(/^\s+- alertname: /m).slice(1).filter((c) => c.startsWith(alert));
    assert.ok(cases.some((c) => /exp_alerts:\s*\n\s+- exp_labels/.test(c)), `${alert} fires`);
    assert.ok(cases.some((c) => /exp_alerts: \[\]/.test(c)), `${alert} stays silent`);
  }
});

Deno.test("every alert has a severity, a for: duration, a summary, a description and a runbook", async () => {
  const rules = await Deno.readTextFile(RULES_FILE);
  const blocks = rules.split(/^\s+- alert: /m).slice(1);
  assert.ok(blocks.length >= 9);
  for (const block of blocks) {
    const name = block.split("\n")[0];
    assert.match(block, /^\s+for: \d+m$/m, `${name} has for:`);
    assert.match(block, /^\s+severity: (warning|critical)$/m, `${name} has a severity`);
    for (const annotation of ["summary", "description", "runbook"]) {
      assert.match(block, new RegExp(`^\\s+${annotation}: \\S`, "m"), `${name} has ${annotation}`);
    }
  }
});

Deno.test("the dashboard imports as it is: a datasource variable, unique ids, queries through the variable", async () => {
  const dashboard: Dashboard = await loadDashboard();
  assert.equal(dashboard.id, null);
  assert.equal(dashboard.uid, "execution-ingest");
  assert.ok(dashboard.schemaVersion >= 36);
  const variables = new Map(dashboard.templating.list.map((v) => [v.name, v]));
  assert.equal(variables.get("datasource")?.type, "datasource");
  assert.equal(variables.get("datasource")?.query, "prometheus");
  assert.equal(variables.get("job")?.datasource?.uid, "${datasource}");
  assert.equal(variables.get("instance")?.allValue, ".*");
  // No `__inputs` placeholders such as ${DS_PROMETHEUS}: those need the import dialog's mapping.
  assert.doesNotMatch(JSON.stringify(dashboard), /\$\{DS_/);
  const ids = dashboard.panels.map((panel) => panel.id);
  assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
  for (const panel of dashboard.panels) {
    assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, `${panel.title} fits the 24 columns`);
    if (panel.type === "row") continue;
    assert.equal(panel.datasource?.uid, "${datasource}", `${panel.title} uses the variable`);
    assert.ok(panel.targets?.length, `${panel.title} has queries`);
    for (const target of panel.targets ?? []) {
      assert.equal(target.datasource?.uid, "${datasource}", `${panel.title} ${target.refId}`);
      assert.ok(
        target.expr.includes('job="$job"'),
        `${panel.title} ${target.refId} filters by job`,
      );
    }
  }
  const titles = dashboard.panels.map((panel) => panel.title);
  for (
    const needed of ["Failed items by code", "Outbox backlog", "Database pool", "Resident memory"]
  ) {
    assert.ok(titles.includes(needed), needed);
  }
});

Deno.test("every series the dashboard and the rules read is exported or recorded, and every recorded one is read", async () => {
  const exported = new Set(
    (await createMetrics({ version: "0.0.0", kafkaClient: "kafkajs" }).registry.getMetricsAsJSON())
      .map((metric) => metric.name),
  );
  const rules = await Deno.readTextFile(RULES_FILE);
  const recorded = new Set([...rules.matchAll(/^\s+- record: (\S+)$/gm)].map((m) => m[1]));
  const expressions = rules.split("\n").filter((line) => !/^\s+- record: /.test(line)).join("\n");
  const read = new Set([
    ...seriesNames(expressions),
    ...dashboardQueries(await loadDashboard()).flatMap((query) => seriesNames(query.expr)),
  ]);
  for (const name of read) {
    if (recorded.has(name) || name === OPERATOR_SERIES) continue;
    const base = name.replace(/_(bucket|count|sum)$/, "");
    assert.ok(exported.has(name) || exported.has(base), `${name} is exported`);
  }
  for (const name of recorded) assert.ok(read.has(name), `${name} is read by an alert or a panel`);
});
