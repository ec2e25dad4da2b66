// The offline evaluator: the policy's own tests pass, and widening any grant makes a named test fail.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildTailnetPolicy, stackPolicySpec, type TailnetPolicySpec } from "../../components/plan/tailnetPolicy";
import { renderTailnetPolicy } from "../../components/render/tailnetPolicy";
import { loadStackSettings, projectName } from "../harness";
import type { TailnetPolicy } from "../../components/render/tailnetPolicy";
import {
  canReach,
  formatReachMatrix,
  reachMatrix,
  runPolicyTests,
  sshOutcome,
} from "./tailnetEvaluator";

const spec: TailnetPolicySpec = {
  prefix: "ai",
  environments: ["dev", "prod"],
  admins: ["admin@example.com"],
  deployers: { dev: ["tag:ai-dev-deployer", "laptop@example.com"], prod: ["tag:ai-prod-deployer"] },
  users: ["alice@example.com", "bob@example.com"],
};

const base = buildTailnetPolicy(spec);
const widened = (change: (p: TailnetPolicy) => void): TailnetPolicy => {
  const copy = structuredClone(base);
  change(copy);
  return copy;
};
const userGrant = (p: TailnetPolicy) => {
  const grant = p.grants.find((g) => g.src.includes("group:ai-users"));
  assert.ok(grant, "the policy has a user grant");
  return grant;
};

describe("runPolicyTests", () => {
  it("passes every test and SSH test of the built policy", () => {
    const report = runPolicyTests(base);
    assert.deepEqual(report.failures, []);
    const assertions =
      base.tests.reduce((n, t) => n + (t.accept?.length ?? 0) + (t.deny?.length ?? 0), 0) +
      base.sshTests.reduce((n, t) => n + t.dst.length * ((t.accept?.length ?? 0) + (t.check?.length ?? 0) + (t.deny?.length ?? 0)), 0);
    assert.equal(report.passed, assertions);
  });

  it("passes every test of the policy each stack renders, the same file for dev and prod, with or without admins and users", () => {
    const project = projectName();
    for (const set of [{}, { [`${project}:tailnetAdmins`]: ["admin@example.com"], [`${project}:tailnetUsers`]: ["alice@example.com"] }]) {
      const [dev, prod] = ["dev", "prod"].map((stack) => buildTailnetPolicy(stackPolicySpec(loadStackSettings(stack, set))));
      assert.equal(renderTailnetPolicy(dev), renderTailnetPolicy(prod), "dev and prod render different policies");
      const report = runPolicyTests(prod);
      assert.deepEqual(report.failures, []);
      // The denies that hold whatever the settings: dev's deployer never logs in to prod, a user nowhere.
      assert.ok(prod.sshTests.some((t) => t.src === "tag:ai-dev-deployer" && t.dst.includes("tag:ai-prod-inference") && t.deny?.includes("root")));
      assert.ok(prod.sshTests.some((t) => !t.src.startsWith("tag:") && t.dst.length === 4 && t.deny?.includes("root")));
    }
  });

  it("fails, naming the test, when the users' grant gains Ollama", () => {
    const report = runPolicyTests(widened((p) => userGrant(p).ip.push("tcp:11434")));
    assert.ok(
      report.failures.some((f) => f.includes("(src alice@example.com)") && f.includes("expected deny for tag:ai-dev-inference:11434")),
      report.failures.join("\n"),
    );
    assert.ok(report.failures.some((f) => f.includes("tag:ai-prod-inference:11434")));
  });

  it("fails when a dev node gets a grant to a prod node", () => {
    const report = runPolicyTests(
      widened((p) => p.grants.push({ src: ["tag:ai-dev-operations"], dst: ["tag:ai-prod-inference"], ip: ["tcp:9100"] })),
    );
    assert.ok(
      report.failures.some((f) => f.includes("(src tag:ai-dev-operations)") && f.includes("expected deny for tag:ai-prod-inference:9100")),
      report.failures.join("\n"),
    );
  });

  it("fails when users are given Grafana", () => {
    const report = runPolicyTests(
      widened((p) => p.grants.push({ src: ["group:ai-users"], dst: ["tag:ai-dev-operations"], ip: ["3000"] })),
    );
    assert.ok(report.failures.some((f) => f.includes("alice@example.com") && f.includes("tag:ai-dev-operations:3000")));
  });

  it("fails when the admins' ports become \"*\", which would include Ollama", () => {
    const report = runPolicyTests(widened((p) => (p.grants[0].ip = ["*"])));
    assert.ok(report.failures.some((f) => f.includes("admin@example.com") && f.includes("expected deny for tag:ai-dev-inference:11434")));
  });

  it("fails the SSH tests when dev's deployer gets into prod", () => {
    const crossing = runPolicyTests(
      widened((p) => p.ssh.unshift({ action: "accept", src: ["tag:ai-dev-deployer"], dst: ["tag:ai-prod-inference"], users: ["root"] })),
    );
    assert.ok(
      crossing.failures.some((f) => f.includes("(src tag:ai-dev-deployer)") && f.includes("expected deny as root on tag:ai-prod-inference")),
      crossing.failures.join("\n"),
    );
  });

  it("fails the SSH tests when users get a shell or deployers lose theirs", () => {
    const userShell = runPolicyTests(
      widened((p) => p.ssh.push({ action: "accept", src: ["group:ai-users"], dst: ["tag:ai-dev-inference"], users: ["root"] })),
    );
    assert.ok(userShell.failures.some((f) => f.startsWith("sshTests[") && f.includes("expected deny as root on tag:ai-dev-inference")));
    const noPort22 = runPolicyTests(widened((p) => (p.grants = p.grants.filter((g) => !g.ip.includes("tcp:22") || g.src.includes("autogroup:admin")))));
    assert.ok(noPort22.failures.some((f) => f.includes("(src tag:ai-dev-deployer)") && f.includes("expected accept as root")));
  });

  it("fails an accept test when a needed grant goes missing", () => {
    const report = runPolicyTests(widened((p) => (userGrant(p).ip = ["tcp:4000"])));
    assert.ok(report.failures.some((f) => f.includes("expected accept for tag:ai-dev-inference:6333, but no grant allows it")));
  });
});

describe("canReach", () => {
  it("reads grants through groups, tags and the ip field's forms", () => {
    assert.ok(canReach(base, "bob@example.com", "tag:ai-prod-inference:6334"));
    assert.ok(!canReach(base, "bob@example.com", "tag:ai-prod-inference:11434"));
    assert.ok(!canReach(base, "stranger@example.com", "tag:ai-dev-inference:4000"));
    assert.ok(canReach(base, "tag:ai-dev-operations", "tag:ai-dev-inference:9100"));
    assert.ok(!canReach(base, "tag:ai-dev-operations", "tag:ai-prod-inference:9100"));

    const forms: TailnetPolicy = {
      ...base,
      grants: [
        { src: ["*"], dst: ["tag:a"], ip: ["8000-8099"] },
        { src: ["autogroup:member"], dst: ["tag:b"], ip: ["udp:53", "tcp:80,443"] },
        { src: ["tag:c"], dst: ["*"], ip: ["*"] },
      ],
    };
    assert.ok(canReach(forms, "tag:x", "tag:a:8050"));
    assert.ok(!canReach(forms, "tag:x", "tag:a:8100"));
    assert.ok(canReach(forms, "alice@example.com", "tag:b:443"));
    assert.ok(!canReach(forms, "alice@example.com", "tag:b:53"), "udp:53 does not open TCP 53");
    assert.ok(canReach(forms, "alice@example.com", "tag:b:53", undefined, "udp"));
    assert.ok(!canReach(forms, "tag:x", "tag:b:80"), "a tag is not autogroup:member");
    assert.ok(canReach(forms, "tag:c", "tag:z:11434"));
  });

  it("takes membership from the caller, e.g. who the control plane counts as an admin", () => {
    const membership = (id: string) => (id === "owner@example.com" ? [id, "autogroup:admin"] : [id]);
    assert.ok(canReach(base, "owner@example.com", "tag:ai-prod-operations:3000", membership));
    assert.ok(!canReach(base, "owner@example.com", "tag:ai-prod-inference:11434", membership));
  });
});

describe("sshOutcome", () => {
  it("gives deployers root on their own environment, named admins root after a check, users nothing", () => {
    assert.equal(sshOutcome(base, "tag:ai-prod-deployer", "tag:ai-prod-inference", "root"), "accept");
    assert.equal(sshOutcome(base, "tag:ai-dev-deployer", "tag:ai-prod-inference", "root"), "deny");
    assert.equal(sshOutcome(base, "laptop@example.com", "tag:ai-dev-operations", "root"), "accept");
    assert.equal(sshOutcome(base, "laptop@example.com", "tag:ai-prod-operations", "root"), "deny");
    assert.equal(sshOutcome(base, "admin@example.com", "tag:ai-dev-operations", "root"), "check");
    assert.equal(sshOutcome(base, "alice@example.com", "tag:ai-dev-inference", "root"), "deny");
    assert.equal(sshOutcome(base, "tag:ai-dev-operations", "tag:ai-dev-inference", "root"), "deny");
  });
});

describe("reachMatrix", () => {
  const rows = reachMatrix(base);
  const row = (tag: string, service: string) => rows.find((r) => r.tag === tag && r.service === service);

  it("says Ollama is reachable by nobody", () => {
    const ollama = rows.filter((r) => r.service === "ollama");
    assert.deepEqual(
      ollama.map((r) => r.tag),
      ["tag:ai-dev-inference", "tag:ai-dev-operations", "tag:ai-prod-inference", "tag:ai-prod-operations"],
    );
    for (const r of ollama) assert.deepEqual(r.sources, [], `${r.tag}:${r.port}`);
  });

  it("says LiteLLM is reached by admins, users and the same environment's operations node", () => {
    assert.deepEqual(row("tag:ai-dev-inference", "litellm")?.sources, [
      "admin@example.com",
      "autogroup:admin",
      "group:ai-users",
      "tag:ai-dev-operations",
    ]);
    assert.deepEqual(row("tag:ai-prod-inference", "litellm")?.sources, [
      "admin@example.com",
      "autogroup:admin",
      "group:ai-users",
      "tag:ai-prod-operations",
    ]);
  });

  it("shows Grafana to admins only and SSH to admins and deployers", () => {
    assert.deepEqual(row("tag:ai-prod-operations", "grafana")?.sources, ["admin@example.com", "autogroup:admin"]);
    assert.deepEqual(row("tag:ai-dev-inference", "ssh")?.sources, [
      "admin@example.com",
      "autogroup:admin",
      "laptop@example.com",
      "tag:ai-dev-deployer",
    ]);
    assert.deepEqual(row("tag:ai-prod-inference", "ssh")?.sources, ["admin@example.com", "autogroup:admin", "tag:ai-prod-deployer"]);
  });

  it("formats as one line a tag and port", () => {
    const text = formatReachMatrix(rows);
    assert.match(text, /^tag:ai-dev-inference:11434 \(ollama\): nobody$/m);
    assert.match(text, /^tag:ai-dev-inference:4000 \(litellm\): admin@example\.com, autogroup:admin, group:ai-users, tag:ai-dev-operations$/m);
  });
});
