// Who may reach what on the tailnet, worked out offline from the policy's grants: the plan report's access
// table. The evaluator that runs the policy's own tests against it lives with the tests
// (test/plan/tailnetEvaluator.ts).
//
// This imitates the Tailscale control plane so that the plan report and our own tests can read the policy
// without a tailnet. It is not the authority: the control plane is, and it runs the same `tests` and `sshTests`
// when the policy is applied. What it models: grants (`src`, `dst`, `ip`) as a union of allows over a deny-by-
// default tailnet; users, groups, tags, "*", autogroup:member and autogroup:tagged as selectors; SSH rules where
// the first matching rule decides. What it does not model: legacy `acls`, hosts and IP addresses, `via`,
// posture, app capabilities, autogroups whose members only the control plane knows (autogroup:admin, unless the
// membership function says so), and SSH "check" periods.

import { isUserIdentity } from "../catalog/identities";
import { catalogPorts, SERVICE_PORTS } from "../catalog/services";
import type { TailnetPolicy } from "../render/tailnetPolicy";

/** The selectors an identity matches: itself, its groups, its autogroups. */
export type Membership = (identity: string) => readonly string[];

/**
 * Membership as far as the policy itself tells: an identity is itself, a member of every group that lists it,
 * of autogroup:member if it is a user, and of autogroup:tagged if it is a tag.
 */
export function policyMembership(policy: TailnetPolicy): Membership {
  return (identity) => {
    const selectors = new Set([identity]);
    for (const [group, members] of Object.entries(policy.groups)) {
      if (members.includes(identity)) selectors.add(group);
    }
    if (isUserIdentity(identity)) selectors.add("autogroup:member");
    if (identity.startsWith("tag:")) selectors.add("autogroup:tagged");
    return [...selectors];
  };
}

/** One row of the "who may reach each tailnet port" table. */
export interface ReachRow {
  /** The destination tag, e.g. "tag:ai-dev-inference". */
  tag: string;
  /** The port's name in the services catalog, e.g. "qdrantGrpc", or "ssh" for Tailscale SSH. */
  service: string;
  port: number;
  /** The grant sources (users, groups, tags, autogroups, "*") that open this port, sorted; empty means nobody. */
  sources: string[];
}

/**
 * Who may reach each service port on each tag, from the grants (TCP). Rows cover every tag of `tagOwners` that a
 * grant or SSH rule has as a destination (or the given `tags`) and every port the policy speaks of (the catalog's),
 * Tailscale SSH included, so a port nobody reaches still shows, with no sources. Sources are listed as the grants write them: groups are not expanded.
 */
export function reachMatrix(
  policy: TailnetPolicy,
  options: { tags?: readonly string[] } = {},
): ReachRow[] {
  // A cluster-only port (Qdrant's peer-to-peer) shows where some grant opens it, i.e. where Qdrant is a cluster.
  const cluster = SERVICE_PORTS.some((p) => p.clusterOnly && policy.grants.some((g) => g.ip.includes(`tcp:${p.port}`)));
  const services: [string, number][] = catalogPorts(cluster).filter((p) => p.reach.length > 0 || p.neverGranted).map((p) => [
    p.name,
    p.port,
  ]);
  services.sort((a, b) => a[1] - b[1]);
  // By default the tags something is granted to: the nodes, not a CI runner's tag that only owns them.
  const destinations = new Set([...policy.grants, ...policy.ssh].flatMap((entry) => entry.dst));
  const tags = [...(options.tags ?? Object.keys(policy.tagOwners).filter((tag) => destinations.has(tag)))].sort();
  const membership = policyMembership(policy);

  const rows: ReachRow[] = [];
  for (const tag of tags) {
    const tagSelectors = membership(tag);
    for (const [service, port] of services) {
      const sources = new Set<string>();
      for (const grant of policy.grants) {
        if (matchesAny(grant.dst, tag, tagSelectors) && grant.ip.some((entry) => ipEntryAllows(entry, "tcp", port))) {
          for (const src of grant.src) sources.add(src);
        }
      }
      rows.push({ tag, service, port, sources: [...sources].sort() });
    }
  }
  return rows;
}

/** Whether a grant or rule side (`src` or `dst`) selects an identity, given the selectors the identity matches. */
export function matchesAny(selectors: readonly string[], identity: string, identitySelectors: readonly string[]): boolean {
  return selectors.some((s) => s === "*" || s === identity || identitySelectors.includes(s));
}

// IANA protocol numbers the policy may use instead of names.
const PROTOCOL_NUMBERS: Record<string, string> = { "1": "icmp", "6": "tcp", "17": "udp", "132": "sctp" };

/**
 * Whether one grant `ip` entry covers a protocol and port: "*", "4000", "8000-8099", "80,443", "tcp:4000",
 * "tcp:*". A bare port covers every protocol, as in Tailscale's grants.
 */
export function ipEntryAllows(entry: string, proto: string, port: number): boolean {
  if (entry === "*") return true;
  const colon = entry.indexOf(":");
  const portPart = colon < 0 ? entry : entry.slice(colon + 1);
  if (colon >= 0) {
    const raw = entry.slice(0, colon).toLowerCase();
    const entryProto = PROTOCOL_NUMBERS[raw] ?? raw;
    if (entryProto !== "*" && entryProto !== proto.toLowerCase()) return false;
  }
  return portPart.split(",").some((range) => {
    if (range === "*") return true;
    const bounds = range.split("-").map(Number);
    const low = bounds[0];
    const high = bounds.length > 1 ? bounds[1] : low;
    return port >= low && port <= high;
  });
}

/** What one source of the policy may do: the ports it reaches per node tag, and its Tailscale SSH logins. */
export interface AccessRow {
  /** A grant or SSH rule source as the policy writes it: a user, group, tag or autogroup. */
  source: string;
  /** Node tag to the TCP ports this source reaches there, ascending, by the grants. */
  reaches: Record<string, number[]>;
  /** The SSH rules naming this source, in policy order (the first that matches a login decides). */
  ssh: { action: "accept" | "check"; checkPeriod?: string; dst: string[]; users: string[] }[];
}

/** Who may do what, by source, read from the policy's grants (through {@link reachMatrix}) and SSH rules. */
export function accessBySource(policy: TailnetPolicy): AccessRow[] {
  const rows = new Map<string, AccessRow>();
  const row = (source: string): AccessRow => {
    if (!rows.has(source)) rows.set(source, { source, reaches: {}, ssh: [] });
    return rows.get(source)!;
  };
  for (const grant of policy.grants) grant.src.forEach(row);
  for (const r of reachMatrix(policy)) {
    for (const source of r.sources) (row(source).reaches[r.tag] ??= []).push(r.port);
  }
  for (const rule of policy.ssh) {
    for (const source of rule.src) {
      row(source).ssh.push({ action: rule.action, checkPeriod: rule.checkPeriod, dst: rule.dst, users: rule.users });
    }
  }
  for (const r of rows.values()) for (const ports of Object.values(r.reaches)) ports.sort((a, b) => a - b);
  return [...rows.values()];
}
