// The shipped monitoring files (rules, rule tests, dashboard) and the queries they hold.

/** deploy/prometheus/alerts.yml. */
export const RULES_FILE = new URL("../../deploy/prometheus/alerts.yml", import.meta.url).pathname;
/** deploy/prometheus/alerts_test.yml. */
export const RULES_TEST_FILE =
  new URL("../../deploy/prometheus/alerts_test.yml", import.meta.url).pathname;
/** deploy/grafana/execution-ingest.json. */
export const DASHBOARD_FILE =
  new URL("../../deploy/grafana/execution-ingest.json", import.meta.url).pathname;

/** The series an operator records to switch on ExecutionIngestNoBatches; the service never does. */
export const OPERATOR_SERIES = "job:execution_ingest_batches_expected";

/** The parts of a Grafana panel the tests look at. */
export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { expr: string; refId: string; datasource?: { type: string; uid: string } }[];
}

/** The parts of the dashboard the tests look at. */
export interface Dashboard {
  id: null | number;
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: {
    list: {
      name: string;
      type: string;
      query: unknown;
      datasource?: { uid: string };
      allValue?: string;
    }[];
  };
}

/** The dashboard as shipped. */
export async function loadDashboard(): Promise<Dashboard> {
  return JSON.parse(await Deno.readTextFile(DASHBOARD_FILE));
}

/** Every panel query with its panel's title. */
export function dashboardQueries(dashboard: Dashboard): { title: string; expr: string }[] {
  return dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ title: panel.title, expr: target.expr }))
  );
}

/**
 * A panel query as Grafana sends it: `$job` as chosen, `$instance` as "All" (its allValue), and
 * `$__rate_interval` as `window`.
 */
export function expandQuery(expr: string, job: string, window = "1m"): string {
  return expr
    .replaceAll("$__rate_interval", window)
    .replaceAll("$instance", ".*")
    .replaceAll("$job", job);
}

/** The names of the series an expression reads (raw and recorded), in first-seen order. */
export function seriesNames(expr: string): string[] {
  const names = expr.match(/\b(?:job(?:_code)?:)?execution_ingest_[a-z0-9_]+(?::[a-z0-9_]+)?/g);
  return [...new Set(names ?? [])];
}
