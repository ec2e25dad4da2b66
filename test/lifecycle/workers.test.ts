/**
 * An extra inference node in the local cloud: dev, deployed, gets `name=b` in devInferenceNodes. While the
 * tailnet's policy (which dev does not manage) lacks the worker tag, `pulumi up` stops before changing anything;
 * once the user has merged the policy the stack outputs, it creates b's resources and replaces LiteLLM's and
 * Prometheus's containers (their configs name b), and Grafana's (its dashboard gains the inference node variable
 * and row, which the first extra node brings), and changes nothing else: the first two servers, their volumes and
 * every other container stay. Ollama on b answers on b's tailnet address with b's model pulled. A second `up`
 * changes nothing; adding and removing a second node c changes LiteLLM and Prometheus only (Grafana's dashboard
 * names no node); removing b deletes its resources and changes the same containers back.
 *
 * Qdrant becomes a cluster with b: the inference node's Qdrant is replaced once, as the first peer (its peer
 * port published, `--uri` its tailnet address), and b runs a peer that joins it (`--bootstrap` the inference
 * node's address). A third node and its removal change no Qdrant but c's; removing b makes the first Qdrant a
 * single node again.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import type { FakeNode } from "../localcloud/node";
import { runProgram } from "../../tools/mocksRunner";
import { changesOf, containerFile, onOutput, runningNode, serverOf as serverOfNode, SKIP, startScenario, upSteps, type Scenario } from "./scenario";

const WORKER = "name=b type=cx33 models=gemma3:1b";
const LITELLM_CONFIG = "/app/config.yaml";
const PROMETHEUS_CONFIG = "/etc/prometheus/prometheus.yml";
const GRAFANA_DASHBOARD = "/etc/grafana/dashboards/stack-overview.json";
const replaced = (containers: string[]) =>
  containers.flatMap((c) => ["delete-replaced", "replace", "create-replacement"].map((op) => `${op} docker:index/container:Container::${c}`));
/** What any change of the extra nodes replaces: the configs that list them. */
const REPLACED = replaced(["litellm", "prometheus"]);
/**
 * Adding the first extra node, or removing the last, also turns the inference node's Qdrant into a peer or back,
 * and gives or takes Grafana's dashboard its node variable and Inference nodes row.
 */
const REPLACED_WITH_FIRST = replaced(["litellm", "prometheus", "ai-dev-inference-services-qdrant", "ai-dev-monitoring-grafana"]);

/** A container's command line, as Docker runs it. */
const commandOf = (node: FakeNode, container: string): string[] => {
  const c = node.docker.containerByName(container);
  assert.ok(c, `no ${container}`);
  return [...(c.config.Entrypoint ?? []), ...(c.config.Cmd ?? [])];
};

describe("dev with an extra inference node", { skip: SKIP }, () => {
  let s: Scenario;
  /** A node's server and its running fake node, by "inference", "operations" or a worker's name. */
  const serverOf = (node: string) => serverOfNode(s, node);
  const nodeNamed = (node: string): FakeNode => runningNode(s, node);
  const file = (node: string, container: string, path: string) => containerFile(nodeNamed(node), container, path);
  const fixedState = () => ({
    servers: [...s.cloud.hetzner.state.servers.values()].filter((x) => x.labels.role !== "worker").map((x) => `${x.id} ${x.name}`),
    volumes: [...s.cloud.hetzner.state.volumes.values()].filter((v) => v.labels.role !== "worker").map((v) => `${v.id} ${v.name} ${v.server}`),
  });
  const up = (label: string) => upSteps(s, label);

  before(async () => {
    s = await startScenario("dev");
    await up("first up");
  });
  after(async () => {
    await s?.close();
  });

  it("adding it stops before any change while the tailnet's policy does not define the worker tag", async () => {
    const before = fixedState();
    await s.project.stack.setConfig("ai-platform:devInferenceNodes[0]", { value: WORKER }, true);
    const events: EngineEvent[] = [];
    await assert.rejects(
      s.project.stack.up({ onOutput: onOutput("unmerged"), onEvent: (e) => events.push(e), color: "never" }),
      (err: Error) => {
        assert.match(err.message, /tag:ai-dev-worker \(a node's tag\) is not defined in tagOwners/);
        return true;
      },
    );
    assert.deepEqual(changesOf(events), [], "nothing changed");
    assert.deepEqual(fixedState(), before);
    assert.equal(serverOf("b"), undefined);
  });

  it("once the new policy is merged, it creates b and changes only LiteLLM's, Prometheus's and Grafana's configuration and makes the first Qdrant a peer", async () => {
    const plan = await runProgram("dev", { set: { "ai-platform:devInferenceNodes": [WORKER] } });
    s.cloud.tailscale.state.policy = String(plan.outputs.tailnetPolicy);
    s.cloud.tailscale.state.policyIsDefault = false;
    const before = fixedState();
    const ollamaBefore = nodeNamed("inference").docker.containerByName("ollama")!.id;
    const { changes } = await up("add b");
    const other = changes.filter((c) => !/::ai-dev-inference-b($|-)/.test(c) || !c.startsWith("create "));
    assert.deepEqual(other.sort(), [...REPLACED_WITH_FIRST].sort(), "besides b's creates, only LiteLLM, Prometheus, Grafana and the first Qdrant change");
    assert.ok(changes.includes("create hcloud:index/server:Server::ai-dev-inference-b"));
    assert.deepEqual(fixedState(), before, "the first two servers and volumes are the same");
    assert.equal(nodeNamed("inference").docker.containerByName("ollama")!.id, ollamaBefore, "the first Ollama is the same container");

    const b = nodeNamed("b");
    const ollama = b.docker.containerByName("ollama");
    assert.ok(ollama, "Ollama runs on b");
    const published = b.docker.publishedPorts(ollama).map((p) => `${p.hostIp}:${p.hostPort}`);
    assert.equal(published.length, 1);
    assert.match(published[0], /^100\.\d+\.\d+\.\d+:11434$/);
    const address = published[0].split(":")[0];
    assert.ok(file("inference", "litellm", LITELLM_CONFIG).includes(`api_base: http://${address}:11434`), "LiteLLM routes to b");
    assert.ok(file("inference", "litellm", LITELLM_CONFIG).includes("id: gemma3:1b@b"));
    const prometheus = file("operations", "prometheus", PROMETHEUS_CONFIG);
    assert.ok(prometheus.includes(`${address}:9100`) && prometheus.includes(`http://${address}:11434/api/version`), "Prometheus scrapes and probes b");
    assert.ok(prometheus.includes("node: inference"), "the first inference node's targets carry its node label");
    const dashboard = JSON.parse(file("operations", "grafana", GRAFANA_DASHBOARD)) as { templating: { list: { name: string }[] } };
    assert.deepEqual(dashboard.templating.list.map((v) => v.name), ["node"], "Grafana's dashboard has the node variable");
    assert.ok(prometheus.includes(`${address}:6333`), "Prometheus scrapes b's Qdrant");
  });

  it("Qdrant is a cluster: the inference node's starts it, b's joins it, each on its own tailnet address", () => {
    const inference = nodeNamed("inference");
    const b = nodeNamed("b");
    const addressOf = (node: FakeNode) => node.docker.publishedPorts(node.docker.containerByName("node-exporter")!)[0].hostIp;
    const [first, second] = [addressOf(inference), addressOf(b)];
    assert.notEqual(first, second);
    assert.deepEqual(commandOf(inference, "qdrant"), ["./entrypoint.sh", "--uri", `http://${first}:6335`]);
    assert.deepEqual(commandOf(b, "qdrant"), ["./entrypoint.sh", "--uri", `http://${second}:6335`, "--bootstrap", `http://${first}:6335`]);
    for (const [node, address] of [[inference, first], [b, second]] as const) {
      const qdrant = node.docker.containerByName("qdrant")!;
      assert.deepEqual(node.docker.publishedPorts(qdrant).map((p) => `${p.hostIp}:${p.hostPort}`).sort(), [6333, 6334, 6335].map((p) => `${address}:${p}`));
      assert.ok(qdrant.config.Env?.includes("QDRANT__CLUSTER__ENABLED=true"));
      assert.ok(qdrant.config.Env?.includes("QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR=2"));
    }
    const key = (node: FakeNode) => node.docker.containerByName("qdrant")!.config.Env?.find((e) => e.startsWith("QDRANT__SERVICE__API_KEY="));
    assert.ok(key(b));
    assert.equal(key(b), key(inference), "both peers have the same API key");
  });

  it("a second up changes nothing", async () => {
    const { changes } = await up("second up");
    assert.deepEqual(changes, []);
  });

  it("a third node: adding c creates only c's resources and changes the same two; removing c leaves b as it was", async () => {
    const state = () => ({
      ...fixedState(),
      b: serverOf("b")!.id,
      bOllama: nodeNamed("b").docker.containerByName("ollama")!.id,
      qdrant: ["inference", "b"].map((n) => nodeNamed(n).docker.containerByName("qdrant")!.id),
    });
    const withB = state();
    await s.project.stack.setConfig("ai-platform:devInferenceNodes[1]", { value: "name=c type=cx23 models=gemma3:1b" }, true);
    // The worker tag is the environment's, already in the merged policy: no new merge is needed for c.
    const added = await up("add c");
    const notC = added.changes.filter((c) => !/::ai-dev-inference-c($|-)/.test(c) || !c.startsWith("create "));
    assert.deepEqual(notC.sort(), [...REPLACED].sort(), "Grafana stays: its dashboard names no node");
    assert.deepEqual(state(), withB, "b and the first two nodes are the same");
    assert.ok(file("inference", "litellm", LITELLM_CONFIG).includes("id: gemma3:1b@c"));
    assert.ok(commandOf(nodeNamed("c"), "qdrant").includes("--bootstrap"), "c's Qdrant joins the cluster");

    await s.project.stack.removeConfig("ai-platform:devInferenceNodes[1]", true);
    const removed = await up("remove c");
    const notCDeletes = removed.changes.filter((c) => !/::ai-dev-inference-c($|-)/.test(c) || !c.startsWith("delete "));
    assert.deepEqual(notCDeletes.sort(), [...REPLACED].sort());
    assert.equal(serverOf("c"), undefined);
    assert.deepEqual(state(), withB);
    assert.ok(!file("inference", "litellm", LITELLM_CONFIG).includes("@c"));
  });

  it("removing it deletes b's resources and changes the same containers back", async () => {
    const before = fixedState();
    await s.project.stack.removeConfig("ai-platform:devInferenceNodes");
    const { changes } = await up("remove b");
    const other = changes.filter((c) => !/::ai-dev-inference-b($|-)/.test(c) || !c.startsWith("delete "));
    assert.deepEqual(other.sort(), [...REPLACED_WITH_FIRST].sort());
    assert.deepEqual((JSON.parse(file("operations", "grafana", GRAFANA_DASHBOARD)) as { templating: unknown }).templating, {}, "and without it, no node variable");
    assert.ok(changes.includes("delete hcloud:index/server:Server::ai-dev-inference-b"));
    assert.equal(serverOf("b"), undefined);
    assert.deepEqual(fixedState(), before);
    assert.ok(!file("inference", "litellm", LITELLM_CONFIG).includes("@b"));
    // The single-node Qdrant again: no command of its own, no peer port.
    const qdrant = nodeNamed("inference").docker.containerByName("qdrant")!;
    assert.equal(qdrant.config.Cmd ?? null, null);
    assert.deepEqual(nodeNamed("inference").docker.publishedPorts(qdrant).map((p) => p.hostPort).sort(), [6333, 6334]);
  });
});
