/**
 * The services catalog: each service of the platform, the node roles it runs on, its ports, where each port
 * is published, who may reach it over the tailnet, and how Prometheus scrapes and probes it.
 *
 * The containers' port bindings and the tailnet policy together are the security boundary, so both read this
 * table (and a test checks that every published port has a grant and every grant a listener). The Prometheus
 * scrape config, the dashboards' job selectors, the exposure table and the plan report read it too.
 */

/** The two roles of an environment's nodes, in the order every table lists them. */
export const ROLES = ["inference", "operations"] as const;
export type Role = (typeof ROLES)[number];

/**
 * The role of an environment's extra inference nodes (the devInferenceNodes and prodInferenceNodes settings):
 * Ollama for the environment's LiteLLM, and the exporters. Not in ROLES, which lists the two nodes every
 * environment has; a worker's tag is in the tailnet policy only where its environment has some.
 */
export const WORKER = "worker" as const;
/** Any node's role: one of the two every environment has, or an extra inference node's. */
export type NodeRole = Role | typeof WORKER;
/** Every node role: the two fixed nodes' and the workers'. */
export const NODE_ROLES: readonly NodeRole[] = [...ROLES, WORKER];

/**
 * The first inference node's `node` label in Prometheus, given only when the environment has workers (each of
 * which carries its own name there): its role word, which is what the dashboard's role legends and the docs call
 * it, so that every inference node's series can be told apart by `node`. No worker may take it as a name.
 */
export const FIRST_INFERENCE_NODE = "inference";

/**
 * Who may reach a port over the tailnet: the platform's admins, the user group, the environment's own
 * operations node (Prometheus scraping and probing), the deployers (`pulumi up`), the environment's own
 * LiteLLM node (the inference node, which calls the workers' Ollama), the environment's Qdrant peers (its
 * inference node and its workers, when Qdrant is a cluster). No one else: a port with an empty list is reached
 * by nobody over the tailnet.
 */
export type Reacher = "admins" | "users" | "monitoring" | "deployers" | "litellm" | "qdrantPeers";

export interface ServicePort {
  /** The port's name in the tailnet policy's spec and the access table, e.g. "qdrantGrpc". */
  name: string;
  port: number;
  protocol: "tcp";
  /**
   * The roles on whose tailnet address the port is published. On any other role the service runs on, it is
   * reached on its Docker network only.
   */
  publishedOn: readonly NodeRole[];
  reach: readonly Reacher[];
  /**
   * A service without authentication: no grant opens it to a person, and every person's deny tests (and every
   * node's but those in `reach`) include it on every node.
   */
  neverGranted?: true;
  /**
   * Published, granted and tested only in an environment whose Qdrant is a cluster, i.e. that has extra
   * inference nodes (Qdrant's peer-to-peer port): a stack without them publishes and renders what it always did.
   */
  clusterOnly?: true;
}

export interface ServiceEntry {
  /** The container's name, also its host name on the node's Docker network. */
  container: string;
  roles: readonly NodeRole[];
  ports: readonly ServicePort[];
  /** How the service comes to the node: a container this program declares, or an installer it runs. */
  deployedBy: "container" | "installer" | "tailscale";
  /** The Prometheus job that scrapes the service's /metrics, and the port it scrapes. */
  scrape?: { job: string; port: string };
  /** The HTTP path that answers 2xx when the service is healthy. */
  health?: string;
}

const tcp = <N extends string>(
  name: N,
  port: number,
  publishedOn: readonly NodeRole[],
  reach: readonly Reacher[],
): ServicePort & { name: N } => ({
  name,
  port,
  protocol: "tcp",
  publishedOn,
  reach,
});

const BOTH = ROLES;
/** What runs on every node, workers included (the exporters, Tailscale SSH). */
const EVERY_NODE = NODE_ROLES;
const INFERENCE: readonly Role[] = ["inference"];
const OPERATIONS: readonly Role[] = ["operations"];
const WORKERS: readonly NodeRole[] = [WORKER];
const NOWHERE: readonly Role[] = [];

export const SERVICES = {
  /**
   * Ollama has no authentication. On the inference node it is published nowhere: LiteLLM reaches it on its
   * network. On a worker it is published on the tailnet address for the environment's LiteLLM node alone.
   */
  ollama: {
    container: "ollama",
    roles: [...INFERENCE, WORKER],
    ports: [{ ...tcp("ollama", 11434, WORKERS, ["litellm"]), neverGranted: true }],
    deployedBy: "container",
    health: "/api/version",
  },
  /**
   * LiteLLM's API for users; its Prometheus metrics on a port of their own, served without a credential by a
   * separate process of LiteLLM's (`--prometheus_metrics_port`), so that the operations node scrapes them
   * holding no key: only admins and the operations node may reach it. Monitoring reaches the API port for the
   * health probe, which needs no key.
   */
  litellm: {
    container: "litellm",
    roles: INFERENCE,
    ports: [
      tcp("litellm", 4000, INFERENCE, ["admins", "users", "monitoring"]),
      tcp("litellmMetrics", 4001, INFERENCE, ["admins", "monitoring"]),
    ],
    deployedBy: "container",
    scrape: { job: "litellm", port: "litellmMetrics" },
    health: "/health/liveliness",
  },
  /** LiteLLM's database: on the inference node's Docker network only. */
  postgres: {
    container: "postgres",
    roles: INFERENCE,
    ports: [tcp("postgres", 5432, NOWHERE, [])],
    deployedBy: "container",
  },
  /**
   * Qdrant runs on the inference node, and with extra inference nodes on each of them too, as one cluster
   * (components/render/qdrant.ts): every peer answers the API for the whole cluster, so users and monitoring
   * reach each one. The peers replicate over the peer-to-peer port, which has no authentication of its own
   * (whoever reaches it can write): granted between the environment's peers only, and published only where the
   * environment's Qdrant is a cluster.
   */
  qdrant: {
    container: "qdrant",
    roles: [...INFERENCE, WORKER],
    ports: [
      tcp("qdrant", 6333, [...INFERENCE, WORKER], ["admins", "users", "monitoring"]),
      tcp("qdrantGrpc", 6334, [...INFERENCE, WORKER], ["admins", "users"]),
      { ...tcp("qdrantP2p", 6335, [...INFERENCE, WORKER], ["qdrantPeers"]), neverGranted: true, clusterOnly: true },
    ],
    deployedBy: "container",
    scrape: { job: "qdrant", port: "qdrant" },
    health: "/healthz",
  },
  nodeExporter: {
    container: "node-exporter",
    roles: EVERY_NODE,
    ports: [tcp("nodeExporter", 9100, EVERY_NODE, ["admins", "monitoring"])],
    deployedBy: "container",
    scrape: { job: "node", port: "nodeExporter" },
  },
  cadvisor: {
    container: "cadvisor",
    roles: EVERY_NODE,
    ports: [tcp("cadvisor", 8080, EVERY_NODE, ["admins", "monitoring"])],
    deployedBy: "container",
    scrape: { job: "cadvisor", port: "cadvisor" },
  },
  /**
   * The blackbox exporter probes health endpoints. The inference node's probes Ollama from inside its
   * network for the operations node's Prometheus, so it is published there; the operations node's is
   * reached by Prometheus on their shared network.
   */
  blackbox: {
    container: "blackbox",
    roles: BOTH,
    ports: [tcp("blackbox", 9115, INFERENCE, ["admins", "monitoring"])],
    deployedBy: "container",
    scrape: { job: "blackbox-exporter", port: "blackbox" },
  },
  prometheus: {
    container: "prometheus",
    roles: OPERATIONS,
    ports: [tcp("prometheus", 9090, OPERATIONS, ["admins"])],
    deployedBy: "container",
    scrape: { job: "prometheus", port: "prometheus" },
    health: "/-/healthy",
  },
  alertmanager: {
    container: "alertmanager",
    roles: OPERATIONS,
    ports: [tcp("alertmanager", 9093, OPERATIONS, ["admins"])],
    deployedBy: "container",
    scrape: { job: "alertmanager", port: "alertmanager" },
    health: "/-/healthy",
  },
  grafana: {
    container: "grafana",
    roles: OPERATIONS,
    ports: [tcp("grafana", 3000, OPERATIONS, ["admins"])],
    deployedBy: "container",
    health: "/api/health",
  },
  /**
   * Coolify's own installer starts its containers; the install publishes its UI, and the realtime and terminal
   * ports the UI's page opens websockets to on the same host (Coolify's layouts/base.blade.php and
   * resources/js/terminal.js), on the tailnet address (components/render/coolify.ts), for admins.
   */
  coolify: {
    container: "coolify",
    roles: OPERATIONS,
    ports: [
      tcp("coolify", 8000, OPERATIONS, ["admins"]),
      tcp("coolifyRealtime", 6001, OPERATIONS, ["admins"]),
      tcp("coolifyTerminal", 6002, OPERATIONS, ["admins"]),
    ],
    deployedBy: "installer",
  },
  /**
   * Tailscale SSH answers on port 22 of every node's tailnet address; an `ssh` rule alone is not enough, the
   * grants must also open port 22 to whoever may log in.
   */
  ssh: {
    container: "tailscaled",
    roles: EVERY_NODE,
    ports: [tcp("ssh", 22, EVERY_NODE, ["admins", "deployers"])],
    deployedBy: "tailscale",
  },
} as const satisfies Record<string, ServiceEntry>;

export type ServiceName = keyof typeof SERVICES;

type PortsOf<S> = S extends { ports: readonly (infer P)[] } ? P : never;
/** Every port's name, e.g. "litellm", "qdrantGrpc". */
export type PortName = PortsOf<(typeof SERVICES)[ServiceName]> extends { name: infer N } ? N & string : never;

/** Every port of the catalog, in catalog order. */
export const SERVICE_PORTS: readonly (ServicePort & { name: PortName; service: ServiceName })[] = (
  Object.entries(SERVICES) as [ServiceName, ServiceEntry][]
).flatMap(([service, entry]) => entry.ports.map((p) => ({ ...p, name: p.name as PortName, service })));

/** The Prometheus job of the blackbox exporter's probes of the services' health endpoints. */
export const PROBE_JOB = "probes";

/** A port's number by its name: `port("litellm")` is 4000. */
export function port(name: PortName): number {
  const found = SERVICE_PORTS.find((p) => p.name === name);
  if (found === undefined) throw new Error(`services catalog: no port named "${name}"`);
  return found.port;
}

/** The Prometheus job of a scraped service: `scrapeJob("nodeExporter")` is "node". */
export function scrapeJob(service: { [S in ServiceName]: (typeof SERVICES)[S] extends { scrape: object } ? S : never }[ServiceName]): string {
  return SERVICES[service].scrape.job;
}

/**
 * The ports of one service that are published on a role's tailnet address, in catalog order; a cluster-only
 * port (Qdrant's peer-to-peer) only when `cluster`.
 */
export function publishedPorts(service: ServiceName, role: NodeRole, cluster = false): number[] {
  return (SERVICES[service] as ServiceEntry).ports
    .filter((p) => p.publishedOn.includes(role) && (cluster || !p.clusterOnly))
    .map((p) => p.port);
}

/** The catalog's ports, the cluster-only ones only when `cluster`. */
export function catalogPorts(cluster: boolean): typeof SERVICE_PORTS {
  return SERVICE_PORTS.filter((p) => cluster || !p.clusterOnly);
}

/** The ports published on a role's tailnet address that `who` may reach, ascending. */
export function portsReachableBy(who: Reacher, role: NodeRole, cluster = false): number[] {
  return sortedPorts(catalogPorts(cluster).filter((p) => p.publishedOn.includes(role) && p.reach.includes(who)).map((p) => p.port));
}

/** The ports published on a role's tailnet address, ascending. */
export function portsPublishedOn(role: NodeRole, cluster = false): number[] {
  return sortedPorts(catalogPorts(cluster).filter((p) => p.publishedOn.includes(role)).map((p) => p.port));
}

/**
 * The ports the tailnet policy speaks of: every port someone may reach, and every port that must stay closed.
 * A port reached by nobody and guarded by nothing (Postgres on its Docker network) is not in the policy.
 */
export function policyPorts(cluster = false): number[] {
  return sortedPorts(catalogPorts(cluster).filter((p) => p.reach.length > 0 || p.neverGranted).map((p) => p.port));
}

function sortedPorts(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}
