// External backends in the tailnet policy: each environment's LiteLLM node, and nothing else of the platform,
// reaches its backends on their one port; the policy's own tests say so, and a widened grant fails one of them.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildTailnetPolicy, stackPolicySpec, type TailnetPolicySpec } from "../../components/plan/tailnetPolicy";
import { renderTailnetPolicy } from "../../components/render/tailnetPolicy";
import { loadStackSettings, projectName } from "../harness";
import { canReach, runPolicyTests, TWO_ENVIRONMENTS } from "./tailnetEvaluator";

const spec: TailnetPolicySpec = {
  ...TWO_ENVIRONMENTS,
  backends: {
    dev: [{ name: "gpu-box", tag: "tag:ai-dev-gpu", port: 11434 }],
    prod: [
      { name: "vllm", tag: "tag:ai-prod-gpu", port: 8000 },
      { name: "shared", tag: "tag:ai-shared-gpu", port: 11434 },
    ],
  },
};

describe("external backends in the tailnet policy", () => {
  const policy = buildTailnetPolicy(spec);

  it("grants each environment's LiteLLM node its own backends' ports, and only those", () => {
    assert.ok(canReach(policy, "tag:ai-dev-inference", "tag:ai-dev-gpu:11434"));
    assert.ok(!canReach(policy, "tag:ai-dev-inference", "tag:ai-dev-gpu:22"));
    assert.ok(canReach(policy, "tag:ai-prod-inference", "tag:ai-prod-gpu:8000"));
    assert.ok(canReach(policy, "tag:ai-prod-inference", "tag:ai-shared-gpu:11434"));
    for (const [src, dst] of [
      ["tag:ai-dev-operations", "tag:ai-dev-gpu:11434"],
      ["tag:ai-prod-inference", "tag:ai-dev-gpu:11434"],
      ["tag:ai-dev-inference", "tag:ai-prod-gpu:8000"],
      ["alice@example.com", "tag:ai-dev-gpu:11434"],
      ["tag:ai-dev-deployer", "tag:ai-dev-gpu:11434"],
    ]) {
      assert.ok(!canReach(policy, src, dst), `${src} reaches ${dst}`);
    }
    // The backend tag is defined (a grant to an undefined tag is refused) and owned by the admins.
    assert.deepEqual(policy.tagOwners["tag:ai-dev-gpu"], ["autogroup:admin", "admin@example.com"]);
  });

  it("carries tests that assert it, and they all pass", () => {
    const report = runPolicyTests(policy);
    assert.deepEqual(report.failures, []);
    const accepts = policy.tests.filter((t) => t.src === "tag:ai-dev-inference").flatMap((t) => t.accept ?? []);
    assert.ok(accepts.includes("tag:ai-dev-gpu:11434"));
    const denies = (src: string) => policy.tests.filter((t) => t.src === src).flatMap((t) => t.deny ?? []);
    assert.ok(denies("tag:ai-dev-operations").includes("tag:ai-dev-gpu:11434"));
    assert.ok(denies("tag:ai-prod-inference").includes("tag:ai-dev-gpu:11434"));
    assert.ok(denies("alice@example.com").includes("tag:ai-prod-gpu:8000"));
  });

  it("a grant widened to the operations node fails a named test", () => {
    const widened = structuredClone(policy);
    const grant = widened.grants.find((g) => g.dst.includes("tag:ai-dev-gpu"));
    assert.ok(grant);
    grant.src.push("tag:ai-dev-operations");
    const report = runPolicyTests(widened);
    assert.ok(
      report.failures.some((f) => f.includes("tag:ai-dev-operations") && f.includes("expected deny for tag:ai-dev-gpu:11434")),
      report.failures.join("\n"),
    );
  });

  it("a backend shared by both environments is reached by both LiteLLM nodes, and its tests still pass", () => {
    const shared = buildTailnetPolicy({
      ...spec,
      backends: { dev: [{ name: "box", tag: "tag:ai-box", port: 11434 }], prod: [{ name: "box", tag: "tag:ai-box", port: 11434 }] },
    });
    assert.ok(canReach(shared, "tag:ai-dev-inference", "tag:ai-box:11434"));
    assert.ok(canReach(shared, "tag:ai-prod-inference", "tag:ai-box:11434"));
    assert.deepEqual(runPolicyTests(shared).failures, []);
  });

  it("refuses a backend carrying a node's or a deployer's tag", () => {
    assert.throws(
      () => buildTailnetPolicy({ ...spec, backends: { dev: [{ name: "x", tag: "tag:ai-prod-inference", port: 1 }] } }),
      /backends of dev: "x" has the tag "tag:ai-prod-inference": use a tag of the backend machine's own/,
    );
    assert.throws(() => buildTailnetPolicy({ ...spec, backends: { dev: [{ name: "x", tag: "tag:ai-dev-deployer", port: 1 }] } }), /not a node's or a deployer's/);
  });

  it("each stack renders the same policy from the settings, with dev's backend granted to dev's LiteLLM node", () => {
    const set = { [`${projectName()}:tailnetDevBackends`]: ["name=gpu-box url=http://gpu-box:11434 tag=tag:ai-dev-gpu models=qwen3:8b"] };
    const [dev, prod] = ["dev", "prod"].map((stack) => buildTailnetPolicy(stackPolicySpec(loadStackSettings(stack, set))));
    assert.equal(renderTailnetPolicy(dev), renderTailnetPolicy(prod));
    assert.ok(canReach(prod, "tag:ai-dev-inference", "tag:ai-dev-gpu:11434"));
    assert.deepEqual(runPolicyTests(prod).failures, []);
  });
});
