/**
 * Monitoring on the operations node: Prometheus scraping both nodes over the tailnet, Alertmanager routing to
 * the team, a blackbox exporter probing the services' health, and Grafana with its datasource and dashboard
 * provisioned from code.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { IMAGES } from "../catalog/images";
import { FIRST_INFERENCE_NODE, port, SERVICES, WORKER } from "../catalog/services";
import { ALERTMANAGER_SECRET_FILES, AlertingSettings, alertmanagerSpec } from "../plan/alertRouting";
import { renderAlertmanagerConfig } from "../render/alertmanager";
import {
  buildStackOverviewDashboard,
  GRAFANA_DASHBOARDS_DIR,
  renderDashboardProvider,
  renderGrafanaDatasources,
  STACK_OVERVIEW_DASHBOARD_FILE,
} from "../render/grafana";
import { renderAlertRules, renderPrometheusConfig } from "../render/prometheus";
import { ServiceContainer, tailnetPorts } from "./container";
import { blackboxExporter } from "./exporters";
import { workerOllamaUrl } from "./ollama";
import type { NodeSession } from "./nodeSession";
import type { ExternalBackend } from "../config";

/**
 * Prometheus and Alertmanager run as nobody in the root group. Docker writes uploaded files as root, so their
 * credential files are root's and the root group's, mode 0440: the service reads them, no other user could.
 * (An upload's owner would need the provider to map it; the docker plugin of this repository's engine lacks
 * that field, and the root group needs nothing from the provider.)
 */
const NOBODY_IN_ROOT_GROUP = "65534:0";

const SCRAPE_INTERVAL_SECONDS = 30;

/**
 * Where Prometheus reads the one credential it scrapes with: Qdrant's read-only key. LiteLLM's metrics port asks
 * for none, so no key that can spend, manage keys or write vectors is on the operations node, which also runs
 * the team's own apps under Coolify.
 */
export const PROMETHEUS_SECRET_FILES = {
  qdrantReadOnlyKey: "/etc/prometheus/secrets/qdrant-read-only-api-key",
} as const;

export interface MonitoringArgs {
  provider: docker.Provider;
  environment: string;
  /** This node's tailnet address: the UIs listen there only. */
  tailnetAddress: pulumi.Input<string>;
  /** The inference node's tailnet address, where LiteLLM, Qdrant and the exporters answer. */
  inferenceAddress: pulumi.Input<string>;
  /**
   * The environment's external backends: the inference node's blackbox exporter probes each (only that node
   * may reach them over the tailnet), as the probe `backend-<name>`.
   */
  backends?: readonly Pick<ExternalBackend, "name" | "kind" | "url">[];
  /**
   * The environment's extra inference nodes by tailnet address: their node-exporter and cAdvisor are scraped
   * (labelled with the node's name), and their Ollama probed through the inference node's blackbox exporter,
   * as `ollama-<name>` (only the inference node may reach it). Default none.
   */
  workers?: readonly { name: string; address: pulumi.Input<string> }[];
  /** Qdrant's read-only key: Prometheus scrapes Qdrant's /metrics with it. A secret. */
  qdrantReadOnlyApiKey: pulumi.Input<string>;
  /** Where the data volume is mounted on the node. */
  dataDir: string;
  /** How long Prometheus keeps its data: whichever of days and GB is reached first. */
  retention: { days: number; gb: number };
  /** Where alerts go; the URLs and passwords are secrets. */
  alerting: AlertingSettings;
  memoryMib: { prometheus: number; alertmanager: number; blackbox: number; grafana: number };
  ssh: NodeSession;
}

export class Monitoring extends pulumi.ComponentResource {
  readonly grafanaUrl: pulumi.Output<string>;
  readonly grafanaAdminPassword: pulumi.Output<string>;
  readonly prometheusUrl: pulumi.Output<string>;
  readonly alertmanagerUrl: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:services:Monitoring", name, {}, opts);
    const child = { parent: this };
    const network = new docker.Network(name, { name: "ai-operations", driver: "bridge" }, { ...child, provider: args.provider });
    const common = { provider: args.provider, network: network.name };

    // The data directories on the volume, owned by the users the images run as.
    const dataDirs = new command.remote.Command(
      `${name}-data-dirs`,
      {
        connection: { host: args.ssh.host, user: "root", privateKey: args.ssh.privateKey },
        create: [
          `install -d -m 0750 -o 65534 -g 65534 ${args.dataDir}/prometheus ${args.dataDir}/alertmanager`,
          `install -d -m 0750 -o 472 -g 0 ${args.dataDir}/grafana`,
        ].join(" && "),
        // A new server's volume is the same, but the directories' owners are checked again on it.
        triggers: [args.ssh.serverId],
      },
      // Only once the bootstrap has mounted the volume: made before, they would sit under the mount point.
      { ...child, dependsOn: [args.ssh.ready] },
    );
    const afterDirs = { ...child, dependsOn: [dataDirs] };

    new ServiceContainer(`${name}-prometheus`, { ...common, ...prometheusContainer(args) }, afterDirs);
    new ServiceContainer(`${name}-alertmanager`, { ...common, ...alertmanagerContainer(args) }, afterDirs);
    // Prometheus reaches it on the Docker network; it is published nowhere.
    new ServiceContainer(
      `${name}-blackbox`,
      blackboxExporter({ ...common, memoryMib: args.memoryMib.blackbox, role: "operations", tailnetAddress: args.tailnetAddress }),
      child,
    );

    this.grafanaAdminPassword = pulumi.secret(
      new random.RandomPassword(`${name}-grafana-admin-password`, { length: 32, special: false }, child).result,
    );
    new ServiceContainer(`${name}-grafana`, { ...common, ...grafanaContainer(args, this.grafanaAdminPassword) }, afterDirs);

    const url = (service: "grafana" | "prometheus" | "alertmanager") => pulumi.interpolate`http://${args.tailnetAddress}:${port(service)}`;
    this.grafanaUrl = url("grafana");
    this.prometheusUrl = url("prometheus");
    this.alertmanagerUrl = url("alertmanager");
    this.registerOutputs({ grafanaUrl: this.grafanaUrl, prometheusUrl: this.prometheusUrl, alertmanagerUrl: this.alertmanagerUrl });
  }
}

const readable = { mode: "0440" };

/**
 * The probe of each external backend, through the inference node's blackbox exporter: Ollama's /api/version, or
 * an OpenAI-compatible server's model list (`<url>/models`, its url ending in /v1), which vLLM, llama.cpp's
 * server and LM Studio all answer.
 */
export function backendProbes(backends: readonly Pick<ExternalBackend, "name" | "kind" | "url">[], via: string) {
  return backends.map((b) => ({
    name: `backend-${b.name}`,
    url: b.kind === "ollama" ? `${b.url}${SERVICES.ollama.health}` : `${b.url}/models`,
    via,
  }));
}

function prometheusContainer(args: MonitoringArgs) {
  const workers = args.workers ?? [];
  const workerAddresses = pulumi.all(workers.map((w) => w.address));
  // With workers every inference node's series carry a `node` label, the first node's too, so that the alerts and
  // the dashboard can tell them apart; without, the config stays as it was (no label, no change on upgrade).
  const firstNode: { name?: string } = workers.length === 0 ? {} : { name: FIRST_INFERENCE_NODE };
  const config = pulumi.all([args.inferenceAddress, args.tailnetAddress, workerAddresses]).apply(([inference, operations, addresses]) =>
    renderPrometheusConfig({
      environment: args.environment,
      scrapeIntervalSeconds: SCRAPE_INTERVAL_SECONDS,
      nodes: [
        { role: "inference", address: inference, ...firstNode },
        { role: "operations", address: operations },
        ...workers.map((w, i) => ({ role: WORKER, address: addresses[i], name: w.name })),
      ],
      credentials: { qdrantReadOnlyKeyFile: PROMETHEUS_SECRET_FILES.qdrantReadOnlyKey },
      probes: [
        { name: "litellm", url: `http://${inference}:${port("litellm")}${SERVICES.litellm.health}` },
        { name: "qdrant", url: `http://${inference}:${port("qdrant")}${SERVICES.qdrant.health}` },
        // Ollama is published nowhere: the inference node's own blackbox exporter probes it on its network.
        {
          name: "ollama",
          url: `http://${SERVICES.ollama.container}:${port("ollama")}${SERVICES.ollama.health}`,
          via: `${inference}:${port("blackbox")}`,
          ...(firstNode.name === undefined ? {} : { node: firstNode.name }),
        },
        ...workers.map((w, i) => ({
          name: `ollama-${w.name}`,
          url: `${workerOllamaUrl(addresses[i])}${SERVICES.ollama.health}`,
          via: `${inference}:${port("blackbox")}`,
          node: w.name,
        })),
        ...backendProbes(args.backends ?? [], `${inference}:${port("blackbox")}`),
      ],
      blackboxAddress: `${SERVICES.blackbox.container}:${port("blackbox")}`,
      alertmanagerAddress: `${SERVICES.alertmanager.container}:${port("alertmanager")}`,
      ruleFiles: ["/etc/prometheus/rules/platform.yml"],
    }),
  );
  return {
    name: SERVICES.prometheus.container,
    image: IMAGES.prometheus,
    memoryMib: args.memoryMib.prometheus,
    ports: tailnetPorts("prometheus", "operations", args.tailnetAddress),
    files: [
      { path: "/etc/prometheus/prometheus.yml", content: config },
      { path: "/etc/prometheus/rules/platform.yml", content: renderAlertRules(args.environment, undefined, { nodeNames: workers.length > 0, qdrantCluster: workers.length > 0 }) },
      { path: PROMETHEUS_SECRET_FILES.qdrantReadOnlyKey, content: args.qdrantReadOnlyApiKey, ...readable },
    ],
    command: [
      "--config.file=/etc/prometheus/prometheus.yml",
      "--storage.tsdb.path=/prometheus",
      `--storage.tsdb.retention.time=${args.retention.days}d`,
      `--storage.tsdb.retention.size=${args.retention.gb}GB`,
    ],
    volumes: [{ hostPath: `${args.dataDir}/prometheus`, containerPath: "/prometheus" }],
    healthcheck: httpHealthcheck("prometheus"),
    extra: { user: NOBODY_IN_ROOT_GROUP },
  };
}

function alertmanagerContainer(args: MonitoringArgs) {
  const alerting = args.alerting;
  const secrets: { path: string; content: pulumi.Input<string>; mode: string }[] = [];
  if (alerting.paging.url) secrets.push({ path: ALERTMANAGER_SECRET_FILES.pagingUrl, content: alerting.paging.url, ...readable });
  if (alerting.chat.url) secrets.push({ path: ALERTMANAGER_SECRET_FILES.chatUrl, content: alerting.chat.url, ...readable });
  if (alerting.email) secrets.push({ path: ALERTMANAGER_SECRET_FILES.smtpPassword, content: alerting.email.password, ...readable });
  if (alerting.deadMansSwitchUrl) {
    secrets.push({ path: ALERTMANAGER_SECRET_FILES.deadMansSwitchUrl, content: alerting.deadMansSwitchUrl, ...readable });
  }
  return {
    name: SERVICES.alertmanager.container,
    image: IMAGES.alertmanager,
    memoryMib: args.memoryMib.alertmanager,
    ports: tailnetPorts("alertmanager", "operations", args.tailnetAddress),
    files: [{ path: "/etc/alertmanager/alertmanager.yml", content: renderAlertmanagerConfig(alertmanagerSpec(alerting)) }, ...secrets],
    command: ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"],
    volumes: [{ hostPath: `${args.dataDir}/alertmanager`, containerPath: "/alertmanager" }],
    healthcheck: httpHealthcheck("alertmanager"),
    extra: { user: NOBODY_IN_ROOT_GROUP },
  };
}

function grafanaContainer(args: MonitoringArgs, adminPassword: pulumi.Input<string>) {
  const spec = {
    environment: args.environment,
    prometheusUrl: `http://${SERVICES.prometheus.container}:${port("prometheus")}`,
    scrapeInterval: `${SCRAPE_INTERVAL_SECONDS}s`,
    // Whether there are workers, not how many: adding a second one leaves Grafana as it is.
    ...((args.workers ?? []).length > 0 ? { inferenceNodes: true } : {}),
  };
  return {
    name: SERVICES.grafana.container,
    image: IMAGES.grafana,
    memoryMib: args.memoryMib.grafana,
    ports: tailnetPorts("grafana", "operations", args.tailnetAddress),
    env: {
      GF_SECURITY_ADMIN_USER: "admin",
      GF_AUTH_ANONYMOUS_ENABLED: "false",
      GF_USERS_ALLOW_SIGN_UP: "false",
      GF_ANALYTICS_REPORTING_ENABLED: "false",
      GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
      GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: "false",
      GF_NEWS_NEWS_FEED_ENABLED: "false",
    },
    secretEnv: { GF_SECURITY_ADMIN_PASSWORD: adminPassword },
    files: [
      { path: "/etc/grafana/provisioning/datasources/prometheus.yaml", content: renderGrafanaDatasources(spec) },
      { path: "/etc/grafana/provisioning/dashboards/platform.yaml", content: renderDashboardProvider() },
      { path: `${GRAFANA_DASHBOARDS_DIR}/${STACK_OVERVIEW_DASHBOARD_FILE}`, content: buildStackOverviewDashboard(spec) },
    ],
    volumes: [{ hostPath: `${args.dataDir}/grafana`, containerPath: "/var/lib/grafana" }],
    healthcheck: httpHealthcheck("grafana"),
  };
}

/** A Docker health check that fetches the service's health endpoint inside its container. */
function httpHealthcheck(service: "prometheus" | "alertmanager" | "grafana"): string[] {
  return ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${port(service)}${SERVICES[service].health}`];
}
