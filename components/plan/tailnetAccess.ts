// Who may reach what on the tailnet, worked out offline from the policy's grants and SSH rules.
//
// This imitates the Tailscale control plane so that our own tests and the plan report can check the policy
// without a tailnet. It is not the authority: the control plane is, and it runs the same `tests` and `sshTests`
// when the policy is applied. What it models: grants (`src`, `dst`, `ip`) as a union of allows over a deny-by-
// default tailnet; users, groups, tags, "*", autogroup:member and autogroup:tagged as selectors; SSH rules where
// the first matching rule decides. What it does not model: legacy `acls`, hosts and IP addresses, `via`,
// posture, app capabilities, autogroups whose members only the control plane knows (autogroup:admin, unless the
// membership function says so), and SSH "check" periods.

import { isUserIdentity } from "../catalog/identities";
import { SERVICE_PORTS } from "../catalog/services";
import type { TailnetPolicy } from "../render/tailnetPolicy";
import { Ports, resolvePorts, TAILSCALE_SSH_PORT } from "./tailnetPolicy";

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

/**
 * Whether `src` may open a connection to `dst` ("tag:x:port") under the policy's grants.
 * `membership` defaults to {@link policyMembership}; `proto` to TCP, as the control plane's tests do.
 */
export function canReach(
  policy: TailnetPolicy,
  src: string,
  dst: string,
  membership: Membership = policyMembership(policy),
  proto = "tcp",
): boolean {
  return grantsAllowing(policy, src, dst, membership, proto).length > 0;
}

/** The indexes of the grants that let `src` reach `dst` ("tag:x:port"); empty when none does. */
export function grantsAllowing(
  policy: TailnetPolicy,
  src: string,
  dst: string,
  membership: Membership = policyMembership(policy),
  proto = "tcp",
): number[] {
  const target = parseHostPort(dst);
  if (target === undefined) throw new Error(`tailnet access: "${dst}" is not "host:port"`);
  const srcSelectors = membership(src);
  const dstSelectors = membership(target.host);
  const allowing: number[] = [];
  policy.grants.forEach((grant, index) => {
    if (
      matchesAny(grant.src, src, srcSelectors) &&
      matchesAny(grant.dst, target.host, dstSelectors) &&
      grant.ip.some((entry) => ipEntryAllows(entry, proto, target.port))
    ) {
      allowing.push(index);
    }
  });
  return allowing;
}

/** The outcome of a Tailscale SSH login attempt: the first matching rule's action, or "deny". */
export type SshOutcome = "accept" | "check" | "deny";

/**
 * How a Tailscale SSH login of `src` to `host` as `user` ends. The first SSH rule that matches decides, and an
 * accepting rule counts only if the grants also open port 22 to the host: the SSH connection is network traffic.
 */
export function sshOutcome(
  policy: TailnetPolicy,
  src: string,
  host: string,
  user: string,
  membership: Membership = policyMembership(policy),
): SshOutcome {
  const rule = firstSshRule(policy, src, host, user, membership);
  if (rule === undefined) return "deny";
  if (!canReach(policy, src, `${host}:${TAILSCALE_SSH_PORT}`, membership)) return "deny";
  return rule.action;
}

/** What {@link runPolicyTests} found: one count per assertion that held, one message per assertion that did not. */
export interface PolicyTestReport {
  passed: number;
  failures: string[];
}

/**
 * Runs every assertion of the policy's `tests` and `sshTests` against its grants and SSH rules. Each failure
 * names the test (index, comment, src) and the destination that broke, and for a broken deny the grant that
 * opens it. A `deny` in an SSH test passes only when no SSH rule would let the login in, whatever the grants
 * say about port 22: stricter than needed, so a deny never rests on a missing network path alone.
 */
export function runPolicyTests(
  policy: TailnetPolicy,
  membership: Membership = policyMembership(policy),
): PolicyTestReport {
  let passed = 0;
  const failures: string[] = [];

  policy.tests.forEach((test, index) => {
    const name = testName("tests", index, test.comment, test.src);
    const proto = test.proto ?? "tcp";
    for (const dst of test.accept ?? []) {
      if (parseHostPort(dst) === undefined) {
        failures.push(`${name}: cannot read "${dst}" as "host:port"`);
      } else if (canReach(policy, test.src, dst, membership, proto)) {
        passed++;
      } else {
        failures.push(`${name}: expected accept for ${dst}, but no grant allows it`);
      }
    }
    for (const dst of test.deny ?? []) {
      if (parseHostPort(dst) === undefined) {
        failures.push(`${name}: cannot read "${dst}" as "host:port"`);
        continue;
      }
      const allowing = grantsAllowing(policy, test.src, dst, membership, proto);
      if (allowing.length === 0) {
        passed++;
      } else {
        failures.push(`${name}: expected deny for ${dst}, but ${allowing.map((i) => `grants[${i}]`).join(", ")} allow it`);
      }
    }
  });

  policy.sshTests.forEach((test, index) => {
    const name = testName("sshTests", index, test.comment, test.src);
    for (const host of test.dst) {
      const expectations: [SshOutcome, string[] | undefined][] = [
        ["accept", test.accept],
        ["check", test.check],
      ];
      for (const [expected, users] of expectations) {
        for (const user of users ?? []) {
          const actual = sshOutcome(policy, test.src, host, user, membership);
          if (actual === expected) passed++;
          else failures.push(`${name}: expected ${expected} as ${user} on ${host}, got ${actual}`);
        }
      }
      for (const user of test.deny ?? []) {
        const rule = firstSshRule(policy, test.src, host, user, membership);
        if (rule === undefined) passed++;
        else failures.push(`${name}: expected deny as ${user} on ${host}, but ssh[${policy.ssh.indexOf(rule)}] lets it ${rule.action}`);
      }
    }
  });

  return { passed, failures };
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
 * grant or SSH rule has as a destination (or the given `tags`) and every port the policy speaks of (the catalog's,
 * overridden by `ports`), Tailscale SSH included, so a port nobody reaches still shows, with no sources. Sources are listed as the grants write them: groups are not expanded.
 */
export function reachMatrix(
  policy: TailnetPolicy,
  options: { ports?: Partial<Ports>; tags?: readonly string[] } = {},
): ReachRow[] {
  const ports = resolvePorts(options.ports);
  const services: [string, number][] = SERVICE_PORTS.filter((p) => p.reach.length > 0 || p.neverGranted).map((p) => [
    p.name,
    ports[p.name],
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

/** The matrix as text, one line a tag and port: "tag:ai-dev-inference:4000 (litellm): autogroup:admin, ...". */
export function formatReachMatrix(rows: readonly ReachRow[]): string {
  return rows
    .map((row) => `${row.tag}:${row.port} (${row.service}): ${row.sources.length > 0 ? row.sources.join(", ") : "nobody"}`)
    .join("\n");
}

function firstSshRule(
  policy: TailnetPolicy,
  src: string,
  host: string,
  user: string,
  membership: Membership,
): TailnetPolicy["ssh"][number] | undefined {
  const srcSelectors = membership(src);
  const hostSelectors = membership(host);
  return policy.ssh.find(
    (rule) =>
      matchesAny(rule.src, src, srcSelectors) &&
      matchesAny(rule.dst, host, hostSelectors) &&
      rule.users.some((u) => u === user || (u === "autogroup:nonroot" && user !== "root")),
  );
}

function matchesAny(selectors: readonly string[], identity: string, identitySelectors: readonly string[]): boolean {
  return selectors.some((s) => s === "*" || s === identity || identitySelectors.includes(s));
}

/** "tag:x:4000" -> host "tag:x", port 4000; the port is whatever follows the last colon. */
function parseHostPort(text: string): { host: string; port: number } | undefined {
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { host: text.slice(0, colon), port };
}

// IANA protocol numbers the policy may use instead of names.
const PROTOCOL_NUMBERS: Record<string, string> = { "1": "icmp", "6": "tcp", "17": "udp", "132": "sctp" };

/**
 * Whether one grant `ip` entry covers a protocol and port: "*", "4000", "8000-8099", "80,443", "tcp:4000",
 * "tcp:*". A bare port covers every protocol, as in Tailscale's grants.
 */
function ipEntryAllows(entry: string, proto: string, port: number): boolean {
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

function testName(section: string, index: number, comment: string | undefined, src: string): string {
  return `${section}[${index}]${comment === undefined ? "" : ` "${comment}"`} (src ${src})`;
}
