/** What the lifecycle scenarios check on each node: the local cloud's records of it, found from the outputs. */
import assert from "node:assert/strict";
import { ROLES, type Role } from "../../components/catalog/services";
import { nodePlacement } from "../../tools/nodePlacement";
import type { FakeServer, FakeVolume } from "../localcloud/hetzner";
import type { Device } from "../localcloud/tailscale";
import type { Scenario } from "./scenario";

export interface NodeSnapshot {
  server: FakeServer;
  volume: FakeVolume;
  device: Device;
  hostname: string;
}

/** What the local cloud holds for each node, found from the stack's outputs. */
export function snapshot(s: Scenario, outputs: Record<string, { value: unknown }>): Record<Role, NodeSnapshot> {
  const nodes = outputs.nodes.value as Record<Role, { hostname: string; serverName: string; tailnetAddresses: string[] }>;
  const { hetzner, tailscale } = s.cloud;
  const entries = ROLES.map((role): [Role, NodeSnapshot] => {
    const server = [...hetzner.state.servers.values()].find((x) => x.name === nodes[role].serverName);
    assert.ok(server, `the ${role} server ${nodes[role].serverName} exists`);
    const volumes = [...hetzner.state.volumes.values()].filter((v) => v.server === server.id);
    assert.equal(volumes.length, 1, `${server.name} has its data volume attached`);
    const devices = tailscale.devicesByHostname(nodes[role].hostname);
    assert.equal(devices.length, 1, `exactly one device ${nodes[role].hostname}`);
    assert.deepEqual(nodes[role].tailnetAddresses[0], devices[0].addresses[0], `the outputs give ${role}'s current address`);
    return [role, { server, volume: volumes[0], device: devices[0], hostname: nodes[role].hostname }];
  });
  return Object.fromEntries(entries) as Record<Role, NodeSnapshot>;
}

/** Every planned container of the role runs on the node, published on its tailnet address only. */
export function assertServicesOn(s: Scenario, role: Role, hostname: string, address: string): void {
  const node = s.cloud.node(hostname);
  assert.ok(node, `${hostname} answers`);
  const placement = nodePlacement(s.plan);
  const planned = s.plan.ofType("docker:index/container:Container").filter((c) => placement.roleOf(c) === role);
  const running = [...node.docker.containers.values()];
  assert.deepEqual(running.map((c) => c.name).sort(), planned.map((c) => String(c.inputs.name)).sort(), `${hostname} runs the plan's containers`);
  for (const c of running) {
    assert.equal(c.state.status, "running", `${c.name} runs on ${hostname}`);
    for (const p of node.docker.publishedPorts(c)) assert.equal(p.hostIp, address, `${c.name} publishes ${p.hostPort} on ${address} only`);
  }
}
