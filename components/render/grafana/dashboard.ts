// The stack overview dashboard: one row of panels per part of the stack, in a fixed order.
import { backupsRow } from "./backupRows";
import { containersRow, inferenceNodesRow, nodesRow } from "./hostRows";
import { buildPanel, PROMETHEUS_DATASOURCE, Row } from "./panels";
import { NODE, NODE_ALL, NODE_VARIABLE } from "./queries";
import { dashboard } from "./sdk";
import { liteLlmRow, modelDeploymentsRow, qdrantRow, serviceHealthRow } from "./serviceRows";
import { GrafanaSpec, STACK_OVERVIEW_DASHBOARD_UID, validateSpec } from "./spec";

/** The stack overview dashboard as JSON text: LiteLLM, its model deployments, Qdrant, service health, nodes, containers and backups. */
export function buildStackOverviewDashboard(spec: GrafanaSpec): string {
  validateSpec(spec);
  // Each environment has its own Prometheus, so there is nothing for an environment variable to choose.
  const board = new dashboard.DashboardBuilder(`AI platform stack overview (${spec.environment})`)
    .uid(STACK_OVERVIEW_DASHBOARD_UID)
    .description(
      `LiteLLM, its model deployments, Qdrant, service health, nodes, containers and backups of the ${spec.environment} environment. ` +
        "Provisioned from the Pulumi program: changes belong in components/render/grafana/.",
    )
    .tags(["ai-platform", spec.environment])
    .readonly()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: "now-6h", to: "now" })
    .refresh("1m")
    .timezone("browser");

  if (spec.inferenceNodes === true) board.withVariable(nodeVariable());

  const rows: Row[] = [
    liteLlmRow(),
    modelDeploymentsRow(),
    qdrantRow(),
    serviceHealthRow(),
    ...(spec.inferenceNodes === true ? [inferenceNodesRow()] : []),
    nodesRow(),
    containersRow(),
    backupsRow(),
  ];
  // Ids are assigned in order, rows and panels alike, so the output is the same on every run.
  let nextId = 1;
  for (const row of rows) {
    // Rows are left expanded: Grafana shows an expanded row's panels only when they follow it at top level.
    board.withRow(new dashboard.RowBuilder(row.title).id(nextId++).collapsed(false));
    for (const panel of row.panels) {
      board.withPanel(buildPanel(nextId++, panel));
    }
  }

  return `${JSON.stringify(board.build(), null, 2)}\n`;
}

/**
 * The inference nodes to show, read from Prometheus: the `node` label values of node-exporter's targets, refreshed
 * with the time range, so a worker added or removed shows or goes without a new dashboard.
 */
function nodeVariable() {
  const query = `label_values(up{${NODE}}, ${NODE_VARIABLE})`;
  return new dashboard.QueryVariableBuilder(NODE_VARIABLE)
    .label("Inference node")
    .description("The inference nodes the Inference nodes row shows: the first (inference) and the extra ones, by name.")
    .datasource(PROMETHEUS_DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .allowCustomValue(false)
    .includeAll(true)
    .allValue(NODE_ALL)
    .current({ text: "All", value: "$__all" });
}
