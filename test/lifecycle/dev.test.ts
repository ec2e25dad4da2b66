/**
 * The dev stack's life in the local cloud, asserted on what a user would find in Hetzner, the tailnet and on the
 * nodes: up from nothing, an up that changes nothing, destroy.
 */
import { nodePlacement } from "../../tools/nodePlacement";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { ROLES } from "../../components/catalog/services";
import { log } from "../localcloud/cloud";
import { SKIP, onOutput, startScenario, type Scenario } from "./scenario";

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** The secret outputs of the contract that dev has (Coolify is off). */
const SECRET_OUTPUTS = [
  "litellm.masterKey",
  "qdrant.apiKey",
  "qdrant.readOnlyApiKey",
  "grafana.adminPassword",
  "rootSshPrivateKey",
  "backup.repositoryPasswords",
  "backup.targetPasswords",
];

describe("dev stack lifecycle", { skip: SKIP }, () => {
  let s: Scenario;
  before(async () => {
    s = await startScenario("dev");
  });
  after(async () => {
    await s?.close();
  });

  it("up from nothing succeeds, and the clouds hold what the plan says", async () => {
    const started = Date.now();
    const result = await s.project.stack.up({ onOutput: onOutput("up"), color: "never" });
    log(`up: ${JSON.stringify(result.summary.resourceChanges)} in ${seconds(started)}`);
    assert.equal(result.summary.result, "succeeded");
    assert.deepEqual(s.cloud.failedBoots(), [], "every server booted and joined the tailnet");

    const { hetzner, tailscale } = s.cloud;
    const servers = [...hetzner.state.servers.values()];
    assert.equal(servers.length, 2, "two servers");
    const creations = hetzner.requests.filter((r) => r.method === "POST" && r.path === "/v1/servers");
    for (const role of ROLES) {
      // The host name is the server generation's: ai-dev-<role>-<id>, as the outputs give it.
      const hostname = (result.outputs.nodes.value as Record<string, { hostname: string }>)[role].hostname;
      assert.match(hostname, new RegExp(`^ai-dev-${role}-[0-9a-f]{6}$`));
      const server = servers.find((x) => x.labels.role === role);
      assert.ok(server, `a server labelled role=${role}`);
      assert.equal(server.status, "running");
      // The firewall is applied from creation: the create request names it, so the server never runs open.
      const firewall = [...hetzner.state.firewalls.values()].find((f) => f.appliedTo.some((t) => t.type === "server" && t.server === server.id));
      assert.ok(firewall, `a firewall applied to ${server.name}`);
      const body = creations.find((r) => (r.body as { name?: string }).name === server.name)?.body as { firewalls?: { firewall: number }[] };
      assert.deepEqual(body?.firewalls?.map((f) => f.firewall), [firewall.id], `${server.name} is created with its firewall`);
      const volumes = [...hetzner.state.volumes.values()].filter((v) => v.server === server.id);
      assert.equal(volumes.length, 1, `${server.name} has its data volume attached`);

      // The tailnet: one device of that host name, tagged for its role, its key expiry off.
      const devices = tailscale.devicesByHostname(hostname);
      assert.equal(devices.length, 1, `one device ${hostname}`);
      const device = devices[0];
      assert.deepEqual(device.tags, [`tag:ai-dev-${role}`]);
      assert.equal(device.keyExpiryDisabled, true, `${hostname}'s key expiry is off`);
      const address = device.addresses[0];
      assert.match(address, /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+\.\d+$/);
      const nodesOutput = result.outputs.nodes.value as Record<string, { tailnetAddresses: string[] }>;
      assert.deepEqual(nodesOutput[role].tailnetAddresses[0], address, `the output gives ${hostname}'s address`);

      // The node: exactly the plan's containers, each port on the tailnet address only, each with its limit.
      const node = s.cloud.node(hostname);
      assert.ok(node, `${hostname} answers on ${address}`);
      const placement = nodePlacement(s.plan);
      const planned = s.plan.ofType("docker:index/container:Container").filter((c) => placement.roleOf(c) === role);
      assert.ok(planned.length > 0, `the plan has containers on ${hostname}`);
      const running = [...node.docker.containers.values()];
      assert.deepEqual(running.map((c) => c.name).sort(), planned.map((c) => String(c.inputs.name)).sort(), `${hostname} runs the plan's containers`);
      for (const want of planned) {
        const got = running.find((c) => c.name === want.inputs.name)!;
        assert.equal(got.state.status, "running", `${got.name} runs`);
        assert.equal(got.hostConfig.Memory, Number(want.inputs.memory) * 1024 * 1024, `${got.name}'s memory limit`);
        const ports = node.docker.publishedPorts(got);
        const wantPorts = (want.inputs.ports as { external: number }[] | undefined) ?? [];
        assert.deepEqual(ports.map((p) => p.hostPort).sort(), wantPorts.map((p) => p.external).sort(), `${got.name}'s published ports`);
        for (const p of ports) assert.equal(p.hostIp, address, `${got.name} publishes ${p.hostPort} on the tailnet address only`);
      }
    }
    // What `pulumi stack output --json` shows a user: every credential masked as "[secret]".
    const shown = JSON.parse(
      execFileSync(path.join(s.project.engine.binDir, "pulumi"), ["stack", "output", "--json", "--stack", "dev"], {
        cwd: s.project.workDir,
        env: { ...process.env, ...s.project.envVars, PULUMI_HOME: path.join(s.project.dir, "pulumi-home") },
        encoding: "utf8",
      }),
    ) as Record<string, Record<string, unknown> | string>;
    for (const secret of SECRET_OUTPUTS) {
      const [head, tail] = secret.split(".");
      const masked = tail ? (shown[head] as Record<string, unknown>)[tail] : shown[head];
      assert.equal(masked, "[secret]", `output ${secret} is a secret`);
      const whole = result.outputs[head].value as unknown;
      const value = tail ? (whole as Record<string, unknown>)[tail] : whole;
      // A credential, or one per node (the backups' passwords, by role).
      const credentials = typeof value === "string" ? [value] : Object.values(value as Record<string, unknown>);
      assert.ok(credentials.length > 0 && credentials.every((c) => typeof c === "string" && c.length >= 16), `output ${secret} holds a credential`);
    }
    // The real up's outputs carry the throughput plan, the same as the offline plan's.
    const throughput = result.outputs.throughput?.value as { speed: { serverType: string; models: { model: string }[] }; capacity: { requestsPerMonth: number }; workload: { fits: boolean } };
    assert.equal(throughput.speed.serverType, "cx23");
    assert.deepEqual(throughput.speed.models.map((m) => m.model), ["gemma3:1b"]);
    assert.ok(throughput.capacity.requestsPerMonth > 0 && throughput.workload.fits);
    assert.deepEqual(throughput, s.plan.outputs.throughput, "the up's throughput output is the plan's");
    assert.deepEqual(hetzner.unservedRequests(), [], "the Hetzner fake served every request");
  });

  it("a second up with no change changes nothing", async () => {
    const started = Date.now();
    const result = await s.project.stack.up({ onOutput: onOutput("re-up"), color: "never" });
    log(`re-up: ${JSON.stringify(result.summary.resourceChanges)} in ${seconds(started)}`);
    assert.deepEqual(Object.keys(result.summary.resourceChanges ?? {}), ["same"]);
    assert.equal(s.cloud.hetzner.state.servers.size, 2);
  });

  it("destroy succeeds and leaves nothing behind", async () => {
    const started = Date.now();
    const result = await s.project.stack.destroy({ onOutput: onOutput("destroy"), color: "never" });
    log(`destroy: ${JSON.stringify(result.summary.resourceChanges)} in ${seconds(started)}`);
    assert.equal(result.summary.result, "succeeded");
    const { hetzner, tailscale } = s.cloud;
    assert.deepEqual([...hetzner.state.servers.values()].map((x) => x.name), [], "no server");
    assert.deepEqual([...hetzner.state.volumes.values()].map((x) => x.name), [], "no volume");
    assert.deepEqual([...hetzner.state.firewalls.values()].map((x) => x.name), [], "no firewall");
    assert.deepEqual([...hetzner.state.sshKeys.values()].map((x) => x.name), [], "no SSH key");
    assert.deepEqual([...hetzner.state.storageBoxes.values()].map((x) => x.name), [], "no Storage Box");
    const liveKeys = [...tailscale.state.keys.values()].filter((k) => k.revoked === undefined);
    assert.deepEqual(liveKeys.map((k) => k.description), [], "no auth key left valid");
    // Deleting a server does not remove its device from the tailnet (a real one stays, offline, until someone
    // removes it), and the program manages no device's existence: say what is left.
    const devices = [...tailscale.state.devices.values()];
    log(`destroy: devices left in the tailnet: ${devices.map((d) => `${d.name} [${d.tags.join(",")}]`).join("; ") || "none"}`);
  });
});
