// Extra inference nodes (workers) in the tailnet policy: an environment with workers gets a worker tag, owned
// like its node tags; its LiteLLM node reaches the workers' Ollama and nothing else does; its operations node
// scrapes their exporters; admins reach their exporters and SSH, deployers their SSH. The policy's own tests
// say so, and a widened grant fails one of them. Without workers the policy is what it was (the committed
// snapshot in test/render/tailnetPolicy.test.ts).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { tagOwnershipProblems } from "../../components/plan/tagOwnership";
import { buildTailnetPolicy, stackPolicySpec, type TailnetPolicySpec } from "../../components/plan/tailnetPolicy";
import { renderTailnetPolicy } from "../../components/render/tailnetPolicy";
import { loadStackSettings, projectName } from "../harness";
import { canReach, runPolicyTests, sshOutcome, TWO_ENVIRONMENTS } from "./tailnetEvaluator";

const spec: TailnetPolicySpec = { ...TWO_ENVIRONMENTS, workers: ["dev"] };

describe("extra inference nodes in the tailnet policy", () => {
  const policy = buildTailnetPolicy(spec);
  const W = "tag:ai-dev-worker";

  it("defines dev's worker tag, owned by the admins and dev's deployers; prod, without workers, has none", () => {
    assert.deepEqual(policy.tagOwners[W], ["autogroup:admin", "admin@example.com", "tag:ai-dev-deployer"]);
    assert.equal(policy.tagOwners["tag:ai-prod-worker"], undefined);
  });

  it("grants dev's LiteLLM node Ollama on the workers, and nobody else", () => {
    assert.ok(canReach(policy, "tag:ai-dev-inference", `${W}:11434`));
    for (const src of ["tag:ai-dev-operations", "tag:ai-prod-inference", "tag:ai-prod-operations", "admin@example.com", "alice@example.com", "tag:ai-dev-deployer", "nobody@example.com"]) {
      assert.ok(!canReach(policy, src, `${W}:11434`), `${src} reaches ${W}:11434`);
    }
    // The LiteLLM node reaches nothing else on a worker.
    for (const p of [22, 8080, 9100]) assert.ok(!canReach(policy, "tag:ai-dev-inference", `${W}:${p}`), `inference reaches ${W}:${p}`);
  });

  it("dev's operations node scrapes the workers' node-exporter and cAdvisor; prod's does not", () => {
    for (const p of [9100, 8080]) {
      assert.ok(canReach(policy, "tag:ai-dev-operations", `${W}:${p}`));
      assert.ok(!canReach(policy, "tag:ai-prod-operations", `${W}:${p}`));
    }
    assert.ok(!canReach(policy, "tag:ai-dev-operations", `${W}:22`));
  });

  it("admins reach the exporters and log in with a check; dev's deployers log in; prod's deployers and users do not", () => {
    for (const p of [22, 8080, 9100]) assert.ok(canReach(policy, "admin@example.com", `${W}:${p}`));
    assert.equal(sshOutcome(policy, "admin@example.com", W, "root"), "check");
    assert.equal(sshOutcome(policy, "tag:ai-dev-deployer", W, "root"), "accept");
    assert.equal(sshOutcome(policy, "tag:ai-prod-deployer", W, "root"), "deny");
    assert.equal(sshOutcome(policy, "alice@example.com", W, "root"), "deny");
    for (const p of [22, 8080, 9100, 11434]) assert.ok(!canReach(policy, "alice@example.com", `${W}:${p}`));
  });

  it("carries tests that assert it, and they all pass", () => {
    assert.deepEqual(runPolicyTests(policy).failures, []);
    const accepts = (src: string) => policy.tests.filter((t) => t.src === src).flatMap((t) => t.accept ?? []);
    const denies = (src: string) => policy.tests.filter((t) => t.src === src).flatMap((t) => t.deny ?? []);
    assert.ok(accepts("tag:ai-dev-inference").includes(`${W}:11434`));
    assert.ok(accepts("tag:ai-dev-operations").includes(`${W}:9100`));
    for (const src of ["tag:ai-dev-operations", "tag:ai-prod-inference", "tag:ai-prod-operations", "admin@example.com", "alice@example.com", "tag:ai-dev-deployer"]) {
      assert.ok(denies(src).includes(`${W}:11434`), `${src}'s tests do not deny ${W}:11434`);
    }
    assert.ok(denies("tag:ai-prod-deployer").includes(`${W}:22`));
    const sshDst = (src: string, outcome: "accept" | "check") =>
      policy.sshTests.filter((t) => t.src === src && (t[outcome] ?? []).length > 0).flatMap((t) => t.dst);
    assert.ok(sshDst("tag:ai-dev-deployer", "accept").includes(W));
    assert.ok(sshDst("admin@example.com", "check").includes(W));
  });

  for (const [who, src] of [
    ["the operations node", "tag:ai-dev-operations"],
    ["prod's LiteLLM node", "tag:ai-prod-inference"],
    ["the user group", "group:ai-users"],
  ] as const) {
    it(`the Ollama grant widened to ${who} fails a named test`, () => {
      const widened = structuredClone(policy);
      const grant = widened.grants.find((g) => g.dst.includes(W) && g.ip.includes("tcp:11434"));
      assert.ok(grant);
      grant.src.push(src);
      const report = runPolicyTests(widened);
      assert.ok(report.failures.some((f) => f.includes(`expected deny for ${W}:11434`)), report.failures.join("\n"));
    });
  }

  it("each stack renders the same policy from the settings; a stack without workers renders none of this", () => {
    const set = { [`${projectName()}:devInferenceNodes`]: ["name=b type=cx33"] };
    const [dev, prod] = ["dev", "prod"].map((stack) => buildTailnetPolicy(stackPolicySpec(loadStackSettings(stack, set))));
    assert.equal(renderTailnetPolicy(dev), renderTailnetPolicy(prod));
    assert.ok(canReach(prod, "tag:ai-dev-inference", `${W}:11434`));
    assert.deepEqual(runPolicyTests(prod).failures, []);
    const none = renderTailnetPolicy(buildTailnetPolicy(stackPolicySpec(loadStackSettings("dev"))));
    assert.ok(!none.includes("worker"));
    assert.equal(none, renderTailnetPolicy(buildTailnetPolicy(stackPolicySpec({ ...loadStackSettings("dev"), workers: { dev: [], prod: [] } }))));
  });

  it("refuses workers of an environment it does not cover, and a backend carrying a worker tag", () => {
    assert.throws(() => buildTailnetPolicy({ ...spec, workers: ["staging"] }), /workers names "staging", which is not one of environments/);
    assert.throws(
      () => buildTailnetPolicy({ ...spec, backends: { dev: [{ name: "x", tag: "tag:ai-prod-worker", port: 1 }] } }),
      /backends of dev: "x" has the tag "tag:ai-prod-worker"/,
    );
  });
});

describe("the preflight of a stack with extra inference nodes that does not manage the policy", () => {
  const needs = {
    nodeTags: ["tag:ai-dev-inference", "tag:ai-dev-operations", "tag:ai-dev-worker"],
    deployers: ["tag:ai-dev-deployer"],
    deployersSetting: "ai-platform:tailnetDevDeployers",
    litellmNodeTag: "tag:ai-dev-inference",
    workers: { tag: "tag:ai-dev-worker", port: 11434, setting: "ai-platform:devInferenceNodes" },
  };
  const merged = buildTailnetPolicy(spec);

  it("passes the policy the stack renders", () => {
    assert.deepEqual(tagOwnershipProblems(JSON.stringify(merged), needs), []);
  });

  it("names the missing worker tag, then the missing grant, with the setting", () => {
    const before = buildTailnetPolicy({ ...spec, workers: [] });
    assert.deepEqual(tagOwnershipProblems(JSON.stringify(before), needs), ["tag:ai-dev-worker (a node's tag) is not defined in tagOwners"]);
    const noGrant = structuredClone(merged);
    noGrant.grants = noGrant.grants.filter((g) => !(g.dst.includes("tag:ai-dev-worker") && g.ip.includes("tcp:11434")));
    assert.deepEqual(tagOwnershipProblems(JSON.stringify(noGrant), needs), [
      "no grant lets tag:ai-dev-inference (LiteLLM's node) reach Ollama on the extra inference nodes at tag:ai-dev-worker:11434 (ai-platform:devInferenceNodes)",
    ]);
  });
});
