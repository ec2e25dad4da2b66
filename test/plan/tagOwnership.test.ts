/**
 * The check a first `pulumi up` makes of an unmanaged tailnet policy: the nodes' tags defined, and owned by the
 * deployer. Pure cases here; the program's refusal under mocks below, and against the fake tailnet in
 * test/lifecycle/policy.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tagOwnershipProblems } from "../../components/plan/tagOwnership";
import { TailnetPolicyError } from "../../components/machines/tailnetPreflight";
import { projectName, recorded, runProgram } from "../harness";

const needs = {
  nodeTags: ["tag:ai-dev-inference", "tag:ai-dev-operations"],
  deployers: ["tag:ai-dev-deployer"],
  deployersSetting: "ai-platform:tailnetDevDeployers",
};
const policy = (fields: Record<string, unknown>) => JSON.stringify(fields);

describe("tag ownership in the tailnet's policy", () => {
  it("a policy without tagOwners (a new tailnet's default) lacks every tag", () => {
    assert.deepEqual(tagOwnershipProblems(policy({ acls: [{ action: "accept", src: ["*"], dst: ["*:*"] }] }), needs), [
      "tag:ai-dev-deployer (a deployer, ai-platform:tailnetDevDeployers) is not defined in tagOwners",
      "tag:ai-dev-inference (a node's tag) is not defined in tagOwners",
      "tag:ai-dev-operations (a node's tag) is not defined in tagOwners",
    ]);
  });

  it("the tags owned by the deployer tag pass, in any spelling of the field the control plane reads", () => {
    const tagOwners = {
      "tag:ai-dev-deployer": ["autogroup:admin"],
      "tag:ai-dev-inference": ["autogroup:admin", "tag:ai-dev-deployer"],
      "tag:ai-dev-operations": ["tag:ai-dev-deployer"],
    };
    assert.deepEqual(tagOwnershipProblems(policy({ tagOwners }), needs), []);
    assert.deepEqual(tagOwnershipProblems(policy({ TagOwners: tagOwners }), needs), []);
  });

  it("a node tag the deployer does not own is named with its owners", () => {
    const tagOwners = { "tag:ai-dev-deployer": ["autogroup:admin"], "tag:ai-dev-inference": ["autogroup:admin"], "tag:ai-dev-operations": ["tag:ai-dev-deployer"] };
    assert.deepEqual(tagOwnershipProblems(policy({ tagOwners }), needs), [
      "tag:ai-dev-inference is owned by [autogroup:admin], not by the deployer tag:ai-dev-deployer that mints the node's key",
    ]);
  });

  it("a user deployer owns through a group or an admin autogroup, not through another user", () => {
    const user = { ...needs, nodeTags: ["tag:ai-dev-inference"], deployers: ["alice@example.com"] };
    const owned = (owners: string[], groups = {}) => tagOwnershipProblems(policy({ groups, tagOwners: { "tag:ai-dev-inference": owners } }), user);
    assert.deepEqual(owned(["alice@example.com"]), []);
    assert.deepEqual(owned(["group:ops"], { "group:ops": ["alice@example.com"] }), []);
    assert.deepEqual(owned(["autogroup:admin"]), []);
    assert.equal(owned(["bob@example.com"]).length, 1);
    assert.equal(owned(["group:ops"], { "group:ops": ["bob@example.com"] }).length, 1);
  });

  it("a policy that is not JSON is a problem, not a crash", () => {
    assert.match(tagOwnershipProblems("{", needs)[0], /could not be read as JSON/);
  });
});

describe("the program and the tailnet's policy", () => {
  const PROJECT = projectName();

  it("an update against a policy that lacks the tags stops before declaring any resource, saying what to merge", async () => {
    await assert.rejects(runProgram("dev", { tailnetPolicy: "{}" }), (err: Error) => {
      assert.ok(err instanceof TailnetPolicyError, `a TailnetPolicyError, not ${err.name}`);
      assert.match(err.message, /tag:ai-dev-inference \(a node's tag\) is not defined in tagOwners/);
      assert.match(err.message, /tag:ai-dev-operations/);
      assert.match(err.message, /Merge plan-out\/dev\/tailnet-policy\.hujson \(written by `npm run plan -- dev`\)/);
      assert.match(err.message, new RegExp(`pulumi config set --stack prod ${PROJECT}:manageTailnetPolicy true`));
      assert.doesNotMatch(err.message, /tailnetPolicy output|stack output/, "no output exists before a first up");
      assert.equal(err.stack, `TailnetPolicyError: ${err.message}`, "no stack trace");
      return true;
    });
    assert.equal(recorded().length, 0, "nothing declared");
  });

  it("a preview does not read the policy (it must run offline), nor does a stack that manages it", async () => {
    const preview = await runProgram("dev", { preview: true, tailnetPolicy: "{}" });
    assert.ok(!preview.calls.some((c) => c.token === "tailscale:index/getAcl:getAcl"));
    const managed = await runProgram("prod", {
      tailnetPolicy: "{}",
      set: { [`${PROJECT}:manageTailnetPolicy`]: "true", [`${PROJECT}:tailnetUsers`]: ["user@example.com"] },
    });
    assert.ok(!managed.calls.some((c) => c.token === "tailscale:index/getAcl:getAcl"));
    assert.ok(managed.resources.length > 0);
  });

  it("an update against the policy the stack renders reads it once and goes on", async () => {
    const run = await runProgram("dev");
    assert.equal(run.calls.filter((c) => c.token === "tailscale:index/getAcl:getAcl").length, 1);
  });
});

describe("external backends in the tailnet's policy", () => {
  const tagOwners = {
    "tag:ai-dev-deployer": ["autogroup:admin"],
    "tag:ai-dev-inference": ["tag:ai-dev-deployer"],
    "tag:ai-dev-operations": ["tag:ai-dev-deployer"],
    "tag:ai-dev-gpu": ["autogroup:admin"],
  };
  const withBackend = {
    ...needs,
    backends: [{ name: "gpu-box", tag: "tag:ai-dev-gpu", port: 11434 }],
    litellmNodeTag: "tag:ai-dev-inference",
    backendsSetting: "ai-platform:tailnetDevBackends",
  };

  it("a policy merged before the backend was added lacks its grant, and says which", () => {
    assert.deepEqual(tagOwnershipProblems(policy({ tagOwners, grants: [] }), withBackend), [
      "no grant lets tag:ai-dev-inference (LiteLLM's node) reach the backend gpu-box at tag:ai-dev-gpu:11434 (ai-platform:tailnetDevBackends)",
    ]);
    const { "tag:ai-dev-gpu": _gpu, ...withoutTag } = tagOwners;
    void _gpu;
    assert.deepEqual(tagOwnershipProblems(policy({ tagOwners: withoutTag }), withBackend), [
      "tag:ai-dev-gpu (the backend gpu-box, ai-platform:tailnetDevBackends) is not defined in tagOwners",
    ]);
  });

  it("the grant the stack renders passes; one to another port or from another node does not", () => {
    const grant = (src: string, ip: string) => ({ src: [src], dst: ["tag:ai-dev-gpu"], ip: [ip] });
    assert.deepEqual(tagOwnershipProblems(policy({ tagOwners, grants: [grant("tag:ai-dev-inference", "tcp:11434")] }), withBackend), []);
    assert.deepEqual(tagOwnershipProblems(policy({ tagOwners, grants: [grant("tag:ai-dev-inference", "tcp:*")] }), withBackend), []);
    assert.equal(tagOwnershipProblems(policy({ tagOwners, grants: [grant("tag:ai-dev-inference", "tcp:8000")] }), withBackend).length, 1);
    assert.equal(tagOwnershipProblems(policy({ tagOwners, grants: [grant("tag:ai-dev-operations", "tcp:11434")] }), withBackend).length, 1);
  });

  it("a policy with legacy acls is not second-guessed", () => {
    assert.deepEqual(tagOwnershipProblems(policy({ tagOwners, acls: [{ action: "accept", src: ["*"], dst: ["*:*"] }] }), withBackend), []);
  });
});
