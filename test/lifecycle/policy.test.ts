/**
 * A first `up` of dev against a tailnet whose policy file does not define the nodes' tags (a new tailnet's
 * default, which the user has not merged the stack's policy into). The control plane would refuse the nodes'
 * auth keys; the program must find that out before it creates anything, and say what to merge.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { log } from "../localcloud/cloud";
import { SKIP, onOutput, startScenario, type Scenario } from "./scenario";

describe("first up against a tailnet policy that lacks the tags", { skip: SKIP }, () => {
  let s: Scenario;
  before(async () => {
    s = await startScenario("dev", { tailnetPolicy: "default" });
  });
  after(async () => {
    await s?.close();
  });

  it("is refused before any resource is created, with what to merge", async () => {
    const started = Date.now();
    let output = "";
    await assert.rejects(
      s.project.stack.up({ onOutput: (text) => ((output += text), onOutput("up")(text)), color: "never" }),
      (err: Error) => {
        log(`up refused in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        for (const text of [err.message, output]) {
          assert.match(text, /does not let this stack's nodes join or reach what they need, so `pulumi up` stopped before creating anything/);
          assert.match(text, /tag:ai-dev-inference \(a node's tag\) is not defined in tagOwners/);
          assert.match(text, /tag:ai-dev-operations \(a node's tag\) is not defined in tagOwners/);
          assert.match(text, /tag:ai-dev-deployer \(a deployer, ai-platform:tailnetDevDeployers\)/);
          assert.match(text, /Merge plan-out\/dev\/tailnet-policy\.hujson \(written by `npm run plan -- dev`\)/);
        }
        // A RunError prints its message alone: no stack trace of the program reaches the user.
        assert.doesNotMatch(output, /at \S+ \(\/.*\.ts:\d+:\d+\)/, "no stack trace");
        return true;
      },
    );
    const { hetzner, tailscale } = s.cloud;
    const names = (m: Map<unknown, { name: string }>) => [...m.values()].map((x) => x.name);
    assert.deepEqual(names(hetzner.state.sshKeys), [], "no SSH key");
    assert.deepEqual(names(hetzner.state.firewalls), [], "no firewall");
    assert.deepEqual(names(hetzner.state.volumes), [], "no volume");
    assert.deepEqual(names(hetzner.state.servers), [], "no server");
    assert.deepEqual([...tailscale.state.keys.values()].map((k) => k.description), [], "no auth key");
    assert.deepEqual(
      hetzner.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`),
      [],
      "nothing was asked of Hetzner but reads",
    );
    // The one call to the tailnet was the read of its policy file.
    assert.deepEqual(
      tailscale.requests.map((r) => `${r.method} ${r.path}`),
      ["GET /api/v2/tailnet/-/acl"],
    );
    const state = await s.project.stack.exportStack();
    const resources = (state.deployment as { resources?: { type: string }[] }).resources ?? [];
    assert.deepEqual(resources.map((r) => r.type).filter((t) => !t.startsWith("pulumi:")), [], "the stack's state holds no resource");
  });
});
