// Grafana's provisioning files and the stack overview dashboard, built with @grafana/grafana-foundation-sdk.
//
// Grafana runs on the operations node and reads Prometheus on the same Docker network. The datasource is
// provisioned with a fixed uid so that every dashboard panel can name it without a lookup, and dashboards
// are provisioned read-only from files: the code here is their only source, so an edit in the UI could only
// drift from it.
//
// spec.ts: what the files are rendered from; provisioning.ts: the datasource and the dashboard provider;
// dashboard.ts: the dashboard, composed of the rows in serviceRows.ts, hostRows.ts and backupRows.ts, whose panels are
// built by panels.ts from the selectors in queries.ts.
export {
  GRAFANA_DASHBOARDS_DIR,
  PROMETHEUS_DATASOURCE_UID,
  STACK_OVERVIEW_DASHBOARD_FILE,
  STACK_OVERVIEW_DASHBOARD_UID,
  type GrafanaSpec,
} from "./spec";
export { renderDashboardProvider, renderGrafanaDatasources } from "./provisioning";
export { buildStackOverviewDashboard } from "./dashboard";
