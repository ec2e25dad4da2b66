/**
 * Coolify in the local cloud: dev with Coolify on (on a cx33, which holds it) installs it on the operations node
 * once each node's host firewall is in place, with its ports on that node's tailnet address; a new Coolify
 * version in the catalog (what a maintainer bumps, here in a copy of the project) makes the next `pulumi up` run
 * Coolify's installer with that version on the operations node, and nothing else.
 *
 * The fake node cannot run the install script itself (it needs Docker, Coolify's installer from its CDN and
 * root's files): it answers it as test/localcloud/node.ts says, recording each run of the installer and the
 * version asked for. The script's own behaviour is shown by test/render/coolify.test.ts.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { COOLIFY_VERSION } from "../../components/catalog/images";
import { log } from "../localcloud/cloud";
import type { FakeNode } from "../localcloud/node";
import { changesOf, onOutput, runningNode, SKIP, startScenario, type Scenario } from "./scenario";

const NEXT_VERSION = "4.1.2";


/**
 * The project as a maintainer changes it: the stack's program (index.ts and components/, symlinks to the
 * repository's until now) becomes a copy of its own, whose catalog pins `version` for Coolify.
 */
function bumpCoolifyInCopy(workDir: string, version: string): void {
  for (const entry of ["index.ts", "components"]) {
    const link = path.join(workDir, entry);
    const target = fs.realpathSync(link);
    fs.unlinkSync(link);
    fs.cpSync(target, link, { recursive: true });
  }
  const catalog = path.join(workDir, "components", "catalog", "images.ts");
  const text = fs.readFileSync(catalog, "utf8");
  const bumped = text.replace(`export const COOLIFY_VERSION = "${COOLIFY_VERSION}";`, `export const COOLIFY_VERSION = "${version}";`);
  assert.notEqual(bumped, text, "the catalog pins Coolify's version in one line");
  fs.writeFileSync(catalog, bumped);
}

describe("Coolify in dev: installed, then upgraded by a new version", { skip: SKIP }, () => {
  let s: Scenario;
  /** The running node of the server labelled with `role`. */
  const nodeOf = (role: string): FakeNode => runningNode(s, role);

  before(async () => {
    s = await startScenario("dev");
    await s.project.stack.setConfig("ai-platform:coolify", { value: "true" });
    await s.project.stack.setConfig("ai-platform:operationsServerType", { value: "cx33" });
  });
  after(async () => {
    await s?.close();
  });

  it("up installs Coolify on the operations node, its ports on the tailnet address, after each node's host firewall", async () => {
    const result = await s.project.stack.up({ onOutput: onOutput("up"), color: "never" });
    log(`up: ${JSON.stringify(result.summary.resourceChanges)}`);
    assert.equal(result.summary.result, "succeeded");
    const ops = nodeOf("operations");
    const inference = nodeOf("inference");
    const address = (result.outputs.nodes.value as Record<string, { tailnetAddresses: string[] }>).operations.tailnetAddresses[0];
    assert.deepEqual(
      ops.coolifyInstalls.map((i) => [i.version, i.tailnetAddress, i.dockerAddressPoolBase, i.passwordOnStdin]),
      [[COOLIFY_VERSION, address, "172.30.0.0/16", true]],
    );
    assert.equal(inference.coolifyInstalls.length, 0);
    assert.equal((result.outputs.coolify.value as { url: string }).url, `http://${address}:8000`);

    // The host firewalls: both nodes keep containers off the metadata service; the operations node keeps them
    // off the tailnet but for ai-operations, and the public side off Coolify's ports.
    assert.match(ops.hostFirewall?.script ?? "", /^guard_tailnet=yes$/m);
    assert.match(ops.hostFirewall?.script ?? "", /^platform_networks='ai-operations'$/m);
    assert.match(ops.hostFirewall?.script ?? "", /^public_denied_tcp_ports='8000 6001 6002'$/m);
    assert.match(inference.hostFirewall?.script ?? "", /^guard_tailnet=no$/m);
    assert.match(inference.hostFirewall?.script ?? "", /^metadata_address=169\.254\.169\.254$/m);
    assert.ok(ops.hostFirewall && ops.hostFirewall.at.getTime() <= ops.coolifyInstalls[0].at.getTime(), "the rules before Coolify");
    const network = ops.docker.requests.find((r) => r.method === "POST" && r.path.endsWith("/networks/create"));
    assert.ok(network && network.at.getTime() <= ops.hostFirewall.at.getTime(), "the platform network before the rules that exempt it");
  });

  it("a new Coolify version in the catalog: the next up runs the installer with it on the operations node, and nothing else", async () => {
    const ops = nodeOf("operations");
    const inference = nodeOf("inference");
    const containers = (node: FakeNode) => [...node.docker.containers.values()].map((c) => `${c.name} ${c.id}`).sort();
    const before = { ops: containers(ops), inference: containers(inference), opsCommands: ops.commands.length, inferenceCommands: inference.commands.length };
    const servers = [...s.cloud.hetzner.state.servers.values()].map((x) => `${x.id} ${x.name} ${x.serverType}`);

    bumpCoolifyInCopy(s.project.workDir, NEXT_VERSION);
    const events: EngineEvent[] = [];
    const result = await s.project.stack.up({ onOutput: onOutput("bump"), onEvent: (e) => events.push(e), color: "never" });
    log(`bump coolify: ${JSON.stringify(result.summary.resourceChanges)}`);
    assert.equal(result.summary.result, "succeeded");

    const changes = changesOf(events);
    log(`bump coolify: ${changes.join("; ")}`);
    assert.deepEqual(
      changes.sort(),
      [
        "create-replacement command:remote:Command::ai-dev-coolify-install",
        "replace command:remote:Command::ai-dev-coolify-install",
        "delete-replaced command:remote:Command::ai-dev-coolify-install",
      ].sort(),
      "only Coolify's install runs again",
    );
    assert.deepEqual(ops.coolifyInstalls.map((i) => i.version), [COOLIFY_VERSION, NEXT_VERSION], "the installer ran with the new version");
    assert.equal(ops.coolify?.version, NEXT_VERSION);

    // What ran on the nodes: on the operations node the install script and nothing else but Docker's
    // connection; on the inference node nothing but Docker's connection.
    const ran = (node: FakeNode, from: number) => node.commands.slice(from).map((c) => c.handler).filter((h) => h !== "docker-dial-stdio");
    assert.deepEqual(ran(ops, before.opsCommands), ["coolify-install"]);
    assert.deepEqual(ran(inference, before.inferenceCommands), []);
    assert.deepEqual(containers(ops), before.ops, "every container of the operations node is the same");
    assert.deepEqual(containers(inference), before.inference, "every container of the inference node is the same");
    assert.deepEqual([...s.cloud.hetzner.state.servers.values()].map((x) => `${x.id} ${x.name} ${x.serverType}`), servers, "the same servers");
  });
});
