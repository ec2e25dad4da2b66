// The dashboard's two kinds of panel, built from typed data; every query goes to the provisioned Prometheus.
import type * as CommonSdk from "@grafana/grafana-foundation-sdk/dist/common";
import type * as DashboardSdk from "@grafana/grafana-foundation-sdk/dist/dashboard";
import type * as PrometheusSdk from "@grafana/grafana-foundation-sdk/dist/prometheus";
import type * as StatSdk from "@grafana/grafana-foundation-sdk/dist/stat";
import type * as TimeseriesSdk from "@grafana/grafana-foundation-sdk/dist/timeseries";
import { common, dashboard, prometheus, stat, timeseries } from "./sdk";
import { PROMETHEUS_DATASOURCE_UID } from "./spec";

export const PROMETHEUS_DATASOURCE: CommonSdk.DataSourceRef = { type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID };

/** One PromQL query of a panel and the legend of its series. */
export interface Query {
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

export interface TimeseriesSpec extends PanelSpec {
  kind: "timeseries";
  min?: number;
  max?: number;
  /** Series whose name matches this pattern are drawn dashed: limits and other reference lines. */
  dashedSeries?: string;
}

export interface StatSpec extends PanelSpec {
  kind: "stat";
  /** Threshold steps above the base colour, lowest first. */
  thresholds: DashboardSdk.Threshold[];
  /** Display text for exact values, e.g. 1 as "UP". */
  valueText?: Record<string, { text: string; color: string }>;
  /** Show the series name (e.g. a version label) rather than the value. */
  showName?: boolean;
}

/** A panel as data; the dashboard gives it its id when it places it. */
export type Panel = TimeseriesSpec | StatSpec;

export const BLUE: DashboardSdk.Threshold = { value: null, color: "blue" };
export const RED: DashboardSdk.Threshold = { value: null, color: "red" };

export function buildPanel(id: number, panel: Panel): TimeseriesSdk.PanelBuilder | StatSdk.PanelBuilder {
  return panel.kind === "stat" ? statPanel(id, panel) : timeseriesPanel(id, panel);
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

/** A row of the dashboard: its title and the panels under it, in order. */
export interface Row {
  title: string;
  panels: Panel[];
}
