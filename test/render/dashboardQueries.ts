/** The PromQL a rendered Grafana dashboard runs: what the tests check against the real promtool and the scrape jobs. */

interface DashboardJson {
  panels?: PanelJson[];
}

interface PanelJson {
  title?: unknown;
  panels?: PanelJson[];
  targets?: { expr?: unknown }[];
}

/**
 * Stand-ins for the Grafana variables the dashboards use, all range macros that Grafana replaces before a query
 * reaches Prometheus: what Grafana picks for a 15 s scrape interval over the default 6 h.
 */
export const GRAFANA_MACRO_STANDINS: Readonly<Record<string, string>> = Object.freeze({
  __rate_interval: "1m",
  __interval: "15s",
  __range: "6h",
});

/** One query of a panel: the panel's title and the expression. */
export interface DashboardTarget {
  panel: string;
  expr: string;
}

/** Every PromQL query of the dashboard's panels with its panel's title, collapsed rows included, in panel order. */
export function dashboardTargets(dashboardJson: string): DashboardTarget[] {
  const model = JSON.parse(dashboardJson) as DashboardJson;
  const targets: DashboardTarget[] = [];
  const visit = (panels: PanelJson[]): void => {
    for (const panel of panels) {
      for (const query of panel.targets ?? []) {
        if (typeof query.expr === "string") {
          targets.push({ panel: typeof panel.title === "string" ? panel.title : "", expr: query.expr });
        }
      }
      visit(panel.panels ?? []);
    }
  };
  visit(model.panels ?? []);
  return targets;
}

/** Every PromQL expression of the dashboard's panels, collapsed rows included, in panel order. */
export function dashboardQueries(dashboardJson: string): string[] {
  return dashboardTargets(dashboardJson).map((target) => target.expr);
}

/**
 * Stand-ins for every variable of the dashboards: the range macros, and the `node` variable at "All" (its allValue,
 * render/grafana/queries.ts NODE_ALL), as Grafana writes it into a query.
 */
export const GRAFANA_VARIABLE_STANDINS: Readonly<Record<string, string>> = Object.freeze({ ...GRAFANA_MACRO_STANDINS, node: ".+" });
