/**
 * An external backend in the local cloud: dev, deployed, gets a GPU machine of the team's in
 * tailnetDevBackends. While the tailnet's policy (which dev does not manage) lacks the backend's grant, `pulumi
 * up` stops before changing anything, naming the grant; once the user has merged the policy the stack outputs,
 * it changes LiteLLM's configuration (the backend's deployments) and Prometheus's (its probe), and nothing else:
 * no server, volume, key or other container. A second `up` changes nothing, and removing the backend changes
 * the same two back.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import type { FakeNode } from "../localcloud/node";
import { runProgram } from "../../tools/mocksRunner";
import { changesOf, containerFile, onOutput, runningNode, SKIP, startScenario, upSteps, type Scenario } from "./scenario";

const BACKEND = "name=gpu-box url=http://100.101.102.103:11434 tag=tag:ai-dev-gpu models=gemma3:1b,qwen3:8b preferred=true";
const LITELLM_CONFIG = "/app/config.yaml";
const PROMETHEUS_CONFIG = "/etc/prometheus/prometheus.yml";
const CHANGED = [
  "delete-replaced docker:index/container:Container::litellm",
  "replace docker:index/container:Container::litellm",
  "create-replacement docker:index/container:Container::litellm",
  "delete-replaced docker:index/container:Container::prometheus",
  "replace docker:index/container:Container::prometheus",
  "create-replacement docker:index/container:Container::prometheus",
];

describe("dev with an external backend", { skip: SKIP }, () => {
  let s: Scenario;
  const nodeOf = (role: string): FakeNode => runningNode(s, role);
  const file = (role: string, container: string, path: string) => containerFile(nodeOf(role), container, path);
  const cloudState = () => ({
    servers: [...s.cloud.hetzner.state.servers.values()].map((x) => `${x.id} ${x.name}`),
    volumes: [...s.cloud.hetzner.state.volumes.values()].map((v) => `${v.id} ${v.name} ${v.server}`),
  });
  const up = (label: string) => upSteps(s, label);

  before(async () => {
    s = await startScenario("dev");
    await up("first up");
  });
  after(async () => {
    await s?.close();
  });

  it("adding it stops before any change while the tailnet's policy does not grant it", async () => {
    const before = cloudState();
    await s.project.stack.setConfig("ai-platform:tailnetDevBackends[0]", { value: BACKEND }, true);
    const events: EngineEvent[] = [];
    await assert.rejects(
      s.project.stack.up({ onOutput: onOutput("unmerged"), onEvent: (e) => events.push(e), color: "never" }),
      (err: Error) => {
        // The policy merged at the start knows nothing of the backend: its tag first.
        assert.match(err.message, /tag:ai-dev-gpu \(the backend gpu-box, ai-platform:tailnetDevBackends\) is not defined in tagOwners/);
        assert.match(err.message, /stopped before creating anything/);
        return true;
      },
    );
    assert.deepEqual(changesOf(events), [], "nothing changed");
    assert.deepEqual(cloudState(), before);
  });

  it("once the new policy is merged, it changes LiteLLM's and Prometheus's configuration, nothing else", async () => {
    // The user merges the policy the stack outputs (npm run plan writes it) in the admin console.
    const plan = await runProgram("dev", { set: { "ai-platform:tailnetDevBackends": [BACKEND] } });
    s.cloud.tailscale.state.policy = String(plan.outputs.tailnetPolicy);
    s.cloud.tailscale.state.policyIsDefault = false;
    const before = cloudState();
    const ollamaBefore = nodeOf("inference").docker.containerByName("ollama")!.id;
    const { changes, outputs } = await up("add backend");
    assert.deepEqual(changes.sort(), [...CHANGED].sort());
    assert.deepEqual(cloudState(), before, "the same servers and volumes");
    assert.equal(nodeOf("inference").docker.containerByName("ollama")!.id, ollamaBefore, "Ollama is the same container");

    const litellm = file("inference", "litellm", LITELLM_CONFIG);
    assert.ok(litellm.includes("http://100.101.102.103:11434"), "LiteLLM's config routes to the backend");
    assert.match(file("operations", "prometheus", PROMETHEUS_CONFIG), /http:\/\/100\.101\.102\.103:11434\/api\/version/);
    const policy = String(outputs.tailnetPolicy.value);
    assert.match(policy, /"tag:ai-dev-gpu"/, "the policy to merge names the backend's tag");
    assert.deepEqual((outputs.litellm.value as { backends: { name: string }[] }).backends.map((b) => b.name), ["gpu-box"]);
  });

  it("a second up changes nothing", async () => {
    const { changes } = await up("second up");
    assert.deepEqual(changes, []);
  });

  it("removing it changes the same two back", async () => {
    await s.project.stack.removeConfig("ai-platform:tailnetDevBackends");
    const { changes, outputs } = await up("remove backend");
    assert.deepEqual(changes.sort(), [...CHANGED].sort());
    assert.ok(!file("inference", "litellm", LITELLM_CONFIG).includes("100.101.102.103"));
    assert.equal((outputs.litellm.value as { backends?: unknown }).backends, undefined);
  });
});
