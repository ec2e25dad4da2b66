/**
 * The host firewall as the stacks declare it: one install per node with the rules of its role, the operations
 * node's after the platform network it exempts (whose name the rules and the monitoring must agree on), and
 * Coolify only once the operations node's rules are in place, with its ports on the node's tailnet address.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ROLES } from "../../components/catalog/services";
import { hostFirewallSpec, OPERATIONS_PLATFORM_NETWORK } from "../../components/plan/exposure";
import { renderHostFirewallInstall } from "../../components/render/hostFirewall";
import { nodePlacement } from "../../tools/nodePlacement";
import { ProgramRun, projectName, RecordedResource, runProgram } from "../harness";

const PROJECT = projectName();
const COMMAND = "command:remote:Command";

const hostFirewalls = (run: ProgramRun): RecordedResource[] => run.ofType(COMMAND).filter((c) => c.name.endsWith("-host-firewall"));

for (const [stack, coolify] of [["dev", false], ["prod", true]] as const) {
  describe(`the ${stack} stack's host firewalls`, () => {
    let run: ProgramRun;
    before(async () => {
      run = await runProgram(stack);
    });

    it("one per node, with its role's rules, run again on a new server", () => {
      const placement = nodePlacement(run);
      const firewalls = hostFirewalls(run);
      assert.deepEqual(firewalls.map((c) => placement.roleOf(c)).sort(), [...ROLES].sort());
      for (const c of firewalls) {
        const role = placement.roleOf(c)!;
        assert.equal(c.inputs.create, renderHostFirewallInstall(hostFirewallSpec(role, coolify)), `${c.name} has the ${role} node's rules`);
        assert.equal((c.inputs.triggers as unknown[]).length, 1, "the server's id");
      }
    });

    it("the operations node's comes after the platform network it lets through, named as the monitoring names it", () => {
      const placement = nodePlacement(run);
      const network = run.ofType("docker:index/network:Network").find((n) => placement.roleOf(n) === "operations");
      assert.equal(network?.inputs.name, OPERATIONS_PLATFORM_NETWORK);
      const ops = hostFirewalls(run).find((c) => placement.roleOf(c) === "operations")!;
      assert.ok(ops.dependencies.includes(network.urn), "after the network");
      for (const name of ["prometheus", "blackbox"]) {
        const container = run.ofType("docker:index/container:Container").find((c) => c.inputs.name === name && placement.roleOf(c) === "operations");
        const networks = (container?.inputs.networksAdvanced ?? []) as { name: string }[];
        assert.deepEqual(networks.map((n) => n.name), [OPERATIONS_PLATFORM_NETWORK], `${name} reaches the tailnet from the platform network`);
      }
    });

    it(coolify ? "Coolify is installed once the operations node's rules are in place" : "there is no Coolify", () => {
      const install = run.ofType(COMMAND).find((c) => c.name.endsWith("-coolify-install"));
      if (!coolify) return assert.equal(install, undefined);
      const ops = hostFirewalls(run).find((c) => nodePlacement(run).roleOf(c) === "operations")!;
      assert.ok(install, "a Coolify install");
      assert.ok(install.dependencies.includes(ops.urn));
      assert.match(String(install.inputs.create), /^tailnet_address='known-after-deploy:tailnet-ipv4'$/m);
    });
  });
}

describe("publicWeb and Coolify's proxy", () => {
  it("with publicWeb, the proxy's 80 and 443 go on the operations node's public addresses; without, no override is written", async () => {
    const script = async (publicWeb: boolean) => {
      const run = await runProgram("prod", {
        set: {
          [`${PROJECT}:publicWeb`]: String(publicWeb),
          [`${PROJECT}:publicWebSourceRanges`]: ["173.245.48.0/20", "2400:cb00::/32"],
        },
      });
      return String(run.ofType(COMMAND).find((c) => c.name.endsWith("-coolify-install"))?.inputs.create);
    };
    const on = await script(true);
    assert.match(on, /if put \/data\/coolify\/proxy\/docker-compose\.override\.yml <<'YAML'/);
    for (const address of ["known-after-deploy:public-ipv4", "known-after-deploy:public-ipv6"]) {
      for (const p of ["80", "443"]) assert.match(on, new RegExp(`published: "${p}"\\n\\s+host_ip: ${address}\\n`), `${p} on ${address}`);
    }
    const off = await script(false);
    assert.doesNotMatch(off, /public-ipv/);
    assert.match(off, /rm -f \/data\/coolify\/proxy\/docker-compose\.override\.yml/);
  });
});
