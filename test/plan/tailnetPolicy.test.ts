// The tailnet policy's rules: its own tests assert every access the design opens or closes, and its grants
// open exactly what the services catalog publishes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { nodeTag, userGroup } from "../../components/catalog/identities";
import { policyPorts, port, portsReachableBy, ROLES, SERVICE_PORTS } from "../../components/catalog/services";
import { buildTailnetPolicy, OUTSIDER, type TailnetPolicySpec } from "../../components/plan/tailnetPolicy";
import type { TailnetPolicy } from "../../components/render/tailnetPolicy";

const spec: TailnetPolicySpec = {
  prefix: "ai",
  environments: ["dev", "prod"],
  admins: ["admin@example.com"],
  deployers: { dev: ["tag:ai-dev-deployer"], prod: ["tag:ai-prod-deployer"] },
  users: ["alice@example.com", "bob@example.com"],
};

const ENVS = ["dev", "prod"];
/** Every port the policy speaks of (what someone reaches, what must stay closed), Tailscale SSH included. */
const ALL_PORTS = policyPorts();
const inference = (env: string) => nodeTag("ai", env, "inference");
const operations = (env: string) => nodeTag("ai", env, "operations");
const NODE_TAGS = ENVS.flatMap((env) => [inference(env), operations(env)]);

/** Whether some `tests` entry from `src` lists `dst` under `kind`: a named case, not a count. */
function hasTest(policy: TailnetPolicy, src: string, kind: "accept" | "deny", dst: string): boolean {
  return policy.tests.some((t) => t.src === src && (t[kind] ?? []).includes(dst));
}

function hasSshTest(policy: TailnetPolicy, src: string, kind: "accept" | "check" | "deny", host: string, user: string): boolean {
  return policy.sshTests.some((t) => t.src === src && t.dst.includes(host) && (t[kind] ?? []).includes(user));
}

describe("buildTailnetPolicy", () => {
  const policy = buildTailnetPolicy(spec);

  it("tags every node per environment and role, and owns every tag it uses", () => {
    assert.equal(nodeTag("ai", "dev", "inference"), "tag:ai-dev-inference");
    assert.deepEqual(Object.keys(policy.tagOwners).sort(), [...NODE_TAGS, "tag:ai-dev-deployer", "tag:ai-prod-deployer"].sort());
    const used = new Set<string>();
    const addHost = (s: string) => {
      const host = /^tag:[^:]+/.exec(s);
      if (host) used.add(host[0]);
    };
    for (const g of policy.grants) [...g.src, ...g.dst].forEach(addHost);
    for (const r of policy.ssh) [...r.src, ...r.dst].forEach(addHost);
    for (const t of policy.tests) [t.src, ...(t.accept ?? []), ...(t.deny ?? [])].forEach(addHost);
    for (const t of policy.sshTests) [t.src, ...t.dst].forEach(addHost);
    for (const tag of used) assert.ok(tag in policy.tagOwners, `${tag} has no tagOwners entry`);
    // Each environment's deployer owns that environment's node tags only: dev's pipeline cannot mint a key
    // that joins a node as prod's.
    for (const env of ENVS) {
      for (const tag of [inference(env), operations(env)]) {
        assert.deepEqual(policy.tagOwners[tag], ["autogroup:admin", "admin@example.com", `tag:ai-${env}-deployer`]);
      }
      assert.deepEqual(policy.tagOwners[`tag:ai-${env}-deployer`], ["autogroup:admin", "admin@example.com"]);
    }
  });

  it("puts the users in the user group", () => {
    assert.deepEqual(policy.groups, { [userGroup("ai")]: ["alice@example.com", "bob@example.com"] });
  });

  it("never grants Ollama, not even through a wildcard", () => {
    for (const grant of policy.grants) {
      for (const ip of grant.ip) {
        assert.doesNotMatch(ip, /11434|\*/, `a grant opens ${ip}`);
      }
    }
  });

  it("has no grant from a dev tag to a prod tag, or back", () => {
    for (const grant of policy.grants) {
      for (const [from, to] of [["dev", "prod"], ["prod", "dev"]]) {
        const fromTag = grant.src.some((s) => s.startsWith(`tag:ai-${from}-`));
        const toTag = grant.dst.some((d) => d.startsWith(`tag:ai-${to}-`));
        assert.ok(!(fromTag && toTag), `grant ${JSON.stringify(grant)} crosses ${from} -> ${to}`);
      }
    }
  });

  it("takes its ports from the services catalog, where each port belongs to one service", () => {
    const users = policy.grants.find((g) => g.src.includes(userGroup("ai")));
    assert.deepEqual(users?.ip, [port("litellm"), port("qdrant"), port("qdrantGrpc")].map((p) => `tcp:${p}`));
    // A shared port would let a grant for the other service open Ollama, or blur what a grant means.
    const numbers = SERVICE_PORTS.map((p) => p.port);
    assert.equal(new Set(numbers).size, numbers.length, `a port number appears twice in the catalog: ${numbers.join(", ")}`);
    for (const p of SERVICE_PORTS) assert.ok(Number.isInteger(p.port) && p.port >= 1 && p.port <= 65535, `${p.name} ${p.port}`);
  });

  describe("its tests cover every accept and deny of the design", () => {
    const admin = "admin@example.com";
    const user = "alice@example.com";
    const deployer = (env: string) => `tag:ai-${env}-deployer`;

    it("admins: every port published on a node but Ollama, and Ollama denied", () => {
      for (const role of ROLES) {
        const published = portsReachableBy("admins", role);
        assert.ok(published.includes(22) && !published.includes(port("ollama")));
        for (const env of ENVS) {
          const tag = nodeTag("ai", env, role);
          for (const port of published) {
            assert.ok(hasTest(policy, admin, "accept", `${tag}:${port}`), `admin accept ${tag}:${port}`);
          }
          assert.ok(hasTest(policy, admin, "deny", `${tag}:${port("ollama")}`), `admin deny ${tag}:11434`);
        }
      }
      for (const tag of NODE_TAGS) assert.ok(hasSshTest(policy, admin, "check", tag, "root"), `admin ssh check on ${tag}`);
    });

    it("admins: root by a check that lasts 12 hours at most; deployers: accept, as automation cannot answer a check", () => {
      const adminRule = policy.ssh.find((r) => r.src.includes(admin));
      assert.deepEqual(
        { action: adminRule?.action, checkPeriod: adminRule?.checkPeriod, dst: adminRule?.dst.sort() },
        { action: "check", checkPeriod: "12h", dst: [...NODE_TAGS].sort() },
      );
      for (const env of ENVS) {
        const rule = policy.ssh.find((r) => r.src.includes(deployer(env)));
        assert.deepEqual({ action: rule?.action, dst: rule?.dst }, { action: "accept", dst: [inference(env), operations(env)] });
      }
    });

    it("an admin who also deploys dev logs in to dev without a check, to prod after one", () => {
      const both = buildTailnetPolicy({ ...spec, deployers: { dev: ["admin@example.com"], prod: ["tag:ai-prod-deployer"] } });
      for (const tag of [inference("dev"), operations("dev")]) assert.ok(hasSshTest(both, admin, "accept", tag, "root"));
      for (const tag of [inference("prod"), operations("prod")]) assert.ok(hasSshTest(both, admin, "check", tag, "root"));
    });

    it("admins: no grant to a port that nothing publishes on that node", () => {
      for (const env of ENVS) {
        for (const [port, tag] of [[3000, inference(env)], [9090, inference(env)], [8000, inference(env)], [4000, operations(env)], [6333, operations(env)], [9115, operations(env)]] as const) {
          assert.ok(!hasTest(policy, admin, "accept", `${tag}:${port}`), `admin accept ${tag}:${port}`);
          const opens = policy.grants.some((g) => g.dst.includes(tag) && g.ip.includes(`tcp:${port}`));
          assert.ok(!opens, `a grant opens ${tag}:${port}`);
        }
      }
    });

    it("deployers: Tailscale SSH as root on their own environment's nodes, never another's", () => {
      for (const [env, other] of [["dev", "prod"], ["prod", "dev"]]) {
        for (const tag of [inference(env), operations(env)]) {
          assert.ok(hasTest(policy, deployer(env), "accept", `${tag}:22`), `${env} deployer accept ${tag}:22`);
          assert.ok(hasSshTest(policy, deployer(env), "accept", tag, "root"), `${env} deployer ssh root on ${tag}`);
        }
        for (const tag of [inference(other), operations(other)]) {
          assert.ok(hasTest(policy, deployer(env), "deny", `${tag}:22`), `${env} deployer deny ${tag}:22`);
          assert.ok(hasSshTest(policy, deployer(env), "deny", tag, "root"), `${env} deployer ssh denied on ${tag}`);
        }
        for (const e of ENVS) assert.ok(hasTest(policy, deployer(env), "deny", `${inference(e)}:11434`));
      }
      const crossing = policy.grants.filter((g) => g.src.includes(deployer("dev")) && g.dst.some((d) => d.startsWith("tag:ai-prod-")));
      assert.deepEqual(crossing, [], "a grant lets dev's deployer reach a prod node");
    });

    it("always tests the denies that matter, whatever the spec: a deployer elsewhere, a user anywhere", () => {
      const bare = buildTailnetPolicy({ ...spec, admins: [], users: [] });
      for (const tag of [inference("prod"), operations("prod")]) assert.ok(hasSshTest(bare, deployer("dev"), "deny", tag, "root"));
      for (const tag of [inference("dev"), operations("dev")]) assert.ok(hasSshTest(bare, deployer("prod"), "deny", tag, "root"));
      // With no member of the user group to stand for "a user", someone in no list does.
      for (const tag of NODE_TAGS) {
        assert.ok(hasSshTest(bare, OUTSIDER, "deny", tag, "root"), `outsider ssh denied on ${tag}`);
        for (const port of ALL_PORTS) assert.ok(hasTest(bare, OUTSIDER, "deny", `${tag}:${port}`), `outsider deny ${tag}:${port}`);
      }
    });

    it("users: LiteLLM and Qdrant in every environment; not Ollama, Grafana, SSH or anything else", () => {
      for (const env of ENVS) {
        for (const port of [4000, 6333, 6334]) assert.ok(hasTest(policy, user, "accept", `${inference(env)}:${port}`));
        // 4001: LiteLLM's metrics port, served without a key, is not for users (its labels name other teams' keys and users).
        for (const port of [11434, 22, 9100, 8080, 4001]) assert.ok(hasTest(policy, user, "deny", `${inference(env)}:${port}`));
        for (const port of [3000, 9090, 9093, 8000, 9100, 8080, 22]) {
          assert.ok(hasTest(policy, user, "deny", `${operations(env)}:${port}`), `user deny ${operations(env)}:${port}`);
        }
      }
      for (const tag of NODE_TAGS) assert.ok(hasSshTest(policy, user, "deny", tag, "root"), `user ssh denied on ${tag}`);
    });

    it("operations nodes: their own inference node's metrics ports and their own exporters only", () => {
      for (const env of ENVS) {
        const ops = operations(env);
        for (const port of [9100, 8080, 4000, 4001, 6333]) assert.ok(hasTest(policy, ops, "accept", `${inference(env)}:${port}`));
        for (const port of [9100, 8080]) assert.ok(hasTest(policy, ops, "accept", `${ops}:${port}`));
        for (const port of [11434, 6334, 22]) assert.ok(hasTest(policy, ops, "deny", `${inference(env)}:${port}`));
      }
    });

    it("dev and prod devices cannot reach each other on any port", () => {
      for (const [from, to] of [["dev", "prod"], ["prod", "dev"]]) {
        for (const src of [inference(from), operations(from)]) {
          for (const dst of [inference(to), operations(to)]) {
            for (const port of ALL_PORTS) assert.ok(hasTest(policy, src, "deny", `${dst}:${port}`), `${src} deny ${dst}:${port}`);
          }
        }
      }
    });
  });

  it("rejects specs that cannot make a valid policy, naming the field", () => {
    assert.throws(() => buildTailnetPolicy({ ...spec, prefix: "AI_" }), /prefix is "AI_"/);
    assert.throws(() => buildTailnetPolicy({ ...spec, environments: [] }), /environments is empty/);
    assert.throws(() => buildTailnetPolicy({ ...spec, users: ["group:eng"] }), /users has "group:eng"/);
    assert.throws(() => buildTailnetPolicy({ ...spec, deployers: { dev: ["ci"], prod: [] } }), /deployers of dev has "ci"/);
    assert.throws(
      () => buildTailnetPolicy({ ...spec, deployers: { dev: ["tag:ai-ci"], prod: ["tag:ai-ci"] } }),
      /"tag:ai-ci" deploys both dev and prod: give each environment its own deployers/,
    );
    assert.throws(() => buildTailnetPolicy({ ...spec, deployers: { staging: ["tag:ai-ci"] } }), /deployers names "staging"/);
    assert.throws(() => buildTailnetPolicy({ ...spec, exampleUser: "admin@example.com", users: ["admin@example.com"] }), /exampleUser/);
  });

  it("picks example identities that are concrete users and not admins", () => {
    const mixed = buildTailnetPolicy({ ...spec, admins: ["group:sre", "root@example.com"], users: ["root@example.com", "carol@example.com"] });
    assert.ok(mixed.tests.some((t) => t.src === "root@example.com" && t.deny?.includes("tag:ai-dev-inference:11434")));
    assert.ok(hasTest(mixed, "carol@example.com", "deny", "tag:ai-dev-operations:3000"));
    // With no user e-mail among the admins, their tests are left out rather than aimed at a group.
    const groupsOnly = buildTailnetPolicy({ ...spec, admins: ["group:sre"] });
    assert.ok(groupsOnly.tests.every((t) => !t.src.startsWith("group:")));
  });
});
