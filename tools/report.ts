/**
 * The offline plan's report: what the program declares for a stack, read off the recorded resources and
 * the stack outputs, so that it grows with the program. Pure: a recorded run in, text and files out.
 */
import { parse as parseHujson } from "jsonc-parser";
import { findServerType } from "../components/catalog/serverTypes";
import { reachMatrix } from "../components/plan/tailnetAccess";
import type { TailnetPolicy } from "../components/render/tailnetPolicy";
import { gb } from "../components/plan/capacity";
import type { CloudComparison } from "../components/plan/cost";
import { AFTER_DEPLOY, isAfterDeploy, ProgramRun, RecordedResource } from "./mocksRunner";

const SERVER = "hcloud:index/server:Server";
const FIREWALL = "hcloud:index/firewall:Firewall";
const CONTAINER = "docker:index/container:Container";

export interface RenderedFile {
  /** Path inside the output folder. */
  path: string;
  content: string;
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

/** The role a resource belongs to, from its `<prefix>-<env>-<role>` name. */
function roleOf(resource: RecordedResource): string {
  return /-(inference|operations)/.exec(resource.name)?.[1] ?? "shared";
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

function bindScope(ip: string | undefined): "public" | "tailnet" | "node" {
  if (ip === undefined || ip === "" || ip === "0.0.0.0" || ip === "::") return "public";
  if (ip.startsWith("127.") || ip === "::1") return "node";
  return "tailnet";
}

export function buildReport(run: ProgramRun): string {
  const out = run.outputs as {
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
  };
  const sections: string[] = [];
  sections.push(
    `Offline plan for stack "${run.stack}" (environment ${out.environment}): ` +
      `${run.resources.filter((r) => r.custom).length} resources declared, evaluated under mocks with no ` +
      `credentials. "(known after deploy)" marks what only the cloud assigns.`,
  );

  const servers = run.ofType(SERVER);
  sections.push(
    "## Nodes\n" +
      table(
        ["role", "type", "location", "vCPU", "RAM", "disk", "EUR/month", "backups", "protection", "public IPv4"],
        servers.map((s) => {
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
        }),
      ),
  );

  const containers = run.ofType(CONTAINER).sort((a, b) => roleOf(a).localeCompare(roleOf(b)));
  const serviceRows: string[][] = [];
  for (const c of containers) {
    const ports = (c.inputs.ports ?? []) as PortInput[];
    const limit = typeof c.inputs.memory === "number" ? `${c.inputs.memory} MiB` : "NONE";
    const listen = ports.length
      ? ports.map((p) => `${hostAddress(p.ip)}:${p.external ?? p.internal}->${p.internal}/${p.protocol ?? "tcp"}`).join(", ")
      : "not published";
    // The image id is the pulled digest; before a deployment it is the pinned reference and a marker.
    const image = String(c.inputs.image).replace(/@known-after-deploy$/, "");
    serviceRows.push([roleOf(c), containerName(c), shown(image), limit, listen]);
  }
  sections.push(
    "## Services\n" +
      (serviceRows.length
        ? table(["node", "container", "image", "memory limit", "listens on"], serviceRows)
        : "No containers are declared yet."),
  );

  const exposure: string[][] = [];
  for (const fw of run.ofType(FIREWALL)) {
    for (const rule of (fw.inputs.rules ?? []) as FirewallRuleInput[]) {
      // ICMP opens no port; it is named below the table.
      if (rule.direction !== "in" || rule.protocol === "icmp") continue;
      exposure.push([
        roleOf(fw),
        "public internet",
        `${rule.protocol}${rule.port ? `/${rule.port}` : ""}`,
        (rule.sourceIps ?? []).join(" "),
        rule.description ?? "",
      ]);
    }
  }
  for (const c of containers) {
    for (const p of (c.inputs.ports ?? []) as PortInput[]) {
      const scope = bindScope(isAfterDeploy(p.ip) ? "tailnet" : p.ip);
      exposure.push([
        roleOf(c),
        scope === "public" ? "PUBLIC (all addresses)" : scope === "tailnet" ? "tailnet" : "inside the node",
        `${p.protocol ?? "tcp"}/${p.external ?? p.internal}`,
        scope === "tailnet" ? "per the tailnet policy" : scope === "node" ? "loopback" : "anyone",
        containerName(c),
      ]);
    }
    if (((c.inputs.ports ?? []) as PortInput[]).length === 0) {
      exposure.push([roleOf(c), "inside the node", "-", "Docker networks only", containerName(c)]);
    }
  }
  const icmpAllowed = run
    .ofType(FIREWALL)
    .some((fw) => ((fw.inputs.rules ?? []) as FirewallRuleInput[]).some((r) => r.protocol === "icmp"));
  const unfiltered = servers.filter((s) => !Array.isArray(s.inputs.firewallIds) || s.inputs.firewallIds.length === 0);
  sections.push(
    "## Exposure\n" +
      table(["node", "reachable from", "port", "from", "what"], exposure) +
      (unfiltered.length ? `\nWARNING: no firewall on ${unfiltered.map(roleOf).join(", ")}` : "") +
      (icmpAllowed ? "\nICMP (ping, path MTU discovery) is let in from anywhere; it opens no port." : "") +
      "\nOutbound traffic is unrestricted; inbound traffic not listed here is dropped by the cloud firewall.",
  );

  const policyText = renderedFiles(run).find((f) => f.path === "tailnet-policy.hujson")?.content;
  if (policyText !== undefined) {
    const policy = parseHujson(policyText) as TailnetPolicy;
    const tags = new Set(servers.map((s) => `tag:${s.name}`));
    // Only what listens on each node: the ports its containers publish, Tailscale SSH, Coolify's UI where it
    // is installed, and Ollama's port, to show that nobody reaches it.
    const listening = new Map<string, Set<number>>();
    for (const server of servers) {
      const role = roleOf(server);
      const ports = new Set<number>([22]);
      for (const c of containers.filter((c) => roleOf(c) === role)) {
        for (const p of (c.inputs.ports ?? []) as PortInput[]) ports.add(p.external ?? p.internal);
        if (containerName(c) === "ollama") ports.add(11434);
      }
      if (run.ofType("command:remote:Command").some((c) => roleOf(c) === role && c.name.endsWith("-coolify"))) ports.add(8000);
      listening.set(`tag:${server.name}`, ports);
    }
    const rows = reachMatrix(policy).filter((r) => tags.has(r.tag) && (listening.get(r.tag)?.has(r.port) ?? false));
    const managed = run.ofType("tailscale:index/acl:Acl").length > 0;
    sections.push(
      "## Tailnet access (who may reach each port over the tailnet)\n" +
        table(
          ["node", "port", "service", "who may reach it"],
          rows.map((r) => [r.tag.replace(/^tag:/, ""), String(r.port), r.service, r.sources.join(", ") || "nobody"]),
        ) +
        (managed
          ? "\nThe policy is managed by this stack: `pulumi up` writes it, and the control plane runs its tests first."
          : "\nThe policy is not managed by this stack: merge tailnet-policy.hujson into the tailnet's policy by hand."),
    );
  }

  const budgetRows: string[][] = [];
  for (const [role, b] of Object.entries(out.memoryBudget)) {
    for (const item of b.items) budgetRows.push([role, item.name, gb(item.mib), item.detail]);
    budgetRows.push([role, "OS reserve", gb(b.reserveMib), "kernel, Docker, tailscaled"]);
    budgetRows.push([
      role,
      "headroom",
      gb(b.headroomMib),
      `of ${gb(b.totalMib)}; disk ${b.diskUsedGb.toFixed(1)} of ${b.diskGb} GB`,
    ]);
  }
  sections.push("## Memory budget\n" + table(["node", "item", "memory", "how"], budgetRows));
  sections.push(`## Models\n${out.models.join(", ")}`);
  const routes = (run.outputs.alertmanager as { routes?: { alert: string; severity: string; receiver: string; kind: string }[] } | undefined)?.routes;
  if (routes) {
    sections.push(
      "## Alert routes\n" +
        table(["alert", "severity", "receiver", "how"], routes.map((r) => [r.alert, r.severity, r.receiver, r.kind])) +
        (routes.every((r) => r.kind === "nothing is sent")
          ? "\nNo receiver is configured: alerts show in Alertmanager and Grafana only. Set alertPaging and alertChat."
          : ""),
    );
  }
  const endpoints = endpointRows(run.outputs);
  if (endpoints.length > 0) {
    sections.push(
      "## Endpoints (over the tailnet; credentials are secret stack outputs)\n" +
        table(["service", "URL", "credentials"], endpoints) +
        "\nThe URLs use the node's tailnet address: `pulumi stack output --json` after `pulumi up` gives them whole.",
    );
  }

  sections.push(
    `## Monthly cost (EUR before VAT, prices as of ${out.costBreakdown.pricesAsOf})\n` +
      table(
        ["item", "EUR/month"],
        [...out.costBreakdown.lines.map((l) => [l.item, l.eurMonth.toFixed(2)]), ["total", out.monthlyCostEur.toFixed(2)]],
      ),
  );
  const comparison = run.outputs.costComparison as CloudComparison | undefined;
  if (comparison) {
    sections.push(
      `## Beside cloud APIs (${comparison.requestsPerMonth} requests a month of ${comparison.inputTokens} input and ` +
        `${comparison.outputTokens} output tokens; API prices as of ${comparison.pricesAsOf}, USD ${comparison.usdPerEur} per EUR assumed)\n` +
        table(
          ["", "USD/month", "EUR/month", "the platform is cheaper above"],
          [
            ["this platform (fixed)", (comparison.platformEurMonth * comparison.usdPerEur).toFixed(2), comparison.platformEurMonth.toFixed(2), "-"],
            ...comparison.cloud.map((c) => [c.model, c.usdMonth.toFixed(2), c.eurMonth.toFixed(2), `${c.breakEvenRequestsPerMonth} requests/month`]),
          ],
        ),
    );
  }
  return sections.join("\n\n") + "\n";
}

/** Each `{ url, ... }` stack output is an endpoint; its other string fields name its credentials. */
function endpointRows(outputs: Record<string, unknown>): string[][] {
  const rows: string[][] = [];
  for (const [name, value] of Object.entries(outputs)) {
    if (!value || typeof value !== "object" || !("url" in value)) continue;
    const entry = value as Record<string, unknown>;
    const url = String(entry.url).replace(/known-after-deploy:tailnet-ipv4/, "<tailnet-ip>");
    const credentials = Object.keys(entry).filter((k) => /key|password|token/i.test(k));
    rows.push([name, url, credentials.map((k) => `${name}.${k}`).join(", ") || "-"]);
  }
  return rows;
}

/** The folder of the node a resource belongs to: the server's name, e.g. ai-prod-inference. */
function nodeFolder(run: ProgramRun, r: RecordedResource): string {
  return run.ofType(SERVER).find((s) => roleOf(s) === roleOf(r))?.name ?? roleOf(r);
}

/** Every file the program renders for a real program to read, found in the resources' inputs. */
export function renderedFiles(run: ProgramRun): RenderedFile[] {
  const files: RenderedFile[] = [];
  for (const s of run.ofType(SERVER)) {
    if (typeof s.inputs.userData === "string") files.push({ path: `${s.name}/user-data.yaml`, content: s.inputs.userData });
  }
  for (const cmd of run.ofType("command:remote:Command")) {
    // Scripts run on the nodes (the bootstrap wait, Coolify's install) are rendered files too.
    if (typeof cmd.inputs.create === "string" && cmd.inputs.create.startsWith("#!")) {
      files.push({ path: `${nodeFolder(run, cmd)}/scripts/${cmd.name}.sh`, content: cmd.inputs.create });
    }
  }
  for (const c of run.ofType(CONTAINER)) {
    for (const upload of (c.inputs.uploads ?? []) as { file: string; content?: string }[]) {
      // Credential files hold generated secrets, known only after a deployment: they are not written.
      if (typeof upload.content === "string" && !upload.content.startsWith(AFTER_DEPLOY) && !upload.file.includes("/secrets/")) {
        files.push({ path: `${nodeFolder(run, c)}/${containerName(c)}${upload.file}`, content: upload.content });
      }
    }
  }
  for (const acl of run.ofType("tailscale:index/acl:Acl")) {
    files.push({ path: "tailnet-policy.hujson", content: String(acl.inputs.acl) });
  }
  const policy = run.outputs.tailnetPolicy;
  if (typeof policy === "string" && !files.some((f) => f.path === "tailnet-policy.hujson")) {
    files.push({ path: "tailnet-policy.hujson", content: policy });
  }
  return files;
}
