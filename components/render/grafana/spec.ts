// What Grafana's files are rendered from, and the names other modules and Grafana itself rely on.

/** What Grafana's provisioning and dashboards are rendered from. */
export interface GrafanaSpec {
  /** The stack's environment, e.g. "dev" or "prod": lowercase letters, digits and dashes. Shown in titles and tags. */
  environment: string;
  /** Prometheus as Grafana reaches it, e.g. "http://prometheus:9090" on the operations node's Docker network. */
  prometheusUrl: string;
  /**
   * Prometheus's scrape interval, e.g. "15s". Grafana derives `$__rate_interval` from it, so it should equal
   * the `scrape_interval` Prometheus is configured with. Default: unset, and Grafana assumes 15s.
   */
  scrapeInterval?: string;
  /**
   * The environment has extra inference nodes (workers): the dashboard gets the `node` variable and the
   * "Inference nodes" row. Whether, not how many: the same dashboard serves one worker or several. Default false,
   * the dashboard as it always was.
   */
  inferenceNodes?: boolean;
}

/** The uid of the provisioned Prometheus datasource; every panel names it. */
export const PROMETHEUS_DATASOURCE_UID = "prometheus";

/** Where Grafana reads provisioned dashboard files, inside its container. */
export const GRAFANA_DASHBOARDS_DIR = "/etc/grafana/dashboards";

/** The stack overview dashboard's uid: stable, so links to it survive every redeploy. */
export const STACK_OVERVIEW_DASHBOARD_UID = "ai-stack-overview";

/** The file name of the stack overview dashboard under {@link GRAFANA_DASHBOARDS_DIR}. */
export const STACK_OVERVIEW_DASHBOARD_FILE = "stack-overview.json";

export function validateSpec(spec: GrafanaSpec): void {
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(spec.environment)) {
    throw new Error(
      `grafana: environment "${spec.environment}" is not allowed: use lowercase letters, digits and dashes, e.g. "dev"`,
    );
  }
  let url: URL | undefined;
  try {
    url = new URL(spec.prometheusUrl);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new Error(
      `grafana: prometheusUrl "${spec.prometheusUrl}" is not an http(s) URL, e.g. "http://prometheus:9090"`,
    );
  }
  if (spec.scrapeInterval !== undefined && !/^[1-9][0-9]*(ms|s|m|h)$/.test(spec.scrapeInterval)) {
    throw new Error(
      `grafana: scrapeInterval "${spec.scrapeInterval}" is not a duration: use a whole number with ms, s, m or h, e.g. "15s"`,
    );
  }
}
