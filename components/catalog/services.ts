/**
 * The services catalog: each service of the platform, the node role it runs on, its ports, who may reach each
 * port over the tailnet, and how Prometheus scrapes and probes it. The containers' port bindings, the tailnet
 * policy, the scrape config, the dashboards' job selectors, the exposure table and the report all read it.
 */

/** The two roles of an environment's nodes, in the order every table lists them. */
export const ROLES = ["inference", "operations"] as const;
export type Role = (typeof ROLES)[number];
