/**
 * A user-data change replaces the servers: dev's `swapGiB` changes, and each node comes back as a new server
 * generation that joins the tailnet with a fresh key, under a host name of its own, with the same data volume
 * (same id, same files) attached, the services back on it, and the former device gone from the tailnet.
 * Also: no command reached a node before its bootstrap had finished (./../localcloud/bootstrapRace.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ROLES, type Role } from "../../components/catalog/services";
import { commandsBeforeBootstrap } from "../localcloud/bootstrapRace";
import { log } from "../localcloud/cloud";
import { assertServicesOn, snapshot, type NodeSnapshot } from "./nodes";
import { SKIP, onOutput, startScenario, type Scenario } from "./scenario";

describe("a user-data change replaces the servers, and they come back whole", { skip: SKIP }, () => {
  let s: Scenario;
  let first: Record<Role, NodeSnapshot>;
  before(async () => {
    s = await startScenario("dev");
  });
  after(async () => {
    await s?.close();
  });

  it("up from nothing: no command reaches a node before its bootstrap has finished", async () => {
    const result = await s.project.stack.up({ onOutput: onOutput("up"), color: "never" });
    assert.equal(result.summary.result, "succeeded");
    assert.deepEqual(s.cloud.failedBoots(), []);
    first = snapshot(s, result.outputs);
    for (const role of ROLES) {
      const node = s.cloud.node(first[role].hostname)!;
      const early = commandsBeforeBootstrap(node).map((c) => `${c.handler}: ${c.command.slice(0, 60)}`);
      assert.deepEqual(early, [], `commands ran on ${first[role].hostname} before its bootstrap finished`);
    }
    // The data directories are on the volume, not under its mount point on the root disk.
    const operations = s.cloud.node(first.operations.hostname)!;
    for (const dir of ["prometheus", "alertmanager", "grafana"]) {
      assert.ok(operations.directories.has(`/srv/data/${dir}`), `/srv/data/${dir} exists on the operations node's volume`);
    }
    // What the services wrote: files on each volume, which must stay with it.
    for (const role of ROLES) first[role].volume.files.set(`${role}/written-before-the-change`, `data of ${role}`);
  });

  it("swapGiB changes: each server is replaced by a new generation that joins with a fresh key", async () => {
    await s.project.stack.setConfig("ai-platform:swapGiB", { value: "1" });
    const started = Date.now();
    const result = await s.project.stack.up({ onOutput: onOutput("replace"), color: "never" });
    log(`replace: ${JSON.stringify(result.summary.resourceChanges)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(result.summary.result, "succeeded");
    assert.deepEqual(s.cloud.failedBoots().map((b) => `${b.serverName}: ${b.failure}`), [], "every new server joined the tailnet");
    const { hetzner, tailscale } = s.cloud;
    assert.equal(hetzner.state.servers.size, 2, "two servers, the former ones deleted");
    const now = snapshot(s, result.outputs);
    for (const role of ROLES) {
      const was = first[role];
      const is = now[role];
      assert.notEqual(is.server.id, was.server.id, `the ${role} server was replaced`);
      assert.ok(!hetzner.state.servers.has(was.server.id), `the former ${role} server is gone`);
      assert.match(is.server.userData ?? "", /\bsize: 1G\b/, "the new server has the new swap");
      // A new generation: a new host name, a device of its own, joined with a key made for it.
      assert.notEqual(is.hostname, was.hostname, `${role}'s host name is the new generation's`);
      assert.notEqual(is.device.authKeyId, was.device.authKeyId, `${role} joined with a fresh key`);
      assert.deepEqual(is.device.tags, [`tag:ai-dev-${role}`]);
      assert.equal(is.device.keyExpiryDisabled, true, "a tagged device's key expiry is off");
      // The same volume, with its files, attached to the new server.
      assert.equal(is.volume.id, was.volume.id, `${role}'s volume is the same`);
      assert.equal(is.volume.files.get(`${role}/written-before-the-change`), `data of ${role}`, `${role}'s data stayed`);
      // The services are back, on the new address.
      assertServicesOn(s, role, is.hostname, is.device.addresses[0]);
      const early = commandsBeforeBootstrap(s.cloud.node(is.hostname)!).map((c) => `${c.handler}: ${c.command.slice(0, 60)}`);
      assert.deepEqual(early, [], `commands ran on ${is.hostname} before its bootstrap finished`);
      // The former device is gone from the tailnet.
      assert.equal(tailscale.state.devices.has(was.device.nodeId), false, `the former device ${was.device.name} is removed`);
    }
    const operations = s.cloud.node(now.operations.hostname)!;
    for (const dir of ["prometheus", "alertmanager", "grafana"]) {
      assert.ok(operations.directories.has(`/srv/data/${dir}`), `/srv/data/${dir} is checked again on the new server`);
    }
    const inference = s.cloud.node(now.inference.hostname)!;
    const models = (result.outputs.models.value as string[]).slice().sort();
    assert.deepEqual([...inference.pulledModels].sort(), models, "the models are pulled again on the new server");
    assert.deepEqual(hetzner.unservedRequests(), [], "the Hetzner fake served every request");
  });
});
