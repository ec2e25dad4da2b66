/**
 * A node reboot (issue 11, defect 6): after `up` of dev, each node is rebooted through Hetzner's API
 * (`POST /servers/{id}/actions/reboot`), and the fake node starts its services again in the order its real user
 * data gives systemd (test/localcloud/bootOrder.ts): the data volume's mount and Docker, which restarts the
 * containers whose restart policy says so. Every container must come back running, published on the tailnet
 * address, and every bind below the data mount point must show the data volume, with the files the services
 * had written there before the reboot.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { ROLES } from "../../components/catalog/services";
import { log } from "../localcloud/cloud";
import { FAKE_HCLOUD_TOKEN } from "../localcloud/hetzner";
import type { FakeNode } from "../localcloud/node";
import { readBootOrder } from "../localcloud/bootOrder";
import { SKIP, onOutput, startScenario, type Scenario } from "./scenario";

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** What each container's service had written on the volume before the reboot: its bind source -> a file. */
const PROBE = "written-before-the-reboot";

/** Calls the fake Hetzner API as a user's script (or the console) would, with the project's token. */
async function hcloud(s: Scenario, method: string, route: string): Promise<Record<string, unknown>> {
  const res = await fetch(s.cloud.hetzner.endpoint + route, { method, headers: { Authorization: `Bearer ${FAKE_HCLOUD_TOKEN}` } });
  const body = (await res.json()) as Record<string, unknown>;
  assert.ok(res.ok, `${method} ${route}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The binds of a node's containers whose source is on the data volume: container -> [source, destination]. */
function dataBinds(node: FakeNode): Map<string, { source: string; destination: string }[]> {
  const out = new Map<string, { source: string; destination: string }[]>();
  for (const c of node.docker.containers.values()) {
    const binds = node.docker
      .mounts(c)
      .filter((m) => m.type === "bind" && node.dataVolumePath(m.source) !== undefined)
      .map((m) => ({ source: m.source, destination: m.destination }));
    if (binds.length > 0) out.set(c.name, binds);
  }
  return out;
}

/** The stack's `nodes` output, by role: how a user finds each node. */
type NodesOutput = Record<string, { hostname: string; serverName: string; tailnetAddresses: string[] }>;

describe("a node reboot", { skip: SKIP }, () => {
  let s: Scenario;
  let nodes: NodesOutput;
  before(async () => {
    s = await startScenario("dev");
  });
  after(async () => {
    await s?.close();
  });

  it("up of dev succeeds", async () => {
    const started = Date.now();
    const result = await s.project.stack.up({ onOutput: onOutput("up"), color: "never" });
    log(`up: ${JSON.stringify(result.summary.resourceChanges)} in ${seconds(started)}`);
    assert.equal(result.summary.result, "succeeded");
    assert.deepEqual(s.cloud.failedBoots(), []);
    nodes = result.outputs.nodes.value as NodesOutput;
  });

  for (const role of ROLES) {
    it(`after a reboot of the ${role} node, every container is back on the tailnet address with its data volume`, async () => {
      const { hostname, serverName, tailnetAddresses } = nodes[role];
      const node = s.cloud.node(hostname);
      assert.ok(node, `${hostname} runs`);
      const server = [...s.cloud.hetzner.state.servers.values()].find((x) => x.name === serverName);
      assert.ok(server?.userData, `the server ${serverName} and its user data`);
      const order = readBootOrder(server.userData);
      log(`${hostname}: docker.service ${order.dockerWaitsForDataMount ? `waits for ${order.dataMountPoint} (${order.because})` : `does not wait for ${order.dataMountPoint}`}`);
      assert.equal(node.dataMountPoint, order.dataMountPoint);

      // The services' data: a file below each bind source on the volume, seen by the container before the reboot.
      const binds = dataBinds(node);
      assert.ok(binds.size > 0, `${hostname} has containers with their data on the volume`);
      for (const [name, list] of binds) {
        for (const bind of list) {
          node.dataVolume.write(path.posix.join(node.dataVolumePath(bind.source)!, PROBE), name);
          assert.equal(node.dataSeenBy(name, bind.destination)?.get(PROBE), name, `${name} sees its data at ${bind.destination} before the reboot`);
        }
      }
      const containers = [...node.docker.containers.values()];
      const before = new Map(containers.map((c) => [c.name, c.state.status]));
      assert.ok([...before.values()].every((status) => status === "running"), `every container of ${hostname} runs before the reboot`);

      const started = Date.now();
      const boots = node.bootCount;
      const { action } = (await hcloud(s, "POST", `/servers/${server.id}/actions/reboot`)) as { action: { id: number } };
      await until(`the reboot action of ${server.name}`, async () => {
        const { action: now } = (await hcloud(s, "GET", `/actions/${action.id}`)) as { action: { status: string } };
        return now.status === "success";
      });
      await until(`${hostname} to boot again`, () => node.bootCount === boots + 1 && node.booted);
      log(`${hostname}: rebooted in ${seconds(started)}, boot order ${node.lastBootOrder.join(" -> ")}`);

      assert.equal(node.dataMounted, true, `${hostname}'s data volume is mounted`);
      const address = tailnetAddresses[0];
      assert.deepEqual(s.cloud.tailscale.devicesByHostname(hostname).map((d) => d.addresses[0]), [address], `${hostname} is on the tailnet at ${address}`);
      for (const c of containers) {
        assert.equal(c.state.status, "running", `${c.name} runs again after the reboot${c.state.error ? `: ${c.state.error}` : ""}`);
        for (const p of node.docker.publishedPorts(c)) assert.equal(p.hostIp, address, `${c.name} publishes ${p.hostPort} on the tailnet address`);
      }
      for (const [name, list] of binds) {
        for (const bind of list) {
          const seen = node.dataSeenBy(name, bind.destination);
          assert.equal(seen?.get(PROBE), name, `${name} sees the data volume's ${bind.source} at ${bind.destination} after the reboot`);
        }
      }
    });
  }

  it("an up after the reboots, with a refresh, changes nothing", async () => {
    const started = Date.now();
    // The refresh reads every container back: one that had not come back would be planned again.
    const result = await s.project.stack.up({ onOutput: onOutput("re-up"), color: "never", refresh: true });
    log(`re-up: ${JSON.stringify(result.summary.resourceChanges)} in ${seconds(started)}`);
    assert.deepEqual(Object.keys(result.summary.resourceChanges ?? {}), ["same"]);
  });
});
