/**
 * Resizing the inference node up and back down: the server is changed in place (same server, same volume, same
 * device), its disk kept so the way back exists (the fake refuses a smaller type on an upgraded disk, as Hetzner
 * does), the server is shut down by ACPI (never powered off hard) before its type changes, the bootstrap wait runs
 * again once the node is back, and the containers take their new memory limits.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { nodePlacement } from "../../tools/nodePlacement";
import { runProgram } from "../../tools/mocksRunner";
import { log } from "../localcloud/cloud";
import { SKIP, onOutput, startScenario, type Scenario } from "./scenario";
import { assertServicesOn, snapshot } from "./nodes";

describe("resizing the inference node up and back down", { skip: SKIP }, () => {
  let s: Scenario;
  before(async () => {
    s = await startScenario("dev");
  });
  after(async () => {
    await s?.close();
  });

  it("up, then cx33 and back to cx23: both succeed, the disk, the volume and its data stay", async () => {
    const first = await s.project.stack.up({ onOutput: onOutput("up"), color: "never" });
    assert.equal(first.summary.result, "succeeded");
    const before = snapshot(s, first.outputs).inference;
    before.volume.files.set("qdrant/collection", "vectors");
    const diskAtStart = before.server.diskGb;

    for (const type of ["cx33", "cx23"]) {
      await s.project.stack.setConfig("ai-platform:inferenceServerType", { value: type });
      const waitsBefore = s.cloud.node(before.hostname)!.commands.filter((c) => c.handler === "bootstrap-wait").length;
      const stopsBefore = s.cloud.node(before.hostname)!.stops.length;
      const requestsBefore = s.cloud.hetzner.requests.length;
      const started = Date.now();
      const result = await s.project.stack.up({ onOutput: onOutput(`resize ${type}`), color: "never" });
      log(`resize to ${type}: ${JSON.stringify(result.summary.resourceChanges)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      assert.equal(result.summary.result, "succeeded", `the resize to ${type} succeeds`);
      const now = snapshot(s, result.outputs).inference;
      assert.equal(now.server.id, before.server.id, "the same server, resized in place");
      assert.equal(now.server.serverType, type);
      assert.equal(now.server.diskGb, diskAtStart, "the disk is kept (keepDisk), so the server can go back");
      assert.equal(now.volume.id, before.volume.id);
      assert.equal(now.volume.files.get("qdrant/collection"), "vectors", "the volume's data stays");
      assert.equal(now.device.nodeId, before.device.nodeId, "the same device");
      const node = s.cloud.node(now.hostname)!;
      assertShutDownBeforeTypeChange(s, now.server.id, requestsBefore, type);
      const stops = node.stops.slice(stopsBefore);
      assert.ok(stops.length > 0, `the node was stopped for the resize to ${type}`);
      assert.deepEqual(
        stops.map((x) => x.graceful),
        stops.map(() => true),
        `the node's services were shut down, never cut, for the resize to ${type}`,
      );
      assert.ok(
        node.commands.filter((c) => c.handler === "bootstrap-wait").length > waitsBefore,
        "the bootstrap wait ran again once the node was back",
      );
      // The containers take the memory limits the plan gives for the new type.
      const plan = await runProgram("dev", { set: { "ai-platform:inferenceServerType": type } });
      const placement = nodePlacement(plan);
      for (const want of plan.ofType("docker:index/container:Container").filter((c) => placement.roleOf(c) === "inference")) {
        const got = node.docker.containerByName(String(want.inputs.name));
        assert.equal(got?.hostConfig.Memory, Number(want.inputs.memory) * 1024 * 1024, `${String(want.inputs.name)}'s limit on ${type}`);
      }
      assertServicesOn(s, "inference", now.hostname, now.device.addresses[0]);
    }
  });
});

/**
 * In the fake's request log since `from`: an ACPI shutdown of the server, whose action had completed (and the
 * server was off) before the type change was asked for, and no hard poweroff of the server at all.
 */
function assertShutDownBeforeTypeChange(s: Scenario, serverId: number, from: number, type: string): void {
  const requests = s.cloud.hetzner.requests.slice(from);
  const action = (name: string) => requests.filter((r) => r.method === "POST" && r.path === `/v1/servers/${serverId}/actions/${name}` && r.status < 300);
  assert.deepEqual(action("poweroff"), [], `no hard poweroff of the server for the resize to ${type}`);
  const changes = action("change_type");
  assert.equal(changes.length, 1, `one type change to ${type}`);
  const shutdowns = action("shutdown");
  assert.ok(shutdowns.length > 0, `an ACPI shutdown before the type change to ${type}`);
  const shutdownActions = [...s.cloud.hetzner.state.actions.values()].filter(
    (a) => a.command === "shutdown_server" && a.resources.some((r) => r.type === "server" && r.id === serverId),
  );
  const completed = shutdownActions.filter((a) => a.status === "success" && a.finished !== null && Date.parse(a.finished) <= changes[0].at);
  assert.ok(
    completed.length > 0 && shutdowns[0].at < changes[0].at,
    `the shutdown action completed before the type change to ${type} was asked for`,
  );
}
