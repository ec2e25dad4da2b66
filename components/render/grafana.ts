// Grafana's provisioning files and the stack overview dashboard, built with @grafana/grafana-foundation-sdk.
//
// Grafana runs on the operations node and reads Prometheus on the same Docker network. The datasource is
// provisioned with a fixed uid so that every dashboard panel can name it without a lookup, and dashboards
// are provisioned read-only from files: the code here is their only source, so an edit in the UI could only
// drift from it.
//
// Metric names, each checked against the exporter's source at the version the stack deploys:
// - LiteLLM (`litellm/integrations/prometheus.py`, labels in `litellm/types/integrations/prometheus.py`):
//   counters `litellm_proxy_total_requests_metric`, `litellm_proxy_failed_requests_metric`, `litellm_total_tokens`
//   and `litellm_output_tokens` (prometheus_client exposes a counter with a `_total` suffix), and the histogram
//   `litellm_request_total_latency_metric`. All carry `requested_model`, the model name clients ask for;
//   the request counters carry no `model` label, so every LiteLLM panel groups by `requested_model`.
// - Qdrant (`src/common/metrics.rs`): gauges `collections_total`, `collections_vector_total`, `app_info`;
//   counters `rest_responses_total`, `rest_responses_fail_total`, `grpc_responses_total`; the histogram
//   `rest_responses_duration_seconds` (timed for status 200 only).
// - node-exporter, cAdvisor (`name` is the container name, empty for cgroups that are not containers), and
//   the blackbox exporter's `probe_success`.
import { createRequire } from "node:module";
import { stringify } from "yaml";
import { PROBE_JOB, scrapeJob } from "../catalog/services";
import type * as CommonSdk from "@grafana/grafana-foundation-sdk/dist/common";
import type * as DashboardSdk from "@grafana/grafana-foundation-sdk/dist/dashboard";
import type * as PrometheusSdk from "@grafana/grafana-foundation-sdk/dist/prometheus";
import type * as StatSdk from "@grafana/grafana-foundation-sdk/dist/stat";
import type * as TimeseriesSdk from "@grafana/grafana-foundation-sdk/dist/timeseries";

// The SDK publishes its modules only through package.json "exports" ("…/dashboard"), which the tsconfig's
// `moduleResolution: node` does not read. So the types come from the files under dist/ and Node loads the
// exported entry points, which is what both resolve to.
const sdkRequire = createRequire(__filename);
const common = sdkRequire("@grafana/grafana-foundation-sdk/common") as typeof CommonSdk;
const dashboard = sdkRequire("@grafana/grafana-foundation-sdk/dashboard") as typeof DashboardSdk;
const prometheus = sdkRequire("@grafana/grafana-foundation-sdk/prometheus") as typeof PrometheusSdk;
const stat = sdkRequire("@grafana/grafana-foundation-sdk/stat") as typeof StatSdk;
const timeseries = sdkRequire("@grafana/grafana-foundation-sdk/timeseries") as typeof TimeseriesSdk;

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
}

/** The uid of the provisioned Prometheus datasource; every panel names it. */
export const PROMETHEUS_DATASOURCE_UID = "prometheus";

/** Where Grafana reads provisioned dashboard files, inside its container. */
export const GRAFANA_DASHBOARDS_DIR = "/etc/grafana/dashboards";

/** The stack overview dashboard's uid: stable, so links to it survive every redeploy. */
export const STACK_OVERVIEW_DASHBOARD_UID = "ai-stack-overview";

/** The file name of the stack overview dashboard under {@link GRAFANA_DASHBOARDS_DIR}. */
export const STACK_OVERVIEW_DASHBOARD_FILE = "stack-overview.json";

const PROMETHEUS_DATASOURCE: CommonSdk.DataSourceRef = { type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID };

function validateSpec(spec: GrafanaSpec): void {
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

/** One PromQL query of a panel and the legend of its series. */
interface Query {
  expr: string;
  legend: string;
}

/** A panel's common parts; `width` is in grid columns (of 24), `height` in grid rows. */
interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  width: number;
  height: number;
}

function target(query: Query, index: number): PrometheusSdk.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(PROMETHEUS_DATASOURCE)
    .refId(String.fromCharCode(65 + index))
    .expr(query.expr)
    .legendFormat(query.legend)
    .range()
    .editorMode(prometheus.QueryEditorMode.Code);
}

interface TimeseriesSpec extends PanelSpec {
  min?: number;
  max?: number;
  /** Series whose name matches this pattern are drawn dashed: limits and other reference lines. */
  dashedSeries?: string;
}

function timeseriesPanel(id: number, spec: TimeseriesSpec): TimeseriesSdk.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .id(id)
    .title(spec.title)
    .description(spec.description)
    .datasource(PROMETHEUS_DATASOURCE)
    .unit(spec.unit)
    .span(spec.width)
    .height(spec.height)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(["lastNotNull", "max"]),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .targets(spec.queries.map(target));
  if (spec.min !== undefined) {
    panel.min(spec.min);
  }
  if (spec.max !== undefined) {
    panel.max(spec.max);
  }
  if (spec.dashedSeries !== undefined) {
    panel.overrideByRegexp(spec.dashedSeries, [
      { id: "custom.lineStyle", value: { fill: "dash", dash: [10, 10] } },
      { id: "custom.fillOpacity", value: 0 },
    ]);
  }
  return panel;
}

interface StatSpec extends PanelSpec {
  /** Threshold steps above the base colour, lowest first. */
  thresholds: DashboardSdk.Threshold[];
  /** Display text for exact values, e.g. 1 as "UP". */
  valueText?: Record<string, { text: string; color: string }>;
  /** Show the series name (e.g. a version label) rather than the value. */
  showName?: boolean;
}

function statPanel(id: number, spec: StatSpec): StatSdk.PanelBuilder {
  const panel = new stat.PanelBuilder()
    .id(id)
    .title(spec.title)
    .description(spec.description)
    .datasource(PROMETHEUS_DATASOURCE)
    .unit(spec.unit)
    .span(spec.width)
    .height(spec.height)
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Background)
    .textMode(spec.showName === true ? common.BigValueTextMode.Name : common.BigValueTextMode.ValueAndName)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false))
    .thresholds(new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(spec.thresholds))
    .targets(spec.queries.map((query, index) => target(query, index).instant()));
  if (spec.valueText !== undefined) {
    const options: Record<string, DashboardSdk.ValueMappingResult> = {};
    for (const [value, result] of Object.entries(spec.valueText)) {
      options[value] = { text: result.text, color: result.color, index: Object.keys(options).length };
    }
    panel.mappings([{ type: dashboard.MappingType.ValueToText, options }]);
  }
  return panel;
}

const BLUE: DashboardSdk.Threshold = { value: null, color: "blue" };
const RED: DashboardSdk.Threshold = { value: null, color: "red" };

// Selectors, one per scrape job, so a panel never mixes in another job's series of the same name.
const LITELLM = `job="${scrapeJob("litellm")}"`;
const QDRANT = `job="${scrapeJob("qdrant")}"`;
const NODE = `job="${scrapeJob("nodeExporter")}"`;
// cAdvisor also reports cgroups that are not containers; those have an empty `name`.
const CONTAINER = `job="${scrapeJob("cadvisor")}", name!=""`;
// Real filesystems only: not tmpfs, overlay layers or other pseudo filesystems.
const FILESYSTEM = `${NODE}, fstype=~"ext4|xfs|btrfs"`;

const rate = (metric: string, selector: string): string => `rate(${metric}{${selector}}[$__rate_interval])`;

function liteLlmPanels(): TimeseriesSpec[] {
  const latency = (quantile: number): Query => ({
    expr:
      `histogram_quantile(${quantile}, sum by (le, requested_model) ` +
      `(${rate("litellm_request_total_latency_metric_bucket", LITELLM)}))`,
    legend: `{{requested_model}} p${Math.round(quantile * 100)}`,
  });
  return [
    {
      title: "LiteLLM requests per second by model",
      description: "Requests clients made to the LiteLLM proxy, successful or not, by the model they asked for.",
      unit: "reqps",
      queries: [
        {
          expr: `sum by (requested_model) (${rate("litellm_proxy_total_requests_metric_total", LITELLM)})`,
          legend: "{{requested_model}}",
        },
      ],
      width: 12,
      height: 8,
      min: 0,
    },
    {
      title: "LiteLLM error rate by model",
      description: "Share of requests to the LiteLLM proxy that did not get a success response, by requested model.",
      unit: "percentunit",
      queries: [
        {
          expr:
            `sum by (requested_model) (${rate("litellm_proxy_failed_requests_metric_total", LITELLM)})` +
            ` / sum by (requested_model) (${rate("litellm_proxy_total_requests_metric_total", LITELLM)})`,
          legend: "{{requested_model}}",
        },
      ],
      width: 12,
      height: 8,
      min: 0,
      max: 1,
    },
    {
      title: "LiteLLM latency p50 / p95 by model",
      description: "Total time of a request through the LiteLLM proxy, median and 95th percentile, by requested model.",
      unit: "s",
      queries: [latency(0.5), latency(0.95)],
      width: 12,
      height: 8,
      min: 0,
    },
    {
      title: "LiteLLM tokens per second by model",
      description: "Input plus output tokens, and output tokens alone (generation speed), by requested model.",
      unit: "short",
      queries: [
        {
          expr: `sum by (requested_model) (${rate("litellm_total_tokens_total", LITELLM)})`,
          legend: "{{requested_model}} total",
        },
        {
          expr: `sum by (requested_model) (${rate("litellm_output_tokens_total", LITELLM)})`,
          legend: "{{requested_model}} output",
        },
      ],
      width: 12,
      height: 8,
      min: 0,
    },
  ];
}

function qdrantLatency(quantile: number): Query {
  return {
    expr:
      `histogram_quantile(${quantile}, sum by (le) ` + `(${rate("rest_responses_duration_seconds_bucket", QDRANT)}))`,
    legend: `REST p${Math.round(quantile * 100)}`,
  };
}

function nodePanels(): TimeseriesSpec[] {
  const node = "{{role}} ({{instance}})";
  const mount = "{{role}} {{mountpoint}} ({{instance}})";
  return [
    {
      title: "Node CPU busy",
      description: "Share of CPU time not idle, averaged over each node's cores.",
      unit: "percentunit",
      queries: [
        {
          expr: `1 - avg by (role, instance) (${rate("node_cpu_seconds_total", `${NODE}, mode="idle"`)})`,
          legend: node,
        },
      ],
      width: 12,
      height: 8,
      min: 0,
      max: 1,
    },
    {
      title: "Node memory used and available",
      description: "Memory in use (total minus available) and memory available to new processes without swapping.",
      unit: "bytes",
      queries: [
        {
          expr: `node_memory_MemTotal_bytes{${NODE}} - node_memory_MemAvailable_bytes{${NODE}}`,
          legend: `${node} used`,
        },
        { expr: `node_memory_MemAvailable_bytes{${NODE}}`, legend: `${node} available` },
      ],
      width: 12,
      height: 8,
      min: 0,
      dashedSeries: "/available$/",
    },
    {
      title: "Node disk used %",
      description: "Share of each real filesystem in use, as unprivileged processes see it.",
      unit: "percentunit",
      queries: [
        {
          expr: `1 - node_filesystem_avail_bytes{${FILESYSTEM}} / node_filesystem_size_bytes{${FILESYSTEM}}`,
          legend: mount,
        },
      ],
      width: 12,
      height: 8,
      min: 0,
      max: 1,
    },
    {
      title: "Node disk free",
      description: "Space left on each real filesystem for unprivileged processes.",
      unit: "bytes",
      queries: [{ expr: `node_filesystem_avail_bytes{${FILESYSTEM}}`, legend: mount }],
      width: 12,
      height: 8,
      min: 0,
    },
  ];
}

function containerPanels(): TimeseriesSpec[] {
  const container = "{{name}} ({{instance}})";
  const workingSet = `sum by (instance, name) (container_memory_working_set_bytes{${CONTAINER}})`;
  // A container without a limit reports 0; the comparison drops it rather than draw a line at zero.
  const limit = `sum by (instance, name) (container_spec_memory_limit_bytes{${CONTAINER}}) > 0`;
  return [
    {
      title: "Container CPU",
      description: "CPU cores each container uses.",
      unit: "short",
      queries: [
        { expr: `sum by (instance, name) (${rate("container_cpu_usage_seconds_total", CONTAINER)})`, legend: container },
      ],
      width: 12,
      height: 8,
      min: 0,
    },
    {
      title: "Container memory working set vs limit",
      description:
        "Working set (what the kernel counts against the limit) of each container, and its memory limit, dashed. " +
        "Containers without a limit have no limit line.",
      unit: "bytes",
      queries: [
        { expr: workingSet, legend: container },
        { expr: limit, legend: `${container} limit` },
      ],
      width: 12,
      height: 8,
      min: 0,
      dashedSeries: "/limit$/",
    },
    {
      title: "Container memory % of limit",
      description: "Working set as a share of the memory limit, for containers that have one. At 100% the kernel OOM-kills.",
      unit: "percentunit",
      queries: [{ expr: `${workingSet} / (${limit})`, legend: container }],
      width: 12,
      height: 8,
      min: 0,
      max: 1,
    },
    {
      title: "Container restarts (last hour)",
      description:
        "Times each container started in the hour before each point, counted from changes of its start time. " +
        "A container that is replaced rather than restarted does not count.",
      unit: "short",
      queries: [
        {
          expr: `sum by (instance, name) (changes(container_start_time_seconds{${CONTAINER}}[1h]))`,
          legend: container,
        },
      ],
      width: 12,
      height: 8,
      min: 0,
    },
  ];
}

/** The stack overview dashboard as JSON text: LiteLLM, Qdrant, service health, nodes and containers. */
export function buildStackOverviewDashboard(spec: GrafanaSpec): string {
  validateSpec(spec);
  // Panel ids are assigned in order, so the output is the same on every run.
  let nextId = 1;
  const id = (): number => nextId++;
  const row = (title: string): DashboardSdk.RowBuilder => new dashboard.RowBuilder(title).id(id()).collapsed(false);

  // Each environment has its own Prometheus, so there is nothing for an environment variable to choose.
  const board = new dashboard.DashboardBuilder(`AI platform stack overview (${spec.environment})`)
    .uid(STACK_OVERVIEW_DASHBOARD_UID)
    .description(
      `LiteLLM, Qdrant, service health, nodes and containers of the ${spec.environment} environment. ` +
        "Provisioned from the Pulumi program: changes belong in components/render/grafana.ts.",
    )
    .tags(["ai-platform", spec.environment])
    .readonly()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: "now-6h", to: "now" })
    .refresh("1m")
    .timezone("browser");

  // Rows are left expanded: Grafana shows an expanded row's panels only when they follow it at top level.
  board.withRow(row("LiteLLM"));
  for (const panel of liteLlmPanels()) {
    board.withPanel(timeseriesPanel(id(), panel));
  }

  board.withRow(row("Qdrant"));
  board.withPanel(
    statPanel(id(), {
      title: "Qdrant collections",
      description: "Number of collections.",
      unit: "short",
      queries: [{ expr: `sum(collections_total{${QDRANT}})`, legend: "collections" }],
      width: 4,
      height: 8,
      thresholds: [BLUE],
    }),
  );
  board.withPanel(
    statPanel(id(), {
      title: "Qdrant vectors",
      description: "Vectors in all collections.",
      unit: "short",
      queries: [{ expr: `sum(collections_vector_total{${QDRANT}})`, legend: "vectors" }],
      width: 4,
      height: 8,
      thresholds: [BLUE],
    }),
  );
  board.withPanel(
    statPanel(id(), {
      title: "Qdrant version",
      description: "The version the Qdrant server reports.",
      unit: "none",
      queries: [{ expr: `max by (version) (app_info{${QDRANT}})`, legend: "{{version}}" }],
      width: 4,
      height: 8,
      thresholds: [BLUE],
      showName: true,
    }),
  );
  board.withPanel(
    timeseriesPanel(id(), {
      title: "Qdrant requests per second",
      description: "REST requests by endpoint, failed REST responses, and gRPC requests.",
      unit: "reqps",
      queries: [
        { expr: `sum by (method, endpoint) (${rate("rest_responses_total", QDRANT)})`, legend: "{{method}} {{endpoint}}" },
        { expr: `sum(${rate("rest_responses_fail_total", QDRANT)})`, legend: "REST failed" },
        { expr: `sum(${rate("grpc_responses_total", QDRANT)})`, legend: "gRPC" },
      ],
      width: 12,
      height: 8,
      min: 0,
    }),
  );
  board.withPanel(
    timeseriesPanel(id(), {
      title: "Qdrant REST latency p50 / p95",
      description: "Duration of successful REST responses (Qdrant times status 200 only).",
      unit: "s",
      queries: [qdrantLatency(0.5), qdrantLatency(0.95)],
      width: 24,
      height: 8,
      min: 0,
    }),
  );

  board.withRow(row("Service health"));
  board.withPanel(
    statPanel(id(), {
      title: "Service probes",
      description: "Whether each service's health probe succeeds; a service with several probes is down if any fails.",
      unit: "none",
      queries: [{ expr: `min by (probe) (probe_success{job="${PROBE_JOB}"})`, legend: "{{probe}}" }],
      width: 12,
      height: 6,
      thresholds: [RED, { value: 1, color: "green" }],
      valueText: { "0": { text: "DOWN", color: "red" }, "1": { text: "UP", color: "green" } },
    }),
  );
  board.withPanel(
    statPanel(id(), {
      title: "Scrape targets up",
      description: "Share of each job's scrape targets that Prometheus reached on its last scrape.",
      unit: "percentunit",
      queries: [{ expr: "avg by (job) (up)", legend: "{{job}}" }],
      width: 12,
      height: 6,
      thresholds: [RED, { value: 1, color: "green" }],
    }),
  );

  board.withRow(row("Nodes"));
  for (const panel of nodePanels()) {
    board.withPanel(timeseriesPanel(id(), panel));
  }

  board.withRow(row("Containers"));
  for (const panel of containerPanels()) {
    board.withPanel(timeseriesPanel(id(), panel));
  }

  return `${JSON.stringify(board.build(), null, 2)}\n`;
}
