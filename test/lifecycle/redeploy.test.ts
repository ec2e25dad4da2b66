/**
 * `destroy`, then `up` again: destroy completes and leaves nothing (no server, volume, firewall, SSH key, valid
 * auth key, nor device), and the new deployment is found on its new devices only, even with a stale device of
 * the former name planted in the tailnet ahead of it (getDevice takes the first device of a host name).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ROLES } from "../../components/catalog/services";
import { assertServicesOn, snapshot } from "./nodes";
import { SKIP, onOutput, startScenario, type Scenario } from "./scenario";

describe("destroy, then up again", { skip: SKIP }, () => {
  let s: Scenario;
  before(async () => {
    s = await startScenario("dev");
  });
  after(async () => {
    await s?.close();
  });

  it("destroy leaves nothing, and the next up uses the new devices only", async () => {
    const first = await s.project.stack.up({ onOutput: onOutput("up"), color: "never" });
    assert.equal(first.summary.result, "succeeded");
    const was = snapshot(s, first.outputs);

    const destroyed = await s.project.stack.destroy({ onOutput: onOutput("destroy"), color: "never" });
    assert.equal(destroyed.summary.result, "succeeded", "destroy completes");
    const { hetzner, tailscale } = s.cloud;
    assert.deepEqual([...hetzner.state.servers.values()].map((x) => x.name), [], "no server");
    assert.deepEqual([...hetzner.state.volumes.values()].map((x) => x.name), [], "no volume");
    assert.deepEqual([...hetzner.state.firewalls.values()].map((x) => x.name), [], "no firewall");
    assert.deepEqual([...hetzner.state.sshKeys.values()].map((x) => x.name), [], "no SSH key");
    assert.deepEqual([...tailscale.state.keys.values()].filter((k) => k.revoked === undefined).map((k) => k.description), [], "no valid auth key");
    assert.deepEqual([...tailscale.state.devices.values()].map((d) => d.name), [], "no device: each went with its server");

    // A stale device of the former generation's host name and of the bare node name, as a tailnet may hold
    // (a device removed by hand later, another stack's leftovers): the lookup must not find them.
    for (const role of ROLES) {
      const stale = [...tailscale.state.keys.values()].find((k) => k.description === `bootstrap ${was[role].hostname}`);
      assert.ok(stale, `the former ${role} key`);
      tailscale.state.keys.set(stale.id, { ...stale, revoked: undefined, usedBy: [] });
      tailscale.join(stale.key, was[role].hostname);
    }

    const second = await s.project.stack.up({ onOutput: onOutput("redeploy"), color: "never" });
    assert.equal(second.summary.result, "succeeded");
    assert.deepEqual(s.cloud.failedBoots(), []);
    const is = snapshot(s, second.outputs);
    for (const role of ROLES) {
      assert.notEqual(is[role].hostname, was[role].hostname, `${role} is a new generation`);
      assert.notEqual(is[role].device.nodeId, was[role].device.nodeId);
      assertServicesOn(s, role, is[role].hostname, is[role].device.addresses[0]);
    }
  });
});
