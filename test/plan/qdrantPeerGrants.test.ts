// Qdrant's peer-to-peer port in the tailnet policy: where an environment has extra inference nodes, its Qdrant
// is a cluster of a peer on each of them and on the inference node, and only those nodes reach each other's
// peer port (it has no authentication of its own but the enforced internal key). The policy's own tests say so,
// a widened grant fails one of them, and without workers the port is nowhere in the policy.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { tagOwnershipProblems } from "../../components/plan/tagOwnership";
import { buildTailnetPolicy, type TailnetPolicySpec } from "../../components/plan/tailnetPolicy";
import { renderTailnetPolicy } from "../../components/render/tailnetPolicy";
import { canReach, runPolicyTests, TWO_ENVIRONMENTS } from "./tailnetEvaluator";

const spec: TailnetPolicySpec = { ...TWO_ENVIRONMENTS, workers: ["dev"] };
const I = "tag:ai-dev-inference";
const W = "tag:ai-dev-worker";
const P2P = 6335;

describe("Qdrant's peer port in the tailnet policy", () => {
  const policy = buildTailnetPolicy(spec);

  it("dev's inference node and dev's extra inference nodes reach each other's peer port", () => {
    assert.ok(canReach(policy, I, `${W}:${P2P}`));
    assert.ok(canReach(policy, W, `${I}:${P2P}`));
    assert.ok(canReach(policy, W, `${W}:${P2P}`), "a worker reaches another worker");
  });

  it("nobody else reaches it: not the operations node, admins, users, deployers, prod's nodes, an outsider", () => {
    for (const src of ["tag:ai-dev-operations", "admin@example.com", "alice@example.com", "tag:ai-dev-deployer", "tag:ai-prod-inference", "tag:ai-prod-operations", "nobody@example.com"]) {
      for (const dst of [I, W]) assert.ok(!canReach(policy, src, `${dst}:${P2P}`), `${src} reaches ${dst}:${P2P}`);
    }
    // A worker reaches nothing else of the platform.
    for (const dst of [`${I}:6333`, `${I}:4000`, `${W}:11434`, "tag:ai-dev-operations:9090", "tag:ai-prod-inference:6335"]) {
      assert.ok(!canReach(policy, W, dst), `${W} reaches ${dst}`);
    }
  });

  it("users and the operations node reach the workers' Qdrant API (each peer answers for the cluster), not its peer port", () => {
    for (const p of [6333, 6334]) assert.ok(canReach(policy, "alice@example.com", `${W}:${p}`), `alice ${p}`);
    assert.ok(canReach(policy, "tag:ai-dev-operations", `${W}:6333`));
    assert.ok(!canReach(policy, "tag:ai-dev-operations", `${W}:6334`));
  });

  it("carries tests that assert it, and they pass", () => {
    assert.deepEqual(runPolicyTests(policy).failures, []);
    const denies = (src: string) => policy.tests.filter((t) => t.src === src).flatMap((t) => t.deny ?? []);
    const accepts = (src: string) => policy.tests.filter((t) => t.src === src).flatMap((t) => t.accept ?? []);
    assert.ok(accepts(I).includes(`${W}:${P2P}`));
    assert.ok(accepts(W).includes(`${I}:${P2P}`));
    for (const src of ["tag:ai-dev-operations", "admin@example.com", "alice@example.com"]) {
      assert.ok(denies(src).includes(`${W}:${P2P}`), `${src}'s tests do not deny ${W}:${P2P}`);
      assert.ok(denies(src).includes(`${I}:${P2P}`), `${src}'s tests do not deny ${I}:${P2P}`);
    }
  });

  for (const [who, src, dst] of [
    ["the operations node", "tag:ai-dev-operations", W],
    ["the admins", "admin@example.com", I],
    ["the user group", "group:ai-users", W],
    ["prod's inference node", "tag:ai-prod-inference", I],
  ] as const) {
    it(`the peer grant widened to ${who} fails a named test`, () => {
      const widened = structuredClone(policy);
      const grant = widened.grants.find((g) => g.ip.includes(`tcp:${P2P}`));
      assert.ok(grant);
      grant.src.push(src);
      const report = runPolicyTests(widened);
      assert.ok(report.failures.some((f) => f.includes(`expected deny for ${dst}:${P2P}`)), report.failures.join("\n"));
    });
  }

  it("without extra inference nodes the peer port is nowhere in the policy", () => {
    const text = renderTailnetPolicy(buildTailnetPolicy({ ...spec, workers: [] }));
    assert.ok(!text.includes(String(P2P)), "6335 in a policy without workers");
  });

  it("a stack that does not manage the policy stops while the peers' grant is missing, naming the setting", () => {
    const needs = {
      nodeTags: [I, "tag:ai-dev-operations", W],
      deployers: ["tag:ai-dev-deployer"],
      deployersSetting: "ai-platform:tailnetDevDeployers",
      litellmNodeTag: I,
      workers: { tag: W, port: 11434, setting: "ai-platform:devInferenceNodes", qdrantPeerPort: P2P },
    };
    assert.deepEqual(tagOwnershipProblems(JSON.stringify(policy), needs), []);
    const without = structuredClone(policy);
    without.grants = without.grants.filter((g) => !g.ip.includes(`tcp:${P2P}`));
    assert.deepEqual(tagOwnershipProblems(JSON.stringify(without), needs), [
      `no grant lets ${I} reach Qdrant's peer port at ${W}:${P2P}, so Qdrant's peers cannot form a cluster (ai-platform:devInferenceNodes)`,
      `no grant lets ${W} reach Qdrant's peer port at ${I}:${P2P}, so Qdrant's peers cannot form a cluster (ai-platform:devInferenceNodes)`,
      `no grant lets ${W} reach Qdrant's peer port at ${W}:${P2P}, so Qdrant's peers cannot form a cluster (ai-platform:devInferenceNodes)`,
    ]);
  });
});
