// Grafana's provisioning files: the Prometheus datasource and the provider that loads the dashboard files.
import { stringify } from "yaml";
import { GRAFANA_DASHBOARDS_DIR, GrafanaSpec, PROMETHEUS_DATASOURCE_UID, validateSpec } from "./spec";

/** `provisioning/datasources/prometheus.yaml`: the Prometheus datasource, fixed uid, not editable in the UI. */
export function renderGrafanaDatasources(spec: GrafanaSpec): string {
  validateSpec(spec);
  const jsonData: Record<string, string> = { httpMethod: "POST" };
  if (spec.scrapeInterval !== undefined) {
    jsonData.timeInterval = spec.scrapeInterval;
  }
  return stringify({
    apiVersion: 1,
    // Datasources dropped from this file are deleted from Grafana too.
    prune: true,
    datasources: [
      {
        name: "Prometheus",
        uid: PROMETHEUS_DATASOURCE_UID,
        type: "prometheus",
        access: "proxy",
        url: spec.prometheusUrl,
        isDefault: true,
        editable: false,
        jsonData,
      },
    ],
  });
}

/** `provisioning/dashboards/ai-platform.yaml`: loads the dashboard files read-only from {@link GRAFANA_DASHBOARDS_DIR}. */
export function renderDashboardProvider(): string {
  return stringify({
    apiVersion: 1,
    providers: [
      {
        name: "ai-platform",
        orgId: 1,
        folder: "AI platform",
        type: "file",
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 60,
        options: { path: GRAFANA_DASHBOARDS_DIR, foldersFromFilesStructure: false },
      },
    ],
  });
}
