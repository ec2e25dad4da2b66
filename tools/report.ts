/**
 * The offline plan's report: what the program declares for a stack, read off the recorded resources and
 * the stack outputs, so that it grows with the program. Pure: a recorded run in, text and files out.
 * One function a section; `buildReport` puts them in order.
 */
import { parse as parseYaml } from "yaml";
import { parse as parseHujson } from "jsonc-parser";
import { COOLIFY_VERSION } from "../components/catalog/images";
import { findServerType, STORAGE_BOX_PRICES_AS_OF, STORAGE_BOX_TYPES } from "../components/catalog/serverTypes";
import { port, SERVICES } from "../components/catalog/services";
import type { Environment } from "../components/config";
import { qdrantClusterCautions } from "../components/plan/qdrantCluster";
import { reachMatrix } from "../components/plan/tailnetAccess";
import { COOLIFY_PATHS, COOLIFY_PROXY, COOLIFY_TAILNET_PORTS } from "../components/render/coolify";
import { HOST_FIREWALL_SCRIPT_PATH, METADATA_ADDRESS } from "../components/render/hostFirewall";
import { LOCAL_DEPLOYMENT } from "../components/render/litellm";
import { OPERATIONS_PLATFORM_NETWORK } from "../components/plan/exposure";
import type { TailnetPolicy } from "../components/render/tailnetPolicy";
import { gb } from "../components/plan/capacity";
import type { CloudComparison } from "../components/plan/cost";
import type { ThroughputOutput } from "../components/outputs";
import { AFTER_DEPLOY, afterDeploy, isAfterDeploy, ProgramRun, projectName, RecordedResource } from "./mocksRunner";
import { nodePlacement, NodePlacement } from "./nodePlacement";

const SERVER = "hcloud:index/server:Server";
const FIREWALL = "hcloud:index/firewall:Firewall";
const CONTAINER = "docker:index/container:Container";
const REMOTE_COMMAND = "command:remote:Command";
const TAILNET_KEY = "tailscale:index/tailnetKey:TailnetKey";
const TAILNET_POLICY = "tailscale:index/acl:Acl";
const STORAGE_BOX = "hcloud:index/storageBox:StorageBox";
const POLICY_FILE = "tailnet-policy.hujson";

export interface RenderedFile {
  /** Path inside the output folder. */
  path: string;
  content: string;
}

/** The stack outputs the report reads (components/outputs.ts is their contract). */
interface ReportedOutputs {
  environment: string;
  monthlyCostEur: number;
  costBreakdown: { pricesAsOf: string; lines: { item: string; eurMonth: number }[] };
  memoryBudget: Record<
    string,
    {
      totalMib: number;
      reserveMib: number;
      headroomMib: number;
      items: { name: string; mib: number; detail: string }[];
      diskGb: number;
      diskUsedGb: number;
    }
  >;
  models: string[];
  /** The extra inference nodes, by name (only when there are some). */
  inferenceNodes?: Record<string, unknown>;
  litellm?: {
    backends?: { name: string; url: string; kind: string; tag: string; models: string[]; preferred: boolean; weight: number }[];
  };
  alertmanager?: { routes?: { alert: string; severity: string; receiver: string; kind: string }[] };
  /** Qdrant's cluster, where it is one (peers, replicationFactor and writeConsistency only then). */
  qdrant?: { url: string; peers?: string[]; replicationFactor?: number; writeConsistency?: number };
  costComparison?: CloudComparison;
  throughput?: ThroughputOutput;
  backup?: {
    target: string;
    repositories: Record<string, string>;
    stores: Record<string, string[]>;
    schedule: string;
    retention: { daily: number; weekly: number; monthly: number };
    restoreCommand: string;
  };
}

/** What every section reads: the run, its outputs, where each resource runs, and the containers by node. */
interface ReportContext {
  run: ProgramRun;
  outputs: ReportedOutputs;
  place: NodePlacement;
  /** The node role a resource is on, "shared" for what is on none. */
  roleOf: (resource: RecordedResource) => string;
  servers: RecordedResource[];
  containers: RecordedResource[];
}

/** Shows a value the cloud assigns as such, never as a made-up value. */
export function shown(value: unknown): string {
  if (value === undefined || value === null) return "-";
  if (isAfterDeploy(value)) return "(known after deploy)";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

interface FirewallRuleInput {
  direction: string;
  protocol: string;
  port?: string;
  sourceIps?: string[];
  description?: string;
}

interface PortInput {
  internal: number;
  external?: number;
  ip?: string;
  protocol?: string;
}

/** A published port's host address, naming the tailnet address even before it is known. */
function hostAddress(ip: string | undefined): string {
  if (ip === undefined || ip === "") return "0.0.0.0";
  if (isAfterDeploy(ip) && ip.includes("tailnet")) return "tailnet-ip";
  return shown(ip);
}

function containerName(c: RecordedResource): string {
  return typeof c.inputs.name === "string" ? c.inputs.name : c.name;
}

const portsOf = (c: RecordedResource): PortInput[] => (c.inputs.ports ?? []) as PortInput[];
const rulesOf = (fw: RecordedResource): FirewallRuleInput[] => (fw.inputs.rules ?? []) as FirewallRuleInput[];

function bindScope(ip: string | undefined): "public" | "tailnet" | "node" {
  if (ip === undefined || ip === "" || ip === "0.0.0.0" || ip === "::") return "public";
  if (ip.startsWith("127.") || ip === "::1") return "node";
  return "tailnet";
}

function reportContext(run: ProgramRun): ReportContext {
  const place = nodePlacement(run);
  // An extra inference node shows as "worker <name>".
  const roleOf = (r: RecordedResource): string => [place.roleOf(r) ?? "shared", ...(place.workerOf(r) === undefined ? [] : [place.workerOf(r)])].join(" ");
  return {
    run,
    outputs: run.outputs as unknown as ReportedOutputs,
    place,
    roleOf,
    servers: run.ofType(SERVER),
    containers: run.ofType(CONTAINER).sort((a, b) => roleOf(a).localeCompare(roleOf(b))),
  };
}

function summarySection({ run, outputs }: ReportContext): string {
  return (
    `Offline plan for stack "${run.stack}" (environment ${outputs.environment}): ` +
    `${run.resources.filter((r) => r.custom).length} resources declared, evaluated under mocks with no ` +
    `credentials. "(known after deploy)" marks what only the cloud assigns.`
  );
}

function nodesSection({ servers, roleOf }: ReportContext): string {
  const rows = servers.map((s) => {
    const type = findServerType(String(s.inputs.serverType));
    return [
      roleOf(s),
      String(s.inputs.serverType),
      String(s.inputs.location),
      String(type?.vcpus ?? "?"),
      `${type?.memoryGb ?? "?"} GB`,
      `${type?.diskGb ?? "?"} GB`,
      (type?.priceEurMonth ?? 0).toFixed(2),
      s.inputs.backups ? "on" : "off",
      s.inputs.deleteProtection ? "on" : "off",
      shown(s.state.ipv4Address),
    ];
  });
  return (
    "## Nodes\n" +
    table(["role", "type", "location", "vCPU", "RAM", "disk", "EUR/month", "backups", "protection", "public IPv4"], rows)
  );
}

function servicesSection({ containers, roleOf }: ReportContext): string {
  const rows = containers.map((c) => {
    const ports = portsOf(c);
    const limit = typeof c.inputs.memory === "number" ? `${c.inputs.memory} MiB` : "NONE";
    const listen = ports.length
      ? ports.map((p) => `${hostAddress(p.ip)}:${p.external ?? p.internal}->${p.internal}/${p.protocol ?? "tcp"}`).join(", ")
      : "not published";
    // The image id is the pulled digest; before a deployment it is the pinned reference and a marker.
    const image = String(c.inputs.image);
    const pinned = image.endsWith(`@${AFTER_DEPLOY}`) ? image.slice(0, -`@${AFTER_DEPLOY}`.length) : image;
    return [roleOf(c), containerName(c), shown(pinned), limit, listen];
  });
  return (
    "## Services\n" +
    (rows.length ? table(["node", "container", "image", "memory limit", "listens on"], rows) : "No containers are declared yet.")
  );
}

/** What the public internet may reach, from the cloud firewalls' inbound rules (ICMP is named below). */
function firewallExposure({ run, roleOf }: ReportContext): string[][] {
  return run.ofType(FIREWALL).flatMap((fw) =>
    rulesOf(fw)
      .filter((rule) => rule.direction === "in" && rule.protocol !== "icmp")
      .map((rule) => [
        roleOf(fw),
        "public internet",
        `${rule.protocol}${rule.port ? `/${rule.port}` : ""}`,
        (rule.sourceIps ?? []).join(" "),
        rule.description ?? "",
      ]),
  );
}

/** Where each container's ports answer: all addresses, the tailnet address, loopback, or its networks only. */
function containerExposure({ containers, roleOf }: ReportContext): string[][] {
  return containers.flatMap((c) => {
    const ports = portsOf(c);
    if (ports.length === 0) return [[roleOf(c), "inside the node", "-", "Docker networks only", containerName(c)]];
    return ports.map((p) => {
      const scope = bindScope(isAfterDeploy(p.ip) ? "tailnet" : p.ip);
      return [
        roleOf(c),
        scope === "public" ? "PUBLIC (all addresses)" : scope === "tailnet" ? "tailnet" : "inside the node",
        `${p.protocol ?? "tcp"}/${p.external ?? p.internal}`,
        scope === "tailnet" ? "per the tailnet policy" : scope === "node" ? "loopback" : "anyone",
        containerName(c),
      ];
    });
  });
}

function exposureSection(context: ReportContext): string {
  const { run, servers, roleOf } = context;
  const icmpAllowed = run.ofType(FIREWALL).some((fw) => rulesOf(fw).some((r) => r.protocol === "icmp"));
  const unfiltered = servers.filter((s) => !Array.isArray(s.inputs.firewallIds) || s.inputs.firewallIds.length === 0);
  return (
    "## Exposure\n" +
    table(["node", "reachable from", "port", "from", "what"], [...firewallExposure(context), ...containerExposure(context), ...coolifyExposure(context)]) +
    (unfiltered.length ? `\nWARNING: no firewall on ${unfiltered.map(roleOf).join(", ")}` : "") +
    (icmpAllowed ? "\nICMP (ping, path MTU discovery) is let in from anywhere; it opens no port." : "") +
    "\nOutbound traffic is unrestricted" +
    containersOutbound(context) +
    "; inbound traffic not listed here is dropped by the cloud firewall."
  );
}

/** What each node's host firewall keeps its containers from reaching, read off its install script. */
function containersOutbound({ run, roleOf }: ReportContext): string {
  const firewalls = run.ofType(REMOTE_COMMAND).filter((c) => String(c.inputs.create).includes(`cat >${HOST_FIREWALL_SCRIPT_PATH}.new`));
  if (firewalls.length === 0) return "";
  const offTailnet = firewalls.filter((c) => /^guard_tailnet=yes$/m.test(String(c.inputs.create))).map(roleOf);
  const but = offTailnet.length ? `, and on the ${offTailnet.join(" and ")} node none but the platform's (${OPERATIONS_PLATFORM_NETWORK}) reaches the tailnet` : "";
  return `, but for the containers': none reaches Hetzner's metadata service (${METADATA_ADDRESS})${but}`;
}

/** Coolify's installer, whatever its name: the remote command that reruns when Coolify's pinned version changes. */
const installsCoolify = (c: RecordedResource): boolean => ((c.inputs.triggers ?? []) as unknown[]).includes(COOLIFY_VERSION);

/**
 * Where Coolify's ports answer, from its install script: its UI, realtime and terminal on the tailnet address
 * (and on loopback, as its compose file publishes them); its proxy's 80 and 443 on the public addresses when the
 * script writes the proxy's override (publicWeb), else on loopback like the proxy's dashboard.
 */
function coolifyExposure({ run, roleOf }: ReportContext): string[][] {
  return run.ofType(REMOTE_COMMAND).filter(installsCoolify).flatMap((install) => {
    const role = roleOf(install);
    const publicWeb = String(install.inputs.create).includes(`if put ${COOLIFY_PATHS.proxyOverride} `);
    const proxy = (what: string) => `${COOLIFY_PROXY.container} (${what})`;
    return [
      ...COOLIFY_TAILNET_PORTS.map((p) => [role, "tailnet", `tcp/${port(p.port)}`, "per the tailnet policy", `${p.container} (${p.what}; also on loopback)`]),
      ...COOLIFY_PROXY.webPorts.map((p) =>
        publicWeb
          ? [role, "PUBLIC (public addresses)", `tcp/${p}`, "the cloud firewall's sources (above)", proxy("Coolify's apps; also on loopback")]
          : [role, "inside the node", `tcp/${p}`, "loopback", proxy("Coolify's apps; public only with publicWeb")],
      ),
      [role, "inside the node", `tcp/${COOLIFY_PROXY.dashboardPort}`, "loopback", proxy("Traefik's dashboard")],
    ];
  });
}

/**
 * What listens on each node's tailnet tags: the ports its containers publish, Tailscale SSH, Coolify's UI,
 * realtime and terminal where it is installed, and Ollama's port, to show that nobody reaches it.
 */
function listeningByTag({ run, place, servers, containers }: ReportContext): Map<string, Set<number>> {
  const listening = new Map<string, Set<number>>();
  for (const server of servers) {
    const onNode = (r: RecordedResource) => place.serverOf(r) === server;
    const ports = new Set<number>([port("ssh")]);
    for (const c of containers.filter(onNode)) {
      for (const p of portsOf(c)) ports.add(p.external ?? p.internal);
      // Ollama publishes nothing: its port is listed to show that nobody reaches it.
      if (containerName(c) === SERVICES.ollama.container) ports.add(port("ollama"));
    }
    if (run.ofType(REMOTE_COMMAND).some((c) => onNode(c) && installsCoolify(c))) for (const p of COOLIFY_TAILNET_PORTS) ports.add(port(p.port));
    // The node's device carries the tags of the key in its user data (the tagged key tags it when it joins).
    const joinedWith = new Set(server.propertyDependencies.userData ?? []);
    const tags = run.ofType(TAILNET_KEY).filter((k) => joinedWith.has(k.urn)).flatMap((k) => (k.inputs.tags ?? []) as string[]);
    for (const tag of tags) listening.set(tag, new Set([...(listening.get(tag) ?? []), ...ports]));
  }
  return listening;
}

function tailnetAccessSection(context: ReportContext): string | undefined {
  const { run } = context;
  const policyText = renderedFiles(run).find((f) => f.path === POLICY_FILE)?.content;
  if (policyText === undefined) return undefined;
  const listening = listeningByTag(context);
  const rows = reachMatrix(parseHujson(policyText) as TailnetPolicy).filter((r) => listening.get(r.tag)?.has(r.port) ?? false);
  const managed = run.ofType(TAILNET_POLICY).length > 0;
  return (
    "## Tailnet access (who may reach each port over the tailnet)\n" +
    table(
      ["node", "port", "service", "who may reach it"],
      rows.map((r) => [r.tag.replace(/^tag:/, ""), String(r.port), r.service, r.sources.join(", ") || "nobody"]),
    ) +
    (managed
      ? "\nThe policy is managed by this stack: `pulumi up` writes it, and the control plane runs its tests first."
      : `\nThe policy is not managed by this stack: merge ${POLICY_FILE} into the tailnet's policy by hand.`)
  );
}

function memoryBudgetSection({ outputs }: ReportContext): string {
  const rows = Object.entries(outputs.memoryBudget).flatMap(([role, b]) => [
    ...b.items.map((item) => [role, item.name, gb(item.mib), item.detail]),
    [role, "OS reserve", gb(b.reserveMib), "kernel, Docker, tailscaled"],
    [role, "headroom", gb(b.headroomMib), `of ${gb(b.totalMib)}; disk ${b.diskUsedGb.toFixed(1)} of ${b.diskGb} GB`],
  ]);
  return "## Memory budget\n" + table(["node", "item", "memory", "how"], rows);
}

/** LiteLLM's deployments as its rendered config lists them. */
interface RenderedDeployment {
  model_name: string;
  litellm_params: { model: string; api_base?: string; order?: number; weight?: number };
  model_info?: { id?: string };
}

/**
 * Each model clients may ask for, where LiteLLM sends it (read from the config it is given): the node's own
 * Ollama, a backend (with its order and weight when there are several), a cloud API; and its fallbacks.
 */
function modelsSection({ outputs, containers }: ReportContext): string {
  const litellm = containers.find((c) => containerName(c) === SERVICES.litellm.container);
  const upload = ((litellm?.inputs.uploads ?? []) as { file: string; content?: string }[]).find((u) => u.file.endsWith("config.yaml"));
  if (upload?.content === undefined) return `## Models\n${outputs.models.join(", ")}`;
  const config = parseYaml(upload.content) as {
    model_list: RenderedDeployment[];
    router_settings?: {
      fallbacks?: Record<string, string[]>[];
      routing_strategy?: string;
      num_retries?: number;
      allowed_fails?: number;
      cooldown_time?: number;
    };
  };
  const fallbacks = new Map((config.router_settings?.fallbacks ?? []).flatMap((f) => Object.entries(f)));
  // The extra inference nodes' deployments are named after them, as a backend's are after it.
  const workerNames = new Set(Object.keys(outputs.inferenceNodes ?? {}));
  const where = (d: RenderedDeployment): string => {
    const id = d.model_info?.id;
    const at = id?.includes("@") ? id.slice(id.lastIndexOf("@") + 1) : undefined;
    const base = d.litellm_params.api_base;
    const place =
      at === LOCAL_DEPLOYMENT || (at === undefined && base?.startsWith(`http://${SERVICES.ollama.container}:`))
        ? "this node's Ollama"
        : at !== undefined && workerNames.has(at)
          ? `inference node ${at}'s Ollama`
          : at !== undefined
            ? `backend ${at} (${base})`
            : `${d.litellm_params.model.split("/")[0]} API`;
    return d.litellm_params.order === undefined ? place : `${place}, order ${d.litellm_params.order}, weight ${d.litellm_params.weight ?? 1}`;
  };
  const names = [...new Set(config.model_list.map((d) => d.model_name))];
  const rows = names.map((name) => [
    name,
    config.model_list
      .filter((d) => d.model_name === name)
      .sort((a, b) => (a.litellm_params.order ?? 1) - (b.litellm_params.order ?? 1))
      .map(where)
      .join("; "),
    (fallbacks.get(name) ?? []).join(", ") || "-",
  ]);
  const r = config.router_settings;
  // What LiteLLM does between a model's deployments, when the config says (components/render/litellm.ts).
  const routing =
    r?.routing_strategy === undefined
      ? ""
      : `\nLiteLLM picks among a model's deployments of the lowest order by ${r.routing_strategy} (at random, by weight; ` +
        `a failed attempt draws again among the others) and tries a failed request ${r.num_retries} more time(s); a ` +
        `deployment with more than ${r.allowed_fails} failure(s) (timeouts, errors) within ${r.cooldown_time} s is left ` +
        `out for ${r.cooldown_time} s. One that refuses connections or does not answer at all is not: each request ` +
        `drawn to it tries it first.`;
  return (
    "## Models and their routes (LiteLLM tries the lowest order first)\n" +
    table(["model", "served by", "falls back to"], rows) +
    routing
  );
}

/** The machines of the team's that LiteLLM routes to, which the stack lists but does not manage. */
function backendsSection({ outputs }: ReportContext): string | undefined {
  const backends = outputs.litellm?.backends ?? [];
  if (backends.length === 0) return undefined;
  const rows = backends.map((b) => [
    b.name,
    b.url,
    b.kind,
    b.tag,
    b.models.join(", "),
    b.preferred ? "first (order 1)" : `shared, weight ${b.weight}`,
    `backend-${b.name}`,
  ]);
  return (
    "## External backends (not managed by this stack; reached over the tailnet by the inference node only)\n" +
    table(["name", "url", "kind", "tag", "models", "tried", "probe"], rows)
  );
}

/** Qdrant's cluster across the inference nodes, and what it cannot do: only where Qdrant is one. */
function qdrantSection({ outputs }: ReportContext): string | undefined {
  const q = outputs.qdrant;
  if (!q?.peers || q.replicationFactor === undefined) return undefined;
  const nodes = ["inference node", ...Object.keys(outputs.inferenceNodes ?? {}).map((name) => `inference node ${name}`)];
  const cautions = qdrantClusterCautions(projectName(), outputs.environment as Environment, q.peers.length, { replicationFactor: q.replicationFactor });
  return [
    `## Qdrant cluster (${q.peers.length} peers; new collections: ${q.replicationFactor} copies of each shard, writes acknowledged by ${q.writeConsistency})`,
    table(["peer", "REST URL", "joins through"], q.peers.map((url, i) => [nodes[i] ?? "-", shown(url), i === 0 ? "- (starts the cluster)" : "the inference node's peer"])),
    ...cautions.map((c) => `CAUTION: ${c}`),
  ].join("\n");
}

function alertRoutesSection({ outputs }: ReportContext): string | undefined {
  const routes = outputs.alertmanager?.routes;
  if (!routes) return undefined;
  return (
    "## Alert routes\n" +
    table(["alert", "severity", "receiver", "how"], routes.map((r) => [r.alert, r.severity, r.receiver, r.kind])) +
    (routes.every((r) => r.kind === "nothing is sent")
      ? "\nNo receiver is configured: alerts show in Alertmanager and Grafana only. Set alertPaging and alertChat."
      : "") +
    unsentAlertsNote(routes)
  );
}

/** What goes unsent, said plainly: dev may run so; prod refuses to unless alertsDeliberatelyUnsent is true. */
function unsentAlertsNote(routes: { alert: string; severity: string; kind: string }[]): string {
  const unsent = (r: { kind: string }) => r.kind === "nothing is sent";
  const notes = [
    ...(routes.some((r) => r.severity === "critical" && unsent(r)) ? ["critical alerts page no one (alertPaging)"] : []),
    ...(routes.some((r) => r.alert === "Watchdog" && unsent(r)) ? ["the Watchdog reaches no dead man's switch (deadMansSwitchUrl)"] : []),
  ];
  if (notes.length === 0) return "";
  return `\nAlerts that reach no one: ${notes.join("; ")}. Dev may run so; prod refuses to unless ai-platform:alertsDeliberatelyUnsent is true.`;
}

/** Each `{ url, ... }` stack output is an endpoint; its other string fields name its credentials. */
function endpointRows(outputs: Record<string, unknown>): string[][] {
  const rows: string[][] = [];
  for (const [name, value] of Object.entries(outputs)) {
    if (!value || typeof value !== "object" || !("url" in value)) continue;
    const entry = value as Record<string, unknown>;
    const url = String(entry.url).replace(afterDeploy("tailnet-ipv4"), "<tailnet-ip>");
    const credentials = Object.keys(entry).filter((k) => /key|password|token/i.test(k));
    rows.push([name, url, credentials.map((k) => `${name}.${k}`).join(", ") || "-"]);
  }
  return rows;
}

function endpointsSection({ run }: ReportContext): string | undefined {
  const endpoints = endpointRows(run.outputs);
  if (endpoints.length === 0) return undefined;
  return (
    "## Endpoints (over the tailnet; credentials are secret stack outputs)\n" +
    table(["service", "URL", "credentials"], endpoints) +
    "\nThe URLs use the node's tailnet address: `pulumi stack output --json` after `pulumi up` gives them whole."
  );
}

function monthlyCostSection({ outputs }: ReportContext): string {
  const { costBreakdown, monthlyCostEur } = outputs;
  return (
    `## Monthly cost (EUR before VAT, prices as of ${costBreakdown.pricesAsOf})\n` +
    table(
      ["item", "EUR/month"],
      [...costBreakdown.lines.map((l) => [l.item, l.eurMonth.toFixed(2)]), ["total", monthlyCostEur.toFixed(2)]],
    )
  );
}

function cloudComparisonSection({ outputs }: ReportContext): string | undefined {
  const comparison = outputs.costComparison;
  if (!comparison) return undefined;
  const { platformEurMonth, usdPerEur } = comparison;
  return (
    `## Beside cloud APIs (${comparison.requestsPerMonth} requests a month of ${comparison.inputTokens} input and ` +
    `${comparison.outputTokens} output tokens; API prices as of ${comparison.pricesAsOf}, USD ${usdPerEur} per EUR assumed)\n` +
    table(
      ["", "USD/month", "EUR/month", "the platform is cheaper above"],
      [
        ["this platform (fixed)", (platformEurMonth * usdPerEur).toFixed(2), platformEurMonth.toFixed(2), "-"],
        ...(comparison.fallbackEurMonth > 0
          ? [["+ cloud fallback above capacity", (comparison.fallbackEurMonth * usdPerEur).toFixed(2), comparison.fallbackEurMonth.toFixed(2), "-"]]
          : []),
        ...comparison.cloud.map((c) => [
          c.model,
          c.usdMonth.toFixed(2),
          c.eurMonth.toFixed(2),
          c.breakEvenRequestsPerMonth === null
            ? `never within capacity (${comparison.platformCapacityRequestsPerMonth} requests/month)`
            : `${c.breakEvenRequestsPerMonth} requests/month`,
        ]),
      ],
    )
  );
}

/** A repository URL with the Storage Box's names, which Hetzner gives at creation, shown as what they are. */
const repositoryShown = (url: string) =>
  url.replace(/known-after-deploy:storage-box-user:[^@]*/, "<sub-account>").replace(afterDeploy("storage-box-host"), "<its host>");

/** What is backed up, where, when, kept how long, what it costs, and how it comes back. */
function backupsSection({ run, outputs }: ReportContext): string | undefined {
  const b = outputs.backup;
  if (!b) return undefined;
  const [box] = run.ofType(STORAGE_BOX);
  const type = STORAGE_BOX_TYPES.find((t) => t.name === box?.inputs.storageBoxType);
  const where = box
    ? `a Hetzner Storage Box of the environment's own, ${String(box.inputs.name)} (${String(box.inputs.storageBoxType)}, ` +
      `${type?.capacityTb ?? "?"} TB) in ${String(box.inputs.location)}, reachable ` +
      `${(box.inputs.accessSettings as { reachableExternally?: boolean } | undefined)?.reachableExternally ? "from anywhere" : "from Hetzner's network only"}, ` +
      "each node through a sub-account of its own, which sees its own directory only"
    : `the team's existing ${b.target} target (ai-platform:backupRepositoryUrl, a secret), its login shared by both nodes`;
  const everyStore = new Set(Object.values(b.stores).flat());
  const notBackedUp = ["Ollama's models (pulled again)", ...(everyStore.has("prometheus") ? [] : ["Prometheus's metrics (backupPrometheus is off)"])];
  const price = box && type
    ? `EUR ${type.priceEurMonth.toFixed(2)} a month for the Storage Box${type.estimate ? `, ${STORAGE_BOX_PRICES_AS_OF}` : ""}, in the cost table above`
    : "nothing here: the existing target is paid for where it is";
  return [
    "## Backups (restic: encrypted, deduplicated, off the node every night)",
    `Where: ${where}.`,
    table(
      ["node", "stores", "repository"],
      Object.entries(b.stores).map(([role, stores]) => [role, stores.join(", "), repositoryShown(b.repositories[role] ?? "-")]),
    ),
    `When: ${b.schedule}; a night missed while the node was off runs at its next boot.`,
    `Kept: ${b.retention.daily} daily, ${b.retention.weekly} weekly and ${b.retention.monthly} monthly snapshots of each store per node (restic forget --prune after each run).`,
    `Not backed up: ${notBackedUp.join("; ")}.`,
    `Costs: ${price}.`,
    "Watched: BackupStale (no good copy of a store for 26 hours) and BackupFailed alerts; the dashboard's Backups row.",
    `Restore, on the node as root: ${b.restoreCommand} (README, Backups). Each node's repository password is its own: the secret output backup.repositoryPasswords.`,
  ].join("\n");
}

const seconds = (s: number | null) => (s === null ? "unbounded (the peak hour exceeds the node)" : `${s} s`);
const percent = (share: number) => `${Math.round(share * 1000) / 10} %`;

function throughputSection({ outputs }: ReportContext): string | undefined {
  const t = outputs.throughput;
  if (!t) return undefined;
  const { speed, capacity, workload, fallback } = t;
  const measured = speed.estimate ? `an estimate from ${speed.measuredOn}, the nearest measured type of its CPU family` : `measured on ${speed.serverType}`;
  // With extra inference nodes: which nodes serve each model, each node's part, and the busiest node's figures.
  const nodes = t.nodes;
  const busiest = nodes?.reduce((a, b) => (b.utilization > a.utilization ? b : a));
  const modelColumns = ["chat model", "share", "prompt tok/s", "generation tok/s", "one request alone", "cloud fallback"];
  const lines = [
    nodes === undefined
      ? `## Throughput of the inference node (${speed.serverType}; ${measured}; ${speed.source}, ${speed.measured})`
      : `## Throughput of the inference nodes (the first on ${speed.serverType}, ${measured}; and ${nodes.length - 1} more; ${speed.source}, ${speed.measured})`,
    table(
      nodes === undefined ? modelColumns : [...modelColumns, "served by (equal shares)"],
      speed.models.map((m) => [
        m.model,
        percent(m.share),
        String(m.promptTokS),
        String(m.generationTokS),
        `${m.requestSeconds} s`,
        m.fallback ?? "-",
        ...(nodes === undefined ? [] : [(m.nodes ?? []).join(", ")]),
      ]),
    ),
    ...(nodes === undefined
      ? []
      : [
          "Speeds and one request alone above are the first node's. Each node is its own M/M/1 server at its own type's speed; LiteLLM gives each node serving a model an equal share of it:",
          table(
            ["node", "type", "models", "requests/month", "busy hours", "utilization", "peak utilization", "peak queueing delay"],
            nodes.map((n) => [
              n.name,
              n.estimate ? `${n.serverType} (est. from ${n.measuredOn})` : n.serverType,
              n.models.join(", "),
              String(n.requestsPerMonth),
              String(n.busyHoursPerMonth),
              percent(n.utilization),
              percent(n.peakUtilization),
              seconds(n.peakQueueDelaySeconds),
            ]),
          ),
        ]),
    `The ${speed.parallelRequests} parallel request(s) per model share the node's speed; they do not multiply it.`,
    `Capacity at ${percent(capacity.utilizationCeiling)} utilization: ${capacity.requestsPerMonth} requests, ${capacity.outputTokensPerMonth} output tokens a month` +
      (busiest === undefined ? "." : `, until the busiest node (${busiest.name}) reaches it.`),
    `Workload: ${workload.requestsPerMonth} requests a month, ${workload.busyHoursPerMonth} busy hours${busiest === undefined ? "" : ` on ${busiest.name}`}, utilization ${percent(workload.utilization)}: ` +
      (workload.fits ? "it fits." : `it does not fit; ${workload.servedRequestsPerMonth} served here.`),
    `Median request alone: ${capacity.requestSeconds} s. At the peak hour (${workload.peakFactor} x the average; M/M/1${busiest === undefined ? "" : `, on ${busiest.name}`}): utilization ` +
      `${percent(workload.peakUtilization)}, mean queueing delay ${seconds(workload.peakQueueDelaySeconds)}, median request ${seconds(workload.peakMedianRequestSeconds)}.`,
    fallback.requestsPerMonth === 0
      ? "Nothing above capacity: no request goes to a cloud fallback."
      : fallback.costs.length === 0
        ? `Above capacity, with no cloud fallback: ${percent(fallback.share)} (${fallback.requestsPerMonth} requests a month).`
        : `Sent to a cloud fallback: ${percent(fallback.share)} (${fallback.requestsPerMonth} requests), EUR ${fallback.eurMonth.toFixed(2)} a month ` +
          `(${fallback.costs.map((c) => `${c.model} ${c.requestsPerMonth} requests, USD ${c.usdMonth.toFixed(2)}`).join("; ")}).`,
    `Per million output tokens: EUR ${t.costPerMillionOutputTokens.eur.toFixed(2)} here at this utilization, beside:`,
    table(
      ["API", "output USD/M", "this workload, USD per M output tokens"],
      t.costPerMillionOutputTokens.cloud.map((c) => [c.model, c.outputUsdPerMillion.toFixed(2), c.workloadUsdPerMillionOutput.toFixed(2)]),
    ),
  ];
  if (t.warning) lines.push(`WARNING: ${t.warning}`);
  return lines.join("\n");
}

/** The report's sections in order; a section with nothing to say (no alert routes, say) is left out. */
const SECTIONS: ((context: ReportContext) => string | undefined)[] = [
  summarySection,
  nodesSection,
  servicesSection,
  exposureSection,
  tailnetAccessSection,
  memoryBudgetSection,
  modelsSection,
  backendsSection,
  qdrantSection,
  alertRoutesSection,
  endpointsSection,
  monthlyCostSection,
  backupsSection,
  throughputSection,
  cloudComparisonSection,
];

export function buildReport(run: ProgramRun): string {
  const context = reportContext(run);
  const sections = SECTIONS.map((section) => section(context)).filter((text): text is string => text !== undefined);
  return sections.join("\n\n") + "\n";
}

/** Every file the program renders for a real program to read, found in the resources' inputs. */
export function renderedFiles(run: ProgramRun): RenderedFile[] {
  const place = nodePlacement(run);
  // The folder of the node a resource is on: its server's name, e.g. ai-prod-inference.
  const nodeFolder = (r: RecordedResource): string => place.serverOf(r)?.name ?? place.roleOf(r) ?? "shared";
  const files: RenderedFile[] = [];
  for (const s of run.ofType(SERVER)) {
    if (typeof s.inputs.userData === "string") files.push({ path: `${s.name}/user-data.yaml`, content: s.inputs.userData });
  }
  for (const cmd of run.ofType(REMOTE_COMMAND)) {
    // Scripts run on the nodes (the bootstrap wait, Coolify's install) are rendered files too.
    if (typeof cmd.inputs.create === "string" && cmd.inputs.create.startsWith("#!")) {
      files.push({ path: `${nodeFolder(cmd)}/scripts/${cmd.name}.sh`, content: cmd.inputs.create });
    }
  }
  for (const c of run.ofType(CONTAINER)) {
    for (const upload of (c.inputs.uploads ?? []) as { file: string; content?: string }[]) {
      // Credential files hold generated secrets, known only after a deployment: they are not written.
      if (typeof upload.content === "string" && !upload.content.startsWith(AFTER_DEPLOY) && !upload.file.includes("/secrets/")) {
        files.push({ path: `${nodeFolder(c)}/${containerName(c)}${upload.file}`, content: upload.content });
      }
    }
  }
  for (const acl of run.ofType(TAILNET_POLICY)) {
    files.push({ path: POLICY_FILE, content: String(acl.inputs.acl) });
  }
  const policy = run.outputs.tailnetPolicy;
  if (typeof policy === "string" && !files.some((f) => f.path === POLICY_FILE)) {
    files.push({ path: POLICY_FILE, content: policy });
  }
  return files;
}
