/**
 * The prod stack's protection in the local cloud: after an up, `destroy` is refused with a message that says
 * why, and nothing is deleted in Hetzner, in the tailnet or on the nodes.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { log } from "../localcloud/cloud";
import { SKIP, onOutput, startScenario, type Scenario } from "./scenario";

/** Everything a user could see go missing, as names. */
function inventory(s: Scenario) {
  const { hetzner, tailscale } = s.cloud;
  const names = (m: Map<unknown, { name: string }>) => [...m.values()].map((x) => x.name).sort();
  return {
    servers: names(hetzner.state.servers),
    volumes: names(hetzner.state.volumes),
    firewalls: names(hetzner.state.firewalls),
    sshKeys: names(hetzner.state.sshKeys),
    // The backups' Storage Box and its sub-accounts (users), which hold every backup of the environment.
    storageBoxes: [...hetzner.state.storageBoxes.values()].map((b) => `${b.name}: ${[...b.subaccounts.values()].map((a) => a.username).join(",")}`).sort(),
    devices: [...tailscale.state.devices.values()].map((d) => `${d.name} [${d.tags.join(",")}]`).sort(),
    // Per running node (its host name is its server generation's: ai-prod-<role>-<id>), its containers.
    containers: s.cloud.boots
      .filter((b) => b.node && !b.deletedAt)
      .map((b) => `${b.serverName}: ${[...b.node!.docker.containers.values()].map((c) => c.name).sort().join(",")}`)
      .sort(),
  };
}

describe("prod stack protection", { skip: SKIP }, () => {
  let s: Scenario;
  before(async () => {
    s = await startScenario("prod");
  });
  after(async () => {
    await s?.close();
  });

  it("up succeeds with delete protection on the servers and volumes", async () => {
    const started = Date.now();
    const result = await s.project.stack.up({ onOutput: onOutput("up"), color: "never" });
    log(`up: ${JSON.stringify(result.summary.resourceChanges)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(result.summary.result, "succeeded");
    assert.deepEqual(s.cloud.failedBoots(), []);
    for (const server of s.cloud.hetzner.state.servers.values()) assert.deepEqual(server.protection, { delete: true, rebuild: true }, server.name);
    for (const volume of s.cloud.hetzner.state.volumes.values()) assert.deepEqual(volume.protection, { delete: true }, volume.name);
    const boxes = [...s.cloud.hetzner.state.storageBoxes.values()];
    assert.deepEqual(boxes.map((b) => [b.name, b.protection.delete, b.subaccounts.size]), [["ai-prod-backups", true, 2]], "the backups' Storage Box, delete-protected, a sub-account per node");
  });

  // Without the stack's deletion guard the engine deleted every container, network, image and command on the
  // nodes first (they depend on the servers), and only then did Hetzner refuse the protected servers: a
  // prod destroy was an outage of every service. The guard depends on everything and is deleted first.
  it("destroy is refused with a clear message and deletes nothing", async () => {
    const before = inventory(s);
    assert.equal(before.servers.length, 2);
    assert.equal(before.storageBoxes.length, 1);
    const deletes = () => s.cloud.hetzner.requests.filter((r) => r.method === "DELETE").length;
    const deletesBefore = deletes();
    const started = Date.now();
    await assert.rejects(s.project.stack.destroy({ onOutput: onOutput("destroy"), color: "never" }), (err: Error) => {
      const protectedLine = err.message.split("\n").find((l) => /protected/i.test(l));
      log(`destroy refused in ${((Date.now() - started) / 1000).toFixed(1)} s: ${protectedLine?.trim() ?? "(no line says 'protected')"}`);
      assert.match(err.message, /protected/i, "the refusal says a resource is protected");
      return true;
    });
    assert.deepEqual(inventory(s), before, "nothing was deleted");
    assert.equal(deletes(), deletesBefore, "no DELETE reached Hetzner");
    const revoked = [...s.cloud.tailscale.state.keys.values()].filter((k) => k.revoked);
    assert.deepEqual(revoked.map((k) => k.description), [], "no auth key was deleted");
  });
});
