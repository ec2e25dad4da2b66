/** The PromQL a rendered Grafana dashboard runs: what the tests check against the real promtool and the scrape jobs. */

interface DashboardJson {
  panels?: PanelJson[];
}

interface PanelJson {
  panels?: PanelJson[];
  targets?: { expr?: unknown }[];
}

/** Every PromQL expression of the dashboard's panels, collapsed rows included, in panel order. */
export function dashboardQueries(dashboardJson: string): string[] {
  const model = JSON.parse(dashboardJson) as DashboardJson;
  const exprs: string[] = [];
  const visit = (panels: PanelJson[]): void => {
    for (const panel of panels) {
      for (const query of panel.targets ?? []) {
        if (typeof query.expr === "string") {
          exprs.push(query.expr);
        }
      }
      visit(panel.panels ?? []);
    }
  };
  visit(model.panels ?? []);
  return exprs;
}

