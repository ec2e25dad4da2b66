/**
 * The stack outputs: a contract for other projects, which read them with `StackReference`. Renaming or
 * dropping one breaks them; the README documents each.
 */
import * as pulumi from "@pulumi/pulumi";
import type { RootAccess } from "./machines/rootAccess";
import { port, ROLES, type Role } from "./catalog/services";
import type { Settings } from "./config";
import type { HetznerNode } from "./machines/hetznerNode";
import type { NodeBudget } from "./plan/capacity";
import type { CloudComparison, CostEstimate } from "./plan/cost";
import type { ThroughputPlan } from "./plan/throughput";
import type { NodeReadiness } from "./machines/nodeReadiness";
import type { InferenceServices } from "./services/inference";
import type { Coolify } from "./services/coolify";
import type { Backups, NodeBackupCredentials } from "./services/backup";
import type { BackupPlan } from "./plan/backup";
import { RESTORE_COMMAND } from "./render/backup";
import type { Monitoring } from "./services/monitoring";
import type { AlertDestination } from "./plan/alertRouting";
import type { TailnetDevice } from "./machines/tailnetMembership";

/** One promised output: its path, what it is, whether it is a secret, and when it is absent. */
export interface OutputPromise {
  path: string;
  description: string;
  secret?: boolean;
  /** Present only under this condition; always present when not given. */
  onlyWhen?: string;
}

const THROUGHPUT_OUTPUTS: readonly OutputPromise[] = [
  {
    path: "throughput.speed",
    description:
      "the inference node's speed per chat model (share, prompt and generation tokens/s, seconds per request alone, cloud fallback), the measured type it comes from and whether it is an estimate, source and dates; parallel requests share it",
  },
  {
    path: "throughput.capacity",
    description: "at the utilization ceiling (0.7): requests and output tokens a month the node serves, and the mean seconds of one request alone",
  },
  {
    path: "throughput.workload",
    description: "the comparison's requests a month: busy hours, utilization, whether it fits, and at the peak hour (peakFactor) utilization, M/M/1 queueing delay and median request time in seconds (null: unbounded)",
  },
  { path: "throughput.fallback", description: "the requests above capacity: share, requests a month, each cloud fallback's cost, EUR a month in all" },
  { path: "throughput.costPerMillionOutputTokens", description: "EUR per million output tokens here at that utilization, beside each API's output price and its cost per million output tokens of this workload (USD)" },
  {
    path: "throughput.nodes",
    description:
      "each inference node's part of the workload (LiteLLM's equal shares of each model it serves): name, server type, models, requests and busy hours a month, utilization, and at the peak hour utilization, M/M/1 queueing delay and median request time; each chat model of throughput.speed then lists the nodes serving it, and busy hours, utilization and the peak are the busiest node's",
    onlyWhen: "devInferenceNodes or prodInferenceNodes lists some for this environment",
  },
  {
    path: "throughput.warning",
    description: "what would fit (a faster catalogued server type, a smaller model, a cloud fallback); also logged at preview",
    onlyWhen: "the workload is above the ceiling without a fallback",
  },
];

/**
 * The contract other projects rely on. test/outputs.test.ts fails when the program's outputs stop matching
 * it, and tools/syncDocs.ts writes it into the README: rename or drop an output only together with this list.
 */
export const OUTPUT_CONTRACT: readonly OutputPromise[] = [
  { path: "environment", description: "`dev` or `prod`" },
  ...ROLES.flatMap((role): OutputPromise[] => [
    { path: `nodes.${role}.hostname`, description: `the ${role} node's host and tailnet name, its server generation's, e.g. ai-prod-${role}-3fa2c1` },
    { path: `nodes.${role}.serverName`, description: "its Hetzner server name" },
    { path: `nodes.${role}.serverType`, description: "its Hetzner server type" },
    { path: `nodes.${role}.location`, description: "its Hetzner location" },
    { path: `nodes.${role}.publicIpv4`, description: "its public IPv4 address (firewalled: nothing answers there)" },
    { path: `nodes.${role}.publicIpv6`, description: "its public IPv6 address (firewalled)" },
    { path: `nodes.${role}.tailnetName`, description: "its MagicDNS name (a replaced server has a new one)" },
    { path: `nodes.${role}.tailnetAddresses`, description: "its tailnet addresses, IPv4 first" },
    { path: `nodes.${role}.dockerVersion`, description: "the Docker Engine version its bootstrap installed" },
  ]),
  {
    path: "inferenceNodes",
    description:
      "the extra inference nodes, by name: hostname, serverName, serverType, tailnetAddresses, the models its Ollama serves, and its memory budget",
    onlyWhen: "devInferenceNodes or prodInferenceNodes lists some for this environment",
  },
  { path: "models", description: "the Ollama models served, as name:tag" },
  { path: "litellm.url", description: `LiteLLM's OpenAI-compatible base URL on the tailnet (…:${port("litellm")}/v1)` },
  { path: "litellm.masterKey", description: "LiteLLM's master key (sk-…); create a virtual key per application with it", secret: true },
  { path: "litellm.models", description: "the model names clients may ask LiteLLM for: local chat and embedding models, and cloud models" },
  { path: "litellm.chatModels", description: "the subset of litellm.models served on /v1/chat/completions (no embedding model), local first" },
  {
    path: "litellm.backends",
    description: "the environment's external backends LiteLLM routes to: name, url, kind, tag, models, preferred, weight",
    onlyWhen: "tailnetDevBackends or tailnetProdBackends lists some for this environment",
  },
  { path: "qdrant.url", description: `Qdrant's REST URL on the tailnet (…:${port("qdrant")}; gRPC on ${port("qdrantGrpc")})` },
  { path: "qdrant.apiKey", description: "Qdrant's read-write API key", secret: true },
  { path: "qdrant.readOnlyApiKey", description: "Qdrant's read-only API key", secret: true },
  {
    path: "qdrant.peers",
    description: "where Qdrant is a cluster: every peer's REST URL, the inference node's first; each answers for the whole cluster",
    onlyWhen: "devInferenceNodes or prodInferenceNodes lists some for this environment",
  },
  {
    path: "qdrant.replicationFactor",
    description: "where Qdrant is a cluster: the copies of each shard a new collection keeps (qdrantReplicationFactor)",
    onlyWhen: "devInferenceNodes or prodInferenceNodes lists some for this environment",
  },
  {
    path: "qdrant.writeConsistency",
    description: "where Qdrant is a cluster: the copies that acknowledge a write (qdrantWriteConsistency)",
    onlyWhen: "devInferenceNodes or prodInferenceNodes lists some for this environment",
  },
  { path: "grafana.url", description: `Grafana on the tailnet (…:${port("grafana")})` },
  { path: "grafana.adminUser", description: "Grafana's admin user name" },
  { path: "grafana.adminPassword", description: "Grafana's generated admin password", secret: true },
  { path: "prometheus.url", description: `Prometheus on the tailnet (…:${port("prometheus")})` },
  { path: "alertmanager.url", description: `Alertmanager on the tailnet (…:${port("alertmanager")})` },
  { path: "alertmanager.routes", description: "where each alert goes: alert, severity, receiver, kind" },
  { path: "coolify.url", description: `Coolify's UI on the tailnet (…:${port("coolify")})`, onlyWhen: "coolify is on" },
  { path: "coolify.adminEmail", description: "Coolify's root user", onlyWhen: "coolify is on" },
  { path: "coolify.adminPassword", description: "Coolify's generated root password", secret: true, onlyWhen: "coolify is on" },
  { path: "monthlyCostEur", description: "EUR per month before VAT, from the dated catalog" },
  { path: "costBreakdown", description: "`pricesAsOf` and one line per item paid for" },
  { path: "costComparison", description: "the same requests through cloud APIs: per model USD and EUR a month, and the volume above which the platform is cheaper (null when above what the node serves); the node's capacity and the cloud fallback's cost a month" },
  ...THROUGHPUT_OUTPUTS.map((o): OutputPromise => ({ onlyWhen: "a chat model is served", ...o })),
  { path: "memoryBudget", description: "each node's RAM and disk budget: items (the containers' memory limits), OS reserve, headroom" },
  { path: "tailnetPolicy", description: "the tailnet policy (HuJSON) to merge by hand", onlyWhen: "manageTailnetPolicy is off" },
  { path: "rootSshPrivateKey", description: "root's break-glass key for the Hetzner rescue console", secret: true },
  { path: "backup.target", description: "where the nightly restic backups go: storagebox, sftp or s3" },
  {
    path: "backup.repositories",
    description: "each node's restic repository, by role: what a restore opens; for an existing target written as `<backupRepositoryUrl>/<role>` (that URL is a secret setting)",
  },
  {
    path: "backup.repositoryPasswords",
    description: "each node's own restic repository password, by role: without it none of that node's backups can be read, and a node holds its own only",
    secret: true,
  },
  {
    path: "backup.targetPasswords",
    description: "the password each node logs in to the target with, by role: its own Storage Box sub-account's, or backupTargetPassword (one for both nodes)",
    secret: true,
    onlyWhen: "backupTarget is storagebox or sftp",
  },
  { path: "backup.storageBox.id", description: "the environment's Hetzner Storage Box", onlyWhen: "backupTarget is storagebox" },
  {
    path: "backup.storageBox.subaccounts",
    description: "each node's own sub-account, by role: `username` and `server` (SFTP on port 23, from Hetzner's network only); it sees its home directory `<environment>-<role>` only",
    onlyWhen: "backupTarget is storagebox",
  },
  { path: "backup.stores", description: "what each node backs up, by role (postgres, qdrant, grafana, coolify, config, prometheus)" },
  { path: "backup.schedule", description: "when the nightly backup runs, UTC" },
  { path: "backup.retention", description: "the snapshots restic keeps of each store: daily, weekly, monthly" },
  { path: "backup.restoreCommand", description: "the command that restores a store (or all) on its node, run there as root over Tailscale SSH" },
];

export interface OutputSources {
  settings: Settings;
  budgets: Record<Role, NodeBudget>;
  cost: CostEstimate;
  comparison: CloudComparison;
  /** Absent when no chat model is served. */
  throughput?: ThroughputPlan;
  rootAccess: RootAccess;
  nodes: { role: Role; name: string; node: HetznerNode; device: TailnetDevice; readiness: NodeReadiness }[];
  /** The extra inference nodes, in the setting's order. Default none. */
  workers?: { name: string; models: string[]; budget: NodeBudget; node: HetznerNode; device: TailnetDevice }[];
  inference: InferenceServices;
  monitoring: Monitoring;
  /** Present when Coolify is on. */
  coolify?: Coolify;
  backups: Backups;
  backupPlan: BackupPlan;
  alertRoutes: AlertDestination[];
  /** The tailnet policy to merge by hand, when this stack does not manage it. */
  tailnetPolicy?: string;
}

export function buildOutputs(s: OutputSources) {
  const nodeOutputs = Object.fromEntries(
    s.nodes.map(({ role, node, device, readiness }) => [
      role,
      {
        hostname: device.hostname,
        serverName: node.serverName,
        serverType: s.settings.nodes[role].serverType.name,
        location: s.settings.location,
        publicIpv4: node.ipv4Address,
        publicIpv6: node.ipv6Address,
        tailnetName: device.dnsName,
        tailnetAddresses: device.addresses,
        dockerVersion: readiness.dockerVersion,
      },
    ]),
  );
  const backends = s.settings.backends[s.settings.environment];
  // The models only a backend serves, each once, in the order the backends list them.
  const local = new Set(s.settings.models.map((m) => m.name));
  const backendOnly = backends
    .flatMap((b) => b.models)
    .filter((m, i, all) => !local.has(m.name) && all.findIndex((o) => o.name === m.name) === i);
  const workers = s.workers ?? [];
  return {
    environment: s.settings.environment,
    nodes: nodeOutputs,
    ...(workers.length === 0
      ? {}
      : {
          inferenceNodes: Object.fromEntries(
            workers.map((w) => [
              w.name,
              {
                hostname: w.device.hostname,
                serverName: w.node.serverName,
                serverType: w.budget.serverType.name,
                tailnetAddresses: w.device.addresses,
                models: w.models,
                memoryBudget: { totalMib: w.budget.totalMib, reserveMib: w.budget.reserveMib, headroomMib: w.budget.headroomMib, items: w.budget.items },
              },
            ]),
          ),
        }),
    models: s.settings.models.map((m) => m.name),
    litellm: {
      url: s.inference.litellmUrl,
      /** Secret: the master key; create virtual keys per application with it. */
      masterKey: s.inference.litellmMasterKey,
      models: [...s.settings.models.map((m) => m.name), ...backendOnly.map((m) => m.name), ...s.settings.litellm.cloudModels.map((m) => m.name)],
      chatModels: [
        ...s.settings.models.filter((m) => !m.embedding).map((m) => m.name),
        ...backendOnly.filter((m) => !m.embedding).map((m) => m.name),
        ...s.settings.litellm.cloudModels.map((m) => m.name),
      ],
      ...(backends.length === 0
        ? {}
        : {
            backends: backends.map((b) => ({
              name: b.name,
              url: b.url,
              kind: b.kind,
              tag: b.tag,
              models: b.models.map((m) => m.name),
              preferred: b.preferred,
              weight: b.weight,
            })),
          }),
    },
    qdrant: {
      url: s.inference.qdrantUrl,
      apiKey: s.inference.qdrantApiKey,
      readOnlyApiKey: s.inference.qdrantReadOnlyApiKey,
      ...(workers.length === 0
        ? {}
        : {
            peers: [
              s.inference.qdrantUrl,
              ...workers.map((w) => pulumi.interpolate`http://${w.device.addresses.apply((a) => a[0])}:${port("qdrant")}`),
            ],
            replicationFactor: s.settings.qdrant.replicationFactor,
            writeConsistency: s.settings.qdrant.writeConsistency,
          }),
    },
    grafana: { url: s.monitoring.grafanaUrl, adminUser: "admin", adminPassword: s.monitoring.grafanaAdminPassword },
    prometheus: { url: s.monitoring.prometheusUrl },
    alertmanager: { url: s.monitoring.alertmanagerUrl, routes: s.alertRoutes },
    ...(s.coolify
      ? {
          coolify: {
            url: s.coolify.url,
            adminEmail: s.settings.operations.coolifyAdminEmail,
            adminPassword: s.coolify.adminPassword,
          },
        }
      : {}),
    monthlyCostEur: s.cost.totalEurMonth,
    costBreakdown: { pricesAsOf: s.cost.pricesAsOf, lines: s.cost.lines },
    costComparison: s.comparison,
    ...(s.throughput ? { throughput: throughputOutput(s.throughput) } : {}),
    memoryBudget: Object.fromEntries(
      Object.values(s.budgets).map((b) => [
        b.role,
        {
          totalMib: b.totalMib,
          reserveMib: b.reserveMib,
          headroomMib: b.headroomMib,
          items: b.items,
          diskGb: b.diskGb,
          diskUsedGb: b.diskUsedGb,
        },
      ]),
    ),
    ...(s.tailnetPolicy === undefined ? {} : { tailnetPolicy: s.tailnetPolicy }),
    /** Break-glass root key for the Hetzner rescue console; a secret. */
    rootSshPrivateKey: pulumi.secret(s.rootAccess.privateKey),
    backup: backupOutput(s.backups, s.backupPlan, s.settings.project),
  };
}

/** What a restore needs: where each node's repository is, its own passwords (secrets), and what is kept when. */
function backupOutput(backups: Backups, plan: BackupPlan, project: string) {
  const byRole = <T>(pick: (c: NodeBackupCredentials) => T) => Object.fromEntries(ROLES.map((role) => [role, pick(backups.credentials[role])])) as Record<Role, T>;
  return {
    target: plan.target,
    // An existing target's URL is a secret setting: its repositories are named by the setting, not shown.
    repositories:
      plan.target === "storagebox"
        ? backups.repositories
        : Object.fromEntries(ROLES.map((role) => [role, `<${project}:backupRepositoryUrl>/${role}`])),
    repositoryPasswords: pulumi.secret(pulumi.all(byRole((c) => c.repositoryPassword))),
    ...(ROLES.every((role) => backups.credentials[role].targetPassword)
      ? { targetPasswords: pulumi.secret(pulumi.all(byRole((c) => c.targetPassword!))) }
      : {}),
    ...(backups.storageBox
      ? { storageBox: { id: backups.storageBox.id, subaccounts: pulumi.all(byRole((c) => pulumi.all(c.subaccount!))) } }
      : {}),
    stores: plan.stores,
    schedule: plan.schedule,
    retention: plan.retention,
    restoreCommand: `${RESTORE_COMMAND} [--snapshot ID] --yes STORE...|all`,
  };
}

/** The throughput plan, grouped as the contract documents it. */
function throughputOutput(t: ThroughputPlan) {
  return {
    speed: {
      serverType: t.serverType,
      measuredOn: t.measuredOn,
      estimate: t.estimate,
      source: t.source,
      measured: t.measured,
      parallelRequests: t.parallelRequests,
      models: t.models,
    },
    capacity: {
      utilizationCeiling: t.utilizationCeiling,
      requestsPerMonth: t.capacityRequestsPerMonth,
      outputTokensPerMonth: t.generationCapacityTokensPerMonth,
      requestSeconds: t.requestSeconds,
    },
    workload: {
      requestsPerMonth: t.requestsPerMonth,
      busyHoursPerMonth: t.busyHoursPerMonth,
      utilization: t.utilization,
      fits: t.fits,
      servedRequestsPerMonth: t.servedRequestsPerMonth,
      peakFactor: t.peakFactor,
      peakUtilization: t.peakUtilization,
      peakQueueDelaySeconds: t.peakQueueDelaySeconds,
      peakMedianRequestSeconds: t.peakMedianRequestSeconds,
    },
    fallback: {
      share: t.fallbackShare,
      requestsPerMonth: t.overflowRequestsPerMonth,
      costs: t.fallbackCosts,
      eurMonth: t.fallbackEurMonth,
    },
    costPerMillionOutputTokens: { eur: t.eurPerMillionOutputTokens, cloud: t.cloudPerMillionOutputTokens },
    ...(t.nodes ? { nodes: t.nodes } : {}),
    ...(t.warning ? { warning: t.warning } : {}),
  };
}

/** The throughput outputs as other projects read them. */
export type ThroughputOutput = ReturnType<typeof throughputOutput>;
