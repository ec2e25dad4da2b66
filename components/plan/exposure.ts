/**
 * What the public internet may reach, as data: the Hetzner Cloud Firewall rules of each node. Rules are
 * merged by direction-protocol-port (their sources joined) and rendered in one place, each with a
 * description. No outbound rule is ever added: one would turn outbound into deny-all-but-the-rules.
 */
import { port, type NodeRole } from "../catalog/services";
import type { HostFirewallSpec } from "../render/hostFirewall";

/** Tailscale's default port for direct WireGuard connections; without it peers fall back to DERP relays. */
export const TAILSCALE_DIRECT_UDP_PORT = 41641;

const EVERYWHERE = ["0.0.0.0/0", "::/0"];

export interface FirewallRuleSpec {
  direction: "in";
  protocol: "tcp" | "udp" | "icmp";
  /** A port or range ("80", "60000-61000"); none for ICMP. */
  port?: string;
  sourceIps: string[];
  description: string;
}

export interface PublicNetworkSettings {
  publicWeb: boolean;
  publicWebSourceRanges: string[];
}

export function publicFirewallRules(role: NodeRole, network: PublicNetworkSettings): FirewallRuleSpec[] {
  const rules: FirewallRuleSpec[] = [
    { direction: "in", protocol: "icmp", sourceIps: EVERYWHERE, description: "ICMP: ping and path MTU discovery" },
    {
      direction: "in",
      protocol: "udp",
      port: String(TAILSCALE_DIRECT_UDP_PORT),
      sourceIps: EVERYWHERE,
      description: "Tailscale direct connections (WireGuard); everything else arrives over the tailnet",
    },
  ];
  if (role === "operations" && network.publicWeb) {
    for (const port of ["80", "443"]) {
      rules.push({
        direction: "in",
        protocol: "tcp",
        port,
        sourceIps: network.publicWebSourceRanges,
        description: `Coolify-hosted apps on ${port}, from the CDN's ranges only`,
      });
    }
  }
  return mergeRules(rules);
}

/** Joins rules that share direction, protocol and port, keeping the first description. */
export function mergeRules(rules: FirewallRuleSpec[]): FirewallRuleSpec[] {
  const merged = new Map<string, FirewallRuleSpec>();
  for (const rule of rules) {
    const key = `${rule.direction}-${rule.protocol}-${rule.port ?? ""}`;
    const existing = merged.get(key);
    if (existing) {
      existing.sourceIps = [...new Set([...existing.sourceIps, ...rule.sourceIps])];
    } else {
      merged.set(key, { ...rule, sourceIps: [...new Set(rule.sourceIps)] });
    }
  }
  return [...merged.values()];
}

/**
 * The Docker network of the operations node's platform containers (components/services/monitoring.ts names it):
 * Prometheus and the blackbox exporter scrape and probe the inference node over the tailnet from there.
 */
export const OPERATIONS_PLATFORM_NETWORK = "ai-operations";

/**
 * What each node's host firewall keeps in and out (components/render/hostFirewall.ts). On both nodes, no
 * container reaches Hetzner's metadata service. On the operations node, where Coolify runs the team's apps, no
 * container reaches the tailnet but the platform's own, and, with Coolify, nothing from the public interface
 * reaches Coolify's ports, whatever Docker publishes them on.
 */
export function hostFirewallSpec(role: NodeRole, coolify: boolean): HostFirewallSpec {
  // An extra inference node runs no one's apps: like the inference node, only the metadata service is kept out.
  if (role !== "operations") return { publicDeniedTcpPorts: [] };
  return {
    tailnet: { allowedNetworks: [OPERATIONS_PLATFORM_NETWORK] },
    publicDeniedTcpPorts: coolify ? [port("coolify"), port("coolifyRealtime"), port("coolifyTerminal")] : [],
  };
}
