// The offline evaluator of the tailnet policy: whether an identity reaches a port, how a Tailscale SSH login
// ends, and the policy's own `tests` and `sshTests` run against its grants and SSH rules. Test code: the
// program and the plan need only the access table of components/plan/tailnetAccess.ts.
import { ipEntryAllows, matchesAny, Membership, policyMembership, type ReachRow } from "../../components/plan/tailnetAccess";
import { TAILSCALE_SSH_PORT, type TailnetPolicySpec } from "../../components/plan/tailnetPolicy";
import type { TailnetPolicy } from "../../components/render/tailnetPolicy";

export { reachMatrix } from "../../components/plan/tailnetAccess";

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

/** "tag:x:4000" -> host "tag:x", port 4000; the port is whatever follows the last colon. */
function parseHostPort(text: string): { host: string; port: number } | undefined {
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { host: text.slice(0, colon), port };
}

function testName(section: string, index: number, comment: string | undefined, src: string): string {
  return `${section}[${index}]${comment === undefined ? "" : ` "${comment}"`} (src ${src})`;
}

/**
 * The two environments of the platform's own stacks, with one admin, each environment's deployer tag and one
 * user: the policy spec the policy's tests start from, each adding what it is about (backends, workers).
 */
export const TWO_ENVIRONMENTS: TailnetPolicySpec = {
  prefix: "ai",
  environments: ["dev", "prod"],
  admins: ["admin@example.com"],
  deployers: { dev: ["tag:ai-dev-deployer"], prod: ["tag:ai-prod-deployer"] },
  users: ["alice@example.com"],
};
