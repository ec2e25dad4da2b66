/**
 * Moving an existing tailnet to per-environment deployers. The tailnet still holds the policy of the version
 * before, where one deployer tag owned every environment's node tags (here dev's deployer is still called
 * tag:ai-deployer). The first `up` of the new version must stop before it creates anything, naming the deployer
 * tag and the node tags the policy lacks; once the user has merged the new policy (the README's migration
 * steps), the same `up` succeeds.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { log } from "../localcloud/cloud";
import { SKIP, onOutput, startScenario, type Scenario } from "./scenario";

const FORMER_TAG = "tag:ai-deployer";

describe("a tailnet merged from the version with one deployer for every environment", { skip: SKIP }, () => {
  let s: Scenario;
  let merged: string;
  before(async () => {
    s = await startScenario("dev", { editPolicy: (text) => ((merged = text), text.replaceAll("tag:ai-dev-deployer", FORMER_TAG)) });
  });
  after(async () => {
    await s?.close();
  });

  it("stops the first up before it creates anything, naming dev's deployer tag and the setting", async () => {
    let output = "";
    await assert.rejects(
      s.project.stack.up({ onOutput: (text) => ((output += text), onOutput("up")(text)), color: "never" }),
      () => {
        assert.match(output, /tag:ai-dev-deployer \(a deployer, ai-platform:tailnetDevDeployers\) is not defined in tagOwners/);
        assert.match(output, /tag:ai-dev-inference is owned by \[autogroup:admin, tag:ai-deployer\], not by the deployer tag:ai-dev-deployer/);
        return true;
      },
    );
    const { hetzner, tailscale } = s.cloud;
    assert.deepEqual([...hetzner.state.servers.values()].map((x) => x.name), [], "no server");
    assert.deepEqual([...tailscale.state.keys.values()].map((k) => k.description), [], "no auth key");
  });

  it("succeeds once the new policy is merged, its nodes' tags owned by dev's deployer alone", async () => {
    // The user merges the stack's policy in the admin console: the fake's policy file, replaced.
    s.cloud.tailscale.state.policy = merged;
    s.cloud.tailscale.state.policyIsDefault = false;
    const result = await s.project.stack.up({ onOutput: onOutput("up after merge"), color: "never" });
    log(`up after merge: ${JSON.stringify(result.summary.resourceChanges)}`);
    assert.equal(result.summary.result, "succeeded");
    const keys = [...s.cloud.tailscale.state.keys.values()];
    assert.equal(keys.length, 2, "an auth key per node");
    const devices = [...s.cloud.tailscale.state.devices.values()];
    assert.deepEqual(devices.map((d) => d.tags).flat().sort(), ["tag:ai-dev-inference", "tag:ai-dev-operations"]);
    assert.doesNotMatch(s.cloud.tailscale.state.policy, new RegExp(FORMER_TAG + '"'), "the former tag is gone from the policy");
  });
});
