/**
 * The operations node's services: Prometheus scraping both nodes over the tailnet, Alertmanager routing to
 * the team, a blackbox exporter probing the services' health, Grafana with its datasource and dashboard
 * provisioned from code, and Coolify when it is asked for.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { COOLIFY_VERSION, IMAGES } from "../catalog/images";
import type { OperationsSettings } from "../config";
import { alertRoutesFor, AlertmanagerSpec, Receiver, renderAlertmanagerConfig } from "../render/alertmanager";
import { COOLIFY_PASSWORD_ENV, renderCoolifyInstall } from "../render/coolify";
import {
  buildStackOverviewDashboard,
  GRAFANA_DASHBOARDS_DIR,
  renderDashboardProvider,
  renderGrafanaDatasources,
  STACK_OVERVIEW_DASHBOARD_FILE,
} from "../render/grafana";
import { renderAlertRules, renderPrometheusConfig } from "../render/prometheus";
import { ServiceContainer } from "./container";
import { BLACKBOX_PORT, blackboxExporter, CADVISOR_PORT, NODE_EXPORTER_PORT } from "./exporters";
import { LITELLM_PORT, OLLAMA_PORT, QDRANT_HTTP_PORT } from "./inference";

export const PROMETHEUS_PORT = 9090;
export const ALERTMANAGER_PORT = 9093;
export const GRAFANA_PORT = 3000;
export const COOLIFY_UI_PORT = 8000;

/** Prometheus and Alertmanager run as nobody; their credential files are readable by it alone. */
const NOBODY = "65534:65534";

const SCRAPE_INTERVAL_SECONDS = 30;

export interface OperationsServicesArgs {
  provider: docker.Provider;
  environment: string;
  /** This node's tailnet address: the UIs listen there only. */
  tailnetAddress: pulumi.Input<string>;
  /** The inference node's tailnet address, where LiteLLM, Qdrant and the exporters answer. */
  inferenceAddress: pulumi.Input<string>;
  /** Credentials Prometheus scrapes with: LiteLLM's master key and Qdrant's read-only key. */
  litellmMasterKey: pulumi.Input<string>;
  qdrantApiKey: pulumi.Input<string>;
  dataDir: string;
  settings: OperationsSettings;
  /** Docker's address pool, handed to Coolify's installer. */
  dockerAddressPool: string;
  memoryMib: { prometheus: number; alertmanager: number; blackbox: number; grafana: number };
  ssh: { host: pulumi.Input<string>; privateKey: pulumi.Input<string> };
}

/** The receivers and routes the settings ask for; credentials are read from files inside the container. */
export function alertmanagerSpec(settings: OperationsSettings): AlertmanagerSpec {
  const receivers: Receiver[] = [];
  const routeTo = (name: "pager" | "chat", route: OperationsSettings["paging"]): string | undefined => {
    if (route.kind === "none") return undefined;
    if (route.kind === "email") {
      const email = settings.email;
      if (!email) return undefined;
      receivers.push({ name, kind: "email", to: email.to, from: email.from, smarthost: email.smarthost, username: email.username, passwordFile: SECRET_FILES.smtpPassword });
    } else {
      receivers.push({ name, kind: route.kind, urlFile: name === "pager" ? SECRET_FILES.pagingUrl : SECRET_FILES.chatUrl });
    }
    return name;
  };
  const criticalReceiver = routeTo("pager", settings.paging);
  const warningReceiver = routeTo("chat", settings.chat);
  let deadMansSwitchReceiver: string | undefined;
  if (settings.deadMansSwitchUrl) {
    receivers.push({ name: "deadmansswitch", kind: "webhook", urlFile: SECRET_FILES.deadMansSwitchUrl });
    deadMansSwitchReceiver = "deadmansswitch";
  }
  return { receivers, criticalReceiver, warningReceiver, deadMansSwitchReceiver };
}

/** Where Alertmanager and Prometheus read their credentials. */
const SECRET_FILES = {
  pagingUrl: "/etc/alertmanager/secrets/paging-url",
  chatUrl: "/etc/alertmanager/secrets/chat-url",
  smtpPassword: "/etc/alertmanager/secrets/smtp-password",
  deadMansSwitchUrl: "/etc/alertmanager/secrets/dead-mans-switch-url",
  litellmKey: "/etc/prometheus/secrets/litellm-master-key",
  qdrantKey: "/etc/prometheus/secrets/qdrant-api-key",
} as const;

export class OperationsServices extends pulumi.ComponentResource {
  readonly grafanaUrl: pulumi.Output<string>;
  readonly grafanaAdminPassword: pulumi.Output<string>;
  readonly prometheusUrl: pulumi.Output<string>;
  readonly alertmanagerUrl: pulumi.Output<string>;
  readonly coolifyUrl?: pulumi.Output<string>;
  readonly coolifyAdminPassword?: pulumi.Output<string>;
  /** Where each alert goes: alert name, severity, receiver and its kind. Plain data, for the plan and outputs. */
  readonly alertRoutes: { alert: string; severity: string; receiver: string; kind: string }[];

  constructor(name: string, args: OperationsServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:services:Operations", name, {}, opts);
    const child = { parent: this };
    const network = new docker.Network(name, { name: "ai-operations", driver: "bridge" }, { ...child, provider: args.provider });
    const common = { provider: args.provider, network: network.name };
    const connection = { host: args.ssh.host, user: "root", privateKey: args.ssh.privateKey };

    // The data directories on the volume, owned by the users the images run as.
    const dataDirs = new command.remote.Command(
      `${name}-data-dirs`,
      {
        connection,
        create: [
          `install -d -m 0750 -o 65534 -g 65534 ${args.dataDir}/prometheus ${args.dataDir}/alertmanager`,
          `install -d -m 0750 -o 472 -g 0 ${args.dataDir}/grafana`,
        ].join(" && "),
      },
      child,
    );
    const afterDirs = { ...child, dependsOn: [dataDirs] };

    const prometheusConfig = pulumi
      .all([args.inferenceAddress, args.tailnetAddress])
      .apply(([inference, operations]) =>
        renderPrometheusConfig({
          environment: args.environment,
          scrapeIntervalSeconds: SCRAPE_INTERVAL_SECONDS,
          nodes: [
            { role: "inference", address: inference },
            { role: "operations", address: operations },
          ],
          ports: { nodeExporter: NODE_EXPORTER_PORT, cadvisor: CADVISOR_PORT, litellm: LITELLM_PORT, qdrant: QDRANT_HTTP_PORT },
          credentials: { litellmKeyFile: SECRET_FILES.litellmKey, qdrantKeyFile: SECRET_FILES.qdrantKey },
          probes: [
            { name: "litellm", url: `http://${inference}:${LITELLM_PORT}/health/liveliness` },
            { name: "qdrant", url: `http://${inference}:${QDRANT_HTTP_PORT}/healthz` },
            // Ollama is published nowhere: the inference node's own blackbox exporter probes it on its network.
            { name: "ollama", url: `http://ollama:${OLLAMA_PORT}/api/version`, via: `${inference}:${BLACKBOX_PORT}` },
          ],
          blackboxAddress: `blackbox:${BLACKBOX_PORT}`,
          alertmanagerAddress: `alertmanager:${ALERTMANAGER_PORT}`,
          ruleFiles: ["/etc/prometheus/rules/platform.yml"],
        }),
      );
    const readable = { mode: "0400", owner: NOBODY };

    new ServiceContainer(
      `${name}-prometheus`,
      {
        ...common,
        name: "prometheus",
        image: IMAGES.prometheus,
        memoryMib: args.memoryMib.prometheus,
        ports: [{ port: PROMETHEUS_PORT, hostIp: args.tailnetAddress }],
        files: [
          { path: "/etc/prometheus/prometheus.yml", content: prometheusConfig },
          { path: "/etc/prometheus/rules/platform.yml", content: renderAlertRules(args.environment) },
          { path: SECRET_FILES.litellmKey, content: args.litellmMasterKey, ...readable },
          { path: SECRET_FILES.qdrantKey, content: args.qdrantApiKey, ...readable },
        ],
        command: [
          "--config.file=/etc/prometheus/prometheus.yml",
          "--storage.tsdb.path=/prometheus",
          `--storage.tsdb.retention.time=${args.settings.retention.days}d`,
          `--storage.tsdb.retention.size=${args.settings.retention.gb}GB`,
        ],
        volumes: [{ hostPath: `${args.dataDir}/prometheus`, containerPath: "/prometheus" }],
        healthcheck: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${PROMETHEUS_PORT}/-/healthy`],
      },
      afterDirs,
    );

    const amSpec = alertmanagerSpec(args.settings);
    const kindOf = (receiver: string) => amSpec.receivers.find((r) => r.name === receiver)?.kind ?? "nothing is sent";
    this.alertRoutes = alertRoutesFor(amSpec)
      .filter((r) => r.labels.alertname !== "UnknownSeverity")
      .map((r) => ({ alert: r.labels.alertname, severity: r.labels.severity, receiver: r.expectedReceivers[0], kind: kindOf(r.expectedReceivers[0]) }));
    const amSecrets: { path: string; content: pulumi.Input<string>; mode: string; owner: string }[] = [];
    if (args.settings.paging.url) amSecrets.push({ path: SECRET_FILES.pagingUrl, content: args.settings.paging.url, ...readable });
    if (args.settings.chat.url) amSecrets.push({ path: SECRET_FILES.chatUrl, content: args.settings.chat.url, ...readable });
    if (args.settings.email) amSecrets.push({ path: SECRET_FILES.smtpPassword, content: args.settings.email.password, ...readable });
    if (args.settings.deadMansSwitchUrl) {
      amSecrets.push({ path: SECRET_FILES.deadMansSwitchUrl, content: args.settings.deadMansSwitchUrl, ...readable });
    }
    new ServiceContainer(
      `${name}-alertmanager`,
      {
        ...common,
        name: "alertmanager",
        image: IMAGES.alertmanager,
        memoryMib: args.memoryMib.alertmanager,
        ports: [{ port: ALERTMANAGER_PORT, hostIp: args.tailnetAddress }],
        files: [{ path: "/etc/alertmanager/alertmanager.yml", content: renderAlertmanagerConfig(amSpec) }, ...amSecrets],
        command: ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"],
        volumes: [{ hostPath: `${args.dataDir}/alertmanager`, containerPath: "/alertmanager" }],
        healthcheck: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${ALERTMANAGER_PORT}/-/healthy`],
      },
      afterDirs,
    );

    // Prometheus reaches it on the Docker network; it is published nowhere.
    new ServiceContainer(`${name}-blackbox`, blackboxExporter({ ...common, memoryMib: args.memoryMib.blackbox, ports: [] }), child);

    this.grafanaAdminPassword = pulumi.secret(
      new random.RandomPassword(`${name}-grafana-admin-password`, { length: 32, special: false }, child).result,
    );
    const grafanaSpec = { environment: args.environment, prometheusUrl: `http://prometheus:${PROMETHEUS_PORT}`, scrapeInterval: `${SCRAPE_INTERVAL_SECONDS}s` };
    new ServiceContainer(
      `${name}-grafana`,
      {
        ...common,
        name: "grafana",
        image: IMAGES.grafana,
        memoryMib: args.memoryMib.grafana,
        ports: [{ port: GRAFANA_PORT, hostIp: args.tailnetAddress }],
        env: {
          GF_SECURITY_ADMIN_USER: "admin",
          GF_AUTH_ANONYMOUS_ENABLED: "false",
          GF_USERS_ALLOW_SIGN_UP: "false",
          GF_ANALYTICS_REPORTING_ENABLED: "false",
          GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
          GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: "false",
          GF_NEWS_NEWS_FEED_ENABLED: "false",
        },
        secretEnv: { GF_SECURITY_ADMIN_PASSWORD: this.grafanaAdminPassword },
        files: [
          { path: "/etc/grafana/provisioning/datasources/prometheus.yaml", content: renderGrafanaDatasources(grafanaSpec) },
          { path: "/etc/grafana/provisioning/dashboards/platform.yaml", content: renderDashboardProvider() },
          { path: `${GRAFANA_DASHBOARDS_DIR}/${STACK_OVERVIEW_DASHBOARD_FILE}`, content: buildStackOverviewDashboard(grafanaSpec) },
        ],
        volumes: [{ hostPath: `${args.dataDir}/grafana`, containerPath: "/var/lib/grafana" }],
        healthcheck: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${GRAFANA_PORT}/api/health`],
      },
      afterDirs,
    );

    if (args.settings.coolify) {
      // Coolify asks for mixed case, digits and a symbol; the symbols are safe in an env file.
      const password = new random.RandomPassword(
        `${name}-coolify-admin-password`,
        { length: 32, minUpper: 2, minLower: 2, minNumeric: 2, minSpecial: 2, overrideSpecial: "-_.+" },
        child,
      ).result;
      this.coolifyAdminPassword = pulumi.secret(password);
      new command.remote.Command(
        `${name}-coolify`,
        {
          connection,
          create: renderCoolifyInstall({
            version: COOLIFY_VERSION,
            adminEmail: args.settings.coolifyAdminEmail,
            dockerAddressPool: args.dockerAddressPool,
          }),
          stdin: pulumi.secret(pulumi.interpolate`${COOLIFY_PASSWORD_ENV}=${password}\n`),
          // A new version reinstalls: the installer upgrades in place.
          triggers: [COOLIFY_VERSION],
        },
        child,
      );
      this.coolifyUrl = pulumi.interpolate`http://${args.tailnetAddress}:${COOLIFY_UI_PORT}`;
    }

    this.grafanaUrl = pulumi.interpolate`http://${args.tailnetAddress}:${GRAFANA_PORT}`;
    this.prometheusUrl = pulumi.interpolate`http://${args.tailnetAddress}:${PROMETHEUS_PORT}`;
    this.alertmanagerUrl = pulumi.interpolate`http://${args.tailnetAddress}:${ALERTMANAGER_PORT}`;
    this.registerOutputs({ grafanaUrl: this.grafanaUrl, prometheusUrl: this.prometheusUrl, alertmanagerUrl: this.alertmanagerUrl });
  }
}
