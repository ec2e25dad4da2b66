// Grafana's provisioning files and the stack overview dashboard: the YAML Grafana reads, the dashboard's
// structure and queries, and every query checked by the real promtool.
//
// Snapshots live in test/render/fixtures/grafana/. After an intended change, regenerate them with
//   UPDATE_SNAPSHOTS=1 node --import tsx --test test/render/grafana.test.ts
// and review the diff.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import {
  GRAFANA_DASHBOARDS_DIR,
  PROMETHEUS_DATASOURCE_UID,
  STACK_OVERVIEW_DASHBOARD_UID,
  buildStackOverviewDashboard,
  renderDashboardProvider,
  renderGrafanaDatasources,
  type GrafanaSpec,
} from "../../components/render/grafana";
import { liteLlmDeploymentState } from "../../components/render/alertRules";
import { dashboardQueries, dashboardTargets, GRAFANA_MACRO_STANDINS, GRAFANA_VARIABLE_STANDINS } from "./dashboardQueries";
import { promtoolCheckExpressions, runPrometheusTool, substituteVariables, tempDir } from "../validators/promql";
import { assertMatchesSnapshot } from "../snapshots";

const spec: GrafanaSpec = { environment: "dev", prometheusUrl: "http://prometheus:9090" };

const SNAPSHOT_DIR = path.join(__dirname, "fixtures", "grafana");
/** What the dev stack renders (components/services/operations.ts): Prometheus on its network, 30 s scrapes. */
const devStackSpec: GrafanaSpec = { environment: "dev", prometheusUrl: "http://prometheus:9090", scrapeInterval: "30s" };

describe("Grafana snapshots (the dev stack's files)", () => {
  it("the stack overview dashboard matches its committed snapshot", () => {
    assertMatchesSnapshot(path.join(SNAPSHOT_DIR, "stack-overview.json"), buildStackOverviewDashboard(devStackSpec));
  });

  it("the datasource and dashboard provisioning match their committed snapshots", () => {
    assertMatchesSnapshot(path.join(SNAPSHOT_DIR, "datasources.yaml"), renderGrafanaDatasources(devStackSpec));
    assertMatchesSnapshot(path.join(SNAPSHOT_DIR, "dashboard-provider.yaml"), renderDashboardProvider());
  });
});

interface Target {
  expr: string;
  legendFormat?: string;
  refId: string;
  datasource?: { type?: string; uid?: string };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
  collapsed?: boolean;
}

interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  editable: boolean;
  tags: string[];
  panels: Panel[];
}

const json = buildStackOverviewDashboard(spec);
const board = JSON.parse(json) as Dashboard;
const rows = board.panels.filter((panel) => panel.type === "row");
const panels = board.panels.filter((panel) => panel.type !== "row");

/** The panels between the row titled `title` and the next row. */
function rowPanels(title: string): Panel[] {
  const start = board.panels.findIndex((panel) => panel.type === "row" && panel.title === title);
  assert.notEqual(start, -1, `no row "${title}"`);
  const end = board.panels.findIndex((panel, index) => index > start && panel.type === "row");
  return board.panels.slice(start + 1, end === -1 ? undefined : end);
}

/** The one panel of the row whose title matches, with its queries. */
function panel(row: string, title: RegExp): { panel: Panel; exprs: string[]; legends: string[] } {
  const matches = rowPanels(row).filter((p) => title.test(p.title));
  assert.equal(matches.length, 1, `expected one panel matching ${String(title)} in row "${row}", got ${matches.length}`);
  const found = matches[0];
  const targets = found.targets ?? [];
  return { panel: found, exprs: targets.map((t) => t.expr), legends: targets.map((t) => t.legendFormat ?? "") };
}

describe("stack overview dashboard", () => {
  it("is a Grafana dashboard with a title, a fixed uid and a schema version", () => {
    assert.equal(board.title, "AI platform stack overview (dev)");
    assert.equal(board.uid, STACK_OVERVIEW_DASHBOARD_UID);
    assert.ok(board.uid.length <= 40, "Grafana uids are at most 40 characters");
    assert.equal(typeof board.schemaVersion, "number");
    assert.ok(board.schemaVersion >= 39, `schemaVersion ${board.schemaVersion}`);
    assert.equal(board.editable, false, "provisioned read-only: the code is the only source");
    assert.deepEqual(board.tags, ["ai-platform", "dev"]);
  });

  it("queries the provisioned Prometheus datasource in every panel and every target", () => {
    assert.ok(panels.length >= 15, `only ${panels.length} panels`);
    for (const p of panels) {
      assert.deepEqual(p.datasource, { type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID }, p.title);
      assert.ok((p.targets ?? []).length >= 1, `panel "${p.title}" has no query`);
      for (const t of p.targets ?? []) {
        assert.equal(t.datasource?.uid, PROMETHEUS_DATASOURCE_UID, `${p.title} ${t.refId}`);
        assert.ok(t.expr.trim().length > 0, `${p.title} ${t.refId} has an empty expr`);
      }
      const refIds = (p.targets ?? []).map((t) => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, `${p.title}: duplicate refIds ${refIds.join(",")}`);
    }
  });

  it("gives every panel a unique id and a place on the 24-column grid", () => {
    const ids = board.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `duplicate panel ids: ${ids.join(",")}`);
    for (const p of board.panels) {
      assert.ok(p.id > 0, `${p.title} has id ${p.id}`);
      assert.ok(p.gridPos.x >= 0 && p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title} ${JSON.stringify(p.gridPos)}`);
    }
    const titles = board.panels.map((p) => p.title);
    assert.equal(new Set(titles).size, titles.length, "panel titles are unique");
  });

  it("groups the panels in expanded rows, which Grafana shows only when the panels follow the row", () => {
    assert.deepEqual(
      rows.map((r) => r.title),
      ["LiteLLM", "Model deployments", "Qdrant", "Service health", "Nodes", "Containers", "Backups"],
    );
    for (const r of rows) {
      assert.equal(r.collapsed, false, r.title);
      assert.deepEqual(r.panels, [], `row "${r.title}" must not nest panels while expanded`);
      assert.ok(rowPanels(r.title).length >= 2, `row "${r.title}" has fewer than two panels`);
    }
  });

  it("shows LiteLLM requests, latency, tokens and errors per model", () => {
    const requests = panel("LiteLLM", /requests per second/);
    assert.match(requests.exprs[0], /^sum by \(requested_model\) \(rate\(litellm_proxy_total_requests_metric_total\{job="litellm"\}/);
    assert.deepEqual(requests.legends, ["{{requested_model}}"]);

    const latency = panel("LiteLLM", /latency/);
    assert.equal(latency.exprs.length, 2);
    assert.match(latency.exprs[0], /^histogram_quantile\(0\.5, sum by \(le, requested_model\) \(rate\(litellm_request_total_latency_metric_bucket/);
    assert.match(latency.exprs[1], /^histogram_quantile\(0\.95, sum by \(le, requested_model\) \(rate\(litellm_request_total_latency_metric_bucket/);
    assert.deepEqual(latency.legends, ["{{requested_model}} p50", "{{requested_model}} p95"]);
    assert.equal(latency.panel.type, "timeseries");

    const tokens = panel("LiteLLM", /tokens per second/);
    assert.match(tokens.exprs[0], /sum by \(requested_model\) \(rate\(litellm_total_tokens_metric_total\{job="litellm"\}/);
    assert.match(tokens.exprs[1], /sum by \(requested_model\) \(rate\(litellm_output_tokens_metric_total\{job="litellm"\}/);

    const errors = panel("LiteLLM", /error rate/);
    assert.match(
      errors.exprs[0],
      /^sum by \(requested_model\) \(rate\(litellm_proxy_failed_requests_metric_total.*\) \/ sum by \(requested_model\) \(rate\(litellm_proxy_total_requests_metric_total/,
    );
    assert.deepEqual(errors.legends, ["{{requested_model}}"]);
  });

  it("shows, per deployment of each model (legend model_id), its state, requests, failures, cool-downs and latency", () => {
    const state = panel("Model deployments", /^Deployment state$/);
    assert.equal(state.panel.type, "stat");
    // The state the LiteLLMDeploymentDown alert reads, by model_id alone.
    assert.equal(state.exprs[0], liteLlmDeploymentState("model_id"));
    assert.match(state.exprs[0], /^max by \(model_id\) \(\(litellm_deployment_state\{job="litellm", model_id!=""\} unless on \(instance, model_id, api_base\) litellm_deployment_cooled_down_total/);
    const mappings = (state.panel as unknown as { fieldConfig: { defaults: { mappings: { options: Record<string, { text: string }> }[] } } }).fieldConfig.defaults.mappings;
    assert.deepEqual(
      Object.entries(mappings[0].options).map(([v, r]) => [v, r.text]),
      [["0", "OK"], ["1", "FAILING"], ["2", "COOLED DOWN"]],
    );

    const requests = panel("Model deployments", /requests and failures/);
    assert.deepEqual(requests.exprs, [
      'sum by (model_id) (rate(litellm_deployment_total_requests_total{job="litellm", model_id!=""}[$__rate_interval]))',
      'sum by (model_id) (rate(litellm_deployment_failure_responses_total{job="litellm", model_id!=""}[$__rate_interval]))',
    ]);
    assert.equal(panel("Model deployments", /by status/).exprs[0], 'sum by (model_id, exception_status) (rate(litellm_deployment_failure_responses_total{job="litellm", model_id!=""}[$__rate_interval]))');
    assert.equal(panel("Model deployments", /cool-downs/).exprs[0], 'sum by (model_id, exception_status) (litellm_deployment_cooled_down_total{job="litellm"})');
    assert.match(panel("Model deployments", /latency per output token/).exprs[0], /^histogram_quantile\(0\.95, sum by \(le, model_id\) \(rate\(litellm_deployment_latency_per_output_token_bucket\{job="litellm", model_id!=""\}/);
    for (const p of rowPanels("Model deployments")) {
      for (const legend of p.targets?.map((t) => t.legendFormat ?? "") ?? []) assert.match(legend, /^\{\{model_id\}\}/, `${p.title}: one series per deployment`);
    }
  });

  it("shows Qdrant collections, vectors, request rate and latency", () => {
    assert.match(panel("Qdrant", /collections/).exprs[0], /collections_total\{job="qdrant"\}/);
    assert.match(panel("Qdrant", /vectors/).exprs[0], /collections_vector_total\{job="qdrant"\}/);
    const requests = panel("Qdrant", /requests per second/);
    assert.match(requests.exprs[0], /rate\(rest_responses_total\{job="qdrant"\}/);
    assert.ok(requests.exprs.some((e) => e.includes("grpc_responses_total")), "gRPC requests");
    // Qdrant tells failures by the status label since v1.17.0, which dropped rest_responses_fail_total.
    assert.ok(requests.exprs.includes('sum(rate(rest_responses_total{job="qdrant", status!~"2.."}[$__rate_interval]))'), "REST not 2xx");
    const latency = panel("Qdrant", /latency/);
    assert.deepEqual(
      latency.exprs.map((e) => /^histogram_quantile\((0\.\d+), .*rest_responses_duration_seconds_bucket\{job="qdrant"\}/.exec(e)?.[1]),
      ["0.5", "0.95"],
    );
  });

  it("shows each service's probe and the scrape targets that are up", () => {
    const probes = panel("Service health", /probes/);
    // The probe job and its label as render/prometheus.ts names them.
    assert.equal(probes.exprs[0], 'min by (probe) (probe_success{job="probes"})');
    assert.deepEqual(probes.legends, ["{{probe}}"]);
    assert.match(panel("Service health", /targets up/).exprs[0], /\bup\b/);
  });

  it("shows CPU, memory and disk per node", () => {
    const cpu = panel("Nodes", /CPU/);
    assert.match(cpu.exprs[0], /avg by \(role, instance\) \(rate\(node_cpu_seconds_total\{job="node", mode="idle"\}/);
    const memory = panel("Nodes", /memory/);
    assert.match(memory.exprs[0], /node_memory_MemTotal_bytes\{job="node"\} - node_memory_MemAvailable_bytes\{job="node"\}/);
    assert.match(memory.exprs[1], /^node_memory_MemAvailable_bytes\{job="node"\}$/);
    assert.match(panel("Nodes", /disk used/).exprs[0], /node_filesystem_avail_bytes\{.*\} \/ node_filesystem_size_bytes/);
    assert.match(panel("Nodes", /disk free/).exprs[0], /^node_filesystem_avail_bytes\{job="node", fstype=~"[^"]+"\}$/);
    for (const p of rowPanels("Nodes")) {
      for (const legend of p.targets?.map((t) => t.legendFormat ?? "") ?? []) {
        assert.match(legend, /\{\{role\}\} .*\(\{\{instance\}\}\)/, `${p.title}: one series per node`);
      }
    }
  });

  it("shows CPU, memory against its limit, and restarts per container", () => {
    assert.match(panel("Containers", /CPU/).exprs[0], /sum by \(instance, name\) \(rate\(container_cpu_usage_seconds_total\{job="cadvisor", name!=""\}/);
    const memory = panel("Containers", /working set vs limit/);
    assert.match(memory.exprs[0], /container_memory_working_set_bytes\{job="cadvisor", name!=""\}/);
    assert.match(memory.exprs[1], /container_spec_memory_limit_bytes\{job="cadvisor", name!=""\}\) > 0$/);
    assert.match(panel("Containers", /% of limit/).exprs[0], /working_set_bytes.*\/ \(.*container_spec_memory_limit_bytes/);
    assert.match(panel("Containers", /restarts/).exprs[0], /changes\(container_start_time_seconds\{job="cadvisor", name!=""\}\[1h\]\)/);
    for (const p of rowPanels("Containers")) {
      for (const expr of p.targets?.map((t) => t.expr) ?? []) {
        assert.match(expr, /name!=""/, `${p.title}: containers only, not every cgroup`);
      }
    }
  });

  it("shows, per node and store, the age of the last good backup, the last run and the copies' size", () => {
    const age = panel("Backups", /age of the last good copy/);
    assert.equal(age.exprs[0], 'time() - max by (role, store) (aiplatform_backup_last_success_timestamp_seconds{job="node"})');
    assert.equal(age.panel.type, "stat");
    // Red where the BackupStale alert fires: 26 hours.
    const steps = (age.panel as unknown as { fieldConfig: { defaults: { thresholds: { steps: { value: number | null; color: string }[] } } } }).fieldConfig.defaults.thresholds.steps;
    assert.deepEqual(steps.map((s) => [s.value, s.color]), [[null, "green"], [26 * 3600, "red"]]);
    assert.equal(panel("Backups", /last run/).exprs[0], 'max by (role, store) (aiplatform_backup_last_run_success{job="node"})');
    assert.equal(panel("Backups", /size of each store/).exprs[0], 'max by (role, store) (aiplatform_backup_size_bytes{job="node"})');
    assert.equal(panel("Backups", /new data/).exprs[0], 'max by (role, store) (aiplatform_backup_added_bytes{job="node"})');
    for (const p of rowPanels("Backups")) assert.deepEqual(p.targets?.map((t) => t.legendFormat), ["{{role}} {{store}}"], `${p.title}: one series per node and store`);
  });

  it("is the same text on every run, and only the environment's title and tag differ between environments", () => {
    assert.equal(buildStackOverviewDashboard(spec), json);
    assert.ok(json.endsWith("}\n"));
    const prod = JSON.parse(buildStackOverviewDashboard({ ...spec, environment: "prod" })) as Dashboard;
    assert.equal(prod.title, "AI platform stack overview (prod)");
    assert.deepEqual(prod.tags, ["ai-platform", "prod"]);
    assert.equal(prod.uid, board.uid);
    assert.deepEqual(prod.panels, board.panels);
  });

  it("rejects an environment or a Prometheus URL it cannot use, naming the value", () => {
    assert.throws(() => buildStackOverviewDashboard({ ...spec, environment: "Prod env" }), /environment "Prod env"/);
    assert.throws(() => buildStackOverviewDashboard({ ...spec, environment: "" }), /environment ""/);
    assert.throws(() => renderGrafanaDatasources({ ...spec, prometheusUrl: "prometheus:9090" }), /prometheusUrl "prometheus:9090"/);
    assert.throws(() => renderGrafanaDatasources({ ...spec, scrapeInterval: "15" }), /scrapeInterval "15"/);
  });
});

describe("dashboardQueries", () => {
  it("returns every query of the dashboard in panel order", () => {
    const queries = dashboardQueries(json);
    assert.deepEqual(queries, panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)));
    assert.ok(queries.length >= 20, `${queries.length} queries`);
  });

  it("also reads the panels of collapsed rows", () => {
    const collapsed = JSON.stringify({
      panels: [
        { type: "row", collapsed: true, panels: [{ type: "timeseries", targets: [{ expr: "up" }, { refId: "B" }] }] },
        { type: "stat", targets: [{ expr: "vector(1)" }] },
      ],
    });
    assert.deepEqual(dashboardQueries(collapsed), ["up", "vector(1)"]);
  });

  it("are all PromQL that the real promtool accepts", () => {
    const queries = dashboardQueries(json);
    // The only Grafana variables the dashboard uses are its range macros, which Grafana replaces before a
    // query reaches Prometheus; the stand-ins are what Grafana picks for a 15s scrape interval.
    const macros = GRAFANA_MACRO_STANDINS;
    for (const expr of queries) {
      for (const variable of expr.match(/\$\w+/g) ?? []) {
        assert.ok(variable.slice(1) in macros, `${expr} uses ${variable}`);
      }
    }
    promtoolCheckExpressions(queries, macros);
  });
});

describe("Grafana provisioning", () => {
  it("provisions Prometheus as the default datasource under the fixed uid, not editable", () => {
    const text = renderGrafanaDatasources(spec);
    const config = parse(text) as {
      apiVersion: number;
      datasources: { name: string; uid: string; type: string; access: string; url: string; isDefault: boolean; editable: boolean; jsonData: Record<string, unknown> }[];
    };
    assert.equal(config.apiVersion, 1);
    assert.equal(config.datasources.length, 1);
    const [datasource] = config.datasources;
    assert.equal(datasource.uid, PROMETHEUS_DATASOURCE_UID);
    assert.equal(datasource.type, "prometheus");
    assert.equal(datasource.access, "proxy");
    assert.equal(datasource.url, "http://prometheus:9090");
    assert.equal(datasource.isDefault, true);
    assert.equal(datasource.editable, false);
    assert.equal(datasource.jsonData.timeInterval, undefined, "no scrape interval claimed unless given");
    assert.equal(renderGrafanaDatasources(spec), text, "stable output");
  });

  it("tells Grafana the scrape interval when it is given", () => {
    const config = parse(renderGrafanaDatasources({ ...spec, scrapeInterval: "30s" })) as {
      datasources: { jsonData: Record<string, unknown> }[];
    };
    assert.equal(config.datasources[0].jsonData.timeInterval, "30s");
  });

  it("loads dashboards read-only from the dashboards directory", () => {
    const config = parse(renderDashboardProvider()) as {
      apiVersion: number;
      providers: { type: string; disableDeletion: boolean; allowUiUpdates: boolean; options: { path: string } }[];
    };
    assert.equal(config.apiVersion, 1);
    assert.equal(config.providers.length, 1);
    const [provider] = config.providers;
    assert.equal(provider.type, "file");
    assert.equal(provider.disableDeletion, true);
    assert.equal(provider.allowUiUpdates, false);
    assert.equal(provider.options.path, GRAFANA_DASHBOARDS_DIR);
    assert.match(GRAFANA_DASHBOARDS_DIR, /^\/(etc|var\/lib)\/grafana\/dashboards$/);
  });
});

describe("stack overview dashboard in an environment with extra inference nodes", () => {
  const withNodes = buildStackOverviewDashboard({ ...devStackSpec, inferenceNodes: true });
  const model = JSON.parse(withNodes) as Dashboard & { templating?: { list: Record<string, unknown>[] } };
  const start = model.panels.findIndex((p) => p.type === "row" && p.title === "Inference nodes");
  const end = model.panels.findIndex((p, i) => i > start && p.type === "row");
  const rowOfNodes = model.panels.slice(start + 1, end);
  const find = (title: RegExp) => {
    const found = rowOfNodes.filter((p) => title.test(p.title));
    assert.equal(found.length, 1, String(title));
    return found[0];
  };

  it("without them the dashboard is what it was: no variable, no row", () => {
    assert.equal(buildStackOverviewDashboard({ ...devStackSpec, inferenceNodes: false }), buildStackOverviewDashboard(devStackSpec));
    assert.deepEqual((JSON.parse(buildStackOverviewDashboard(devStackSpec)) as { templating?: unknown }).templating, {});
    assert.ok(!board.panels.some((p) => p.title === "Inference nodes"));
  });

  it("has a node variable read from Prometheus's labels, multi-select, All meaning every series with a node label", () => {
    const list = model.templating?.list ?? [];
    assert.equal(list.length, 1);
    const variable = list[0];
    assert.equal(variable.name, "node");
    assert.equal(variable.type, "query");
    assert.equal(variable.query, 'label_values(up{job="node"}, node)');
    assert.deepEqual(variable.datasource, { type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID });
    assert.equal(variable.refresh, 2, "refreshed with the time range: a new worker shows without a new dashboard");
    assert.equal(variable.multi, true);
    assert.equal(variable.includeAll, true);
    assert.equal(variable.allValue, ".+");
    assert.doesNotMatch(withNodes, /"ai-dev-inference|"b"/, "no node is named in the dashboard");
  });

  it("adds a row of CPU, memory, Ollama probe and disk per inference node, after Service health; the other rows are as they were", () => {
    assert.notEqual(start, -1);
    assert.equal(model.panels[start - 3]?.title, "Service health");
    assert.deepEqual(rowOfNodes.map((p) => p.title), ["Inference node Ollama probe", "Inference node CPU busy", "Inference node memory used and available", "Inference node disk used %"]);
    for (const p of rowOfNodes) {
      for (const t of p.targets ?? []) {
        assert.match(t.expr, /node=~"\$node"/, `${p.title}: picked by the variable`);
        assert.match(t.legendFormat ?? "", /^\{\{node\}\}/, `${p.title}: one series per node`);
      }
    }
    assert.equal(find(/Ollama probe/).targets?.[0].expr, 'min by (node) (probe_success{job="probes", node=~"$node"})');
    const strip = (panels: Panel[]) => panels.map(({ id: _id, gridPos: _gridPos, ...rest }) => rest);
    assert.deepEqual(strip(model.panels.filter((_, i) => i < start || i >= end)), strip(board.panels));
  });

  it("its queries are PromQL that the real promtool accepts, with the node variable at All", () => {
    promtoolCheckExpressions(dashboardQueries(withNodes), GRAFANA_VARIABLE_STANDINS);
  });

  it("selects the picked node's series and never the operations node's, in the real Prometheus engine (promtool test rules)", () => {
    // Series of three nodes as Prometheus scrapes them: the first inference node, a worker b, the operations node
    // (no node label). Each node has its own values, so a wrong pick shows as a wrong sample.
    const nodes = [
      { node: "inference", role: "inference", address: "100.64.0.1", idlePerMinute: 45, availableGb: 2, avail: 60, probe: 0 },
      { node: "b", role: "worker", address: "100.64.0.9", idlePerMinute: 30, availableGb: 4, avail: 25, probe: 1 },
      { node: undefined, role: "operations", address: "100.64.0.2", idlePerMinute: 15, availableGb: 1, avail: 90, probe: 1 },
    ];
    type Node = (typeof nodes)[number];
    const labels = (n: Node, extra: Record<string, string>) =>
      `{${Object.entries({ ...extra, role: n.role, ...(n.node === undefined ? {} : { node: n.node }) }).map(([k, v]) => `${k}="${v}"`).join(", ")}}`;
    const exporter = (n: Node) => ({ instance: `${n.address}:9100`, job: "node" });
    const fs_ = (n: Node) => ({ ...exporter(n), device: "/dev/sdb", fstype: "ext4", mountpoint: "/mnt/data" });
    const probeOf = (n: Node) => ({ instance: `http://${n.address}:11434/api/version`, job: "probes", probe: n.node === "inference" ? "ollama" : `ollama-${n.node ?? "ops"}` });
    const input_series = nodes.flatMap((n) => [
      { series: `node_cpu_seconds_total${labels(n, { ...exporter(n), cpu: "0", mode: "idle" })}`, values: `0+${n.idlePerMinute}x20` },
      { series: `node_memory_MemTotal_bytes${labels(n, exporter(n))}`, values: "8000000000x20" },
      { series: `node_memory_MemAvailable_bytes${labels(n, exporter(n))}`, values: `${n.availableGb * 1e9}x20` },
      { series: `node_filesystem_avail_bytes${labels(n, fs_(n))}`, values: `${n.avail}x20` },
      { series: `node_filesystem_size_bytes${labels(n, fs_(n))}`, values: "100x20" },
      { series: `probe_success${labels(n, probeOf(n))}`, values: `${n.probe}x20` },
    ]);
    // What each panel's query gives for one node.
    const expected: Record<string, (n: Node) => { labels: string; value: number }[]> = {
      "Inference node Ollama probe": (n) => [{ labels: `{node="${n.node}"}`, value: n.probe }],
      "Inference node CPU busy": (n) => [{ labels: `{node="${n.node}"}`, value: 1 - n.idlePerMinute / 60 }],
      "Inference node memory used and available": (n) => [
        { labels: labels(n, exporter(n)), value: 8e9 - n.availableGb * 1e9 },
        { labels: `node_memory_MemAvailable_bytes${labels(n, exporter(n))}`, value: n.availableGb * 1e9 },
      ],
      "Inference node disk used %": (n) => [{ labels: labels(n, fs_(n)), value: 1 - n.avail / 100 }],
    };
    // Each target with its index among its panel's queries.
    const targets = dashboardTargets(withNodes)
      .map((t, i, all) => ({ ...t, index: all.slice(0, i).filter((o) => o.panel === t.panel).length }))
      .filter((t) => t.panel in expected);
    assert.equal(targets.length, 5);
    // Grafana writes one picked value as itself, several as (a|b), and All as the allValue.
    const picks = [
      { value: "b", nodes: [nodes[1]] },
      { value: "(b|inference)", nodes: [nodes[0], nodes[1]] },
      { value: ".+", nodes: [nodes[0], nodes[1]] },
    ];
    const tests = picks.map((pick) => ({
      name: `node = ${pick.value}`,
      interval: "1m",
      input_series,
      promql_expr_test: targets.map((t) => ({
        expr: substituteVariables(t.expr, { __rate_interval: "5m", node: pick.value }),
        eval_time: "10m",
        exp_samples: pick.nodes.map((n) => expected[t.panel](n)[t.index]),
      })),
    }));
    const dir = tempDir("grafana-nodes-");
    fs.writeFileSync(path.join(dir, "rules.yml"), stringify({ groups: [] }));
    fs.writeFileSync(path.join(dir, "tests.yml"), stringify({ rule_files: ["rules.yml"], evaluation_interval: "1m", tests }, { lineWidth: 0 }));
    const result = runPrometheusTool("promtool", ["test", "rules", "tests.yml"], dir);
    assert.equal(result.status, 0, `promtool test rules failed:\n${result.output}`);
    assert.match(result.output, /SUCCESS/);
  });
});
