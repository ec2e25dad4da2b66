/**
 * Changing the models of dev in the local cloud: adding one pulls it and replaces LiteLLM's container (its
 * config is an upload, which Docker cannot change in place) and nothing else; removing it takes it out of
 * LiteLLM's config before Ollama deletes it, so no request is routed to a model that is gone.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { log } from "../localcloud/cloud";
import { defaultHandlers } from "../localcloud/node";
import { changesOf, onOutput, runningNode, SKIP, startScenario, type Scenario } from "./scenario";

const ADDED = "llama3.2:1b";
const LITELLM_CONFIG = "/app/config.yaml";


describe("dev models lifecycle", { skip: SKIP }, () => {
  let s: Scenario;
  /** The inference node: the running boot of the server labelled so (its names carry a generation). */
  const models = () => runningNode(s, "inference");
  /** What LiteLLM's running container had as its config whenever a pull or a removal of ADDED started. */
  const seen: { command: "pull" | "rm"; litellmRunning: boolean; configNamesModel: boolean }[] = [];

  before(async () => {
    s = await startScenario("dev");
    const result = await s.project.stack.up({ onOutput: onOutput("up"), color: "never" });
    assert.equal(result.summary.result, "succeeded");
  });
  after(async () => {
    await s?.close();
  });

  /**
   * Watches the node's commands for ADDED: notes what LiteLLM's running container has as its config when
   * `ollama rm` starts and when the pull ends. The pull takes a second and a half here (the fake's own handler
   * then answers it), so that a LiteLLM replaced alongside it, rather than after it, would show.
   */
  function watchLiteLlm(): void {
    const node = models();
    const litellmNow = () => {
      const litellm = node.docker.containerByName("litellm");
      const config = litellm ? (node.docker.fileText(litellm, LITELLM_CONFIG) ?? "") : "";
      return { litellmRunning: litellm?.state.status === "running", configNamesModel: config.includes(ADDED) };
    };
    const names = (verb: string, command: string) => new RegExp(`ollama ${verb} ${ADDED.replace(/\./g, "\\.")}(\\s|$)`).test(command);
    const pull = defaultHandlers().find((h) => h.name === "ollama-pull")!;
    node.handle({
      name: "slow-pull-observer",
      matches: (command) => {
        if (names("rm", command)) seen.push({ command: "rm", ...litellmNow() });
        return names("pull", command) && pull.matches(command);
      },
      run: async (ctx) => {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        seen.push({ command: "pull", ...litellmNow() });
        return pull.run(ctx);
      },
    });
  }

  it("adding a model pulls it, then replaces LiteLLM's container; nothing else changes", async () => {
    watchLiteLlm();
    const node = models();
    const before = new Map([...node.docker.containers.values()].map((c) => [c.name, c.id]));
    const servers = [...s.cloud.hetzner.state.servers.values()].map((x) => `${x.id} ${x.name}`);
    const volumes = [...s.cloud.hetzner.state.volumes.values()].map((v) => `${v.id} ${v.name} ${v.server}`);

    await s.project.stack.setConfig("ai-platform:models[2]", { value: ADDED }, true);
    const events: EngineEvent[] = [];
    const started = Date.now();
    const result = await s.project.stack.up({ onOutput: onOutput("add"), onEvent: (e) => events.push(e), color: "never" });
    log(`add ${ADDED}: ${JSON.stringify(result.summary.resourceChanges)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(result.summary.result, "succeeded");

    const changes = changesOf(events);
    log(`add ${ADDED}: ${changes.join("; ")}`);
    const wanted = [
      "create command:remote:Command::ai-dev-models-model-llama3.2-1b",
      "delete-replaced docker:index/container:Container::litellm",
      "replace docker:index/container:Container::litellm",
      "create-replacement docker:index/container:Container::litellm",
      // The capacity plan gives Ollama the memory of one more model: its limit changes in place.
      "update docker:index/container:Container::ollama [memory,memorySwap]",
    ];
    // The container's resource name is its component's; the engine names the step by URN, so match on the tail.
    const normal = changes.map((c) => c.replace(/::ai-dev-inference-services-(litellm|ollama)\b/, "::$1"));
    assert.deepEqual(normal.sort(), wanted.sort(), "only the new pull and LiteLLM's container change");

    assert.ok(node.pulledModels.includes(ADDED), `${ADDED} is pulled`);
    assert.equal(node.pullTimeouts.get(ADDED), 300 + Math.ceil(1.3 * 300), "its pull is bounded by its size");
    const after = new Map([...node.docker.containers.values()].map((c) => [c.name, c.id]));
    for (const [name, id] of before) {
      if (name === "litellm") assert.notEqual(after.get(name), id, "litellm is a new container");
      else assert.equal(after.get(name), id, `${name} is the same container`);
    }
    const litellm = node.docker.containerByName("litellm")!;
    assert.ok(node.docker.fileText(litellm, LITELLM_CONFIG)?.includes(ADDED), "LiteLLM's config names the model");
    assert.deepEqual([...s.cloud.hetzner.state.servers.values()].map((x) => `${x.id} ${x.name}`), servers, "the same servers");
    assert.deepEqual([...s.cloud.hetzner.state.volumes.values()].map((v) => `${v.id} ${v.name} ${v.server}`), volumes, "the same volumes, attached");

    // When the pull ended, the running LiteLLM's config did not name the model yet: LiteLLM waits for it.
    assert.deepEqual(seen, [{ command: "pull", litellmRunning: true, configNamesModel: false }]);

    // Nothing of the pull's progress is in the state: pulumi-command stores stdout and stderr.
    const state = await s.project.stack.exportStack();
    const resources = (state.deployment as { resources: { urn: string; outputs?: Record<string, unknown> }[] }).resources;
    const pull = resources.find((r) => r.urn.endsWith("::ai-dev-models-model-llama3.2-1b"));
    assert.ok(pull, "the pull is in the state");
    assert.equal(pull.outputs?.stdout, "", "no progress on stdout in the state");
    assert.equal(pull.outputs?.stderr, "", "nor on stderr");
  });

  it("removing it takes it out of LiteLLM's config before Ollama deletes it", async () => {
    seen.length = 0;
    const node = models();
    const litellmBefore = node.docker.containerByName("litellm")!.id;
    const commandsBefore = node.commands.length;
    await s.project.stack.removeConfig("ai-platform:models[2]", true);
    const events: EngineEvent[] = [];
    const started = Date.now();
    const result = await s.project.stack.up({ onOutput: onOutput("remove"), onEvent: (e) => events.push(e), color: "never" });
    log(`remove ${ADDED}: ${JSON.stringify(result.summary.resourceChanges)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(result.summary.result, "succeeded");
    const changes = changesOf(events).map((c) => c.replace(/::ai-dev-inference-services-(litellm|ollama)\b/, "::$1"));
    log(`remove ${ADDED}: ${changes.join("; ")}`);
    assert.deepEqual(
      changes.sort(),
      [
        "delete command:remote:Command::ai-dev-models-model-llama3.2-1b",
        "delete-replaced docker:index/container:Container::litellm",
        "replace docker:index/container:Container::litellm",
        "create-replacement docker:index/container:Container::litellm",
        "update docker:index/container:Container::ollama [memory,memorySwap]",
      ].sort(),
    );
    assert.ok(!node.pulledModels.includes(ADDED), `${ADDED} is removed from Ollama`);
    const litellm = node.docker.containerByName("litellm")!;
    assert.notEqual(litellm.id, litellmBefore);
    assert.ok(!node.docker.fileText(litellm, LITELLM_CONFIG)?.includes(ADDED), "LiteLLM's config no longer names it");

    // When `ollama rm` ran, the LiteLLM that was running already had the config without the model.
    assert.deepEqual(seen, [{ command: "rm", litellmRunning: true, configNamesModel: false }]);
    // And in the node's log: the new LiteLLM container was started before the removal.
    const rm = node.commands.slice(commandsBefore).find((c) => c.command.includes(`ollama rm ${ADDED} `));
    assert.ok(rm, "ollama rm ran");
    const starts = node.docker.requests.filter((r) => r.method === "POST" && /^\/containers\/[^/]+\/start$/.test(r.path) && r.path.includes(litellm.id));
    assert.equal(starts.length, 1, "the new LiteLLM was started once");
    assert.ok(starts[0].at.getTime() <= rm.startedAt.getTime(), "LiteLLM's new container started before ollama rm");
  });

  it("a stack's own tag for one image replaces only that container, which keeps its data directories", async () => {
    const node = models();
    const before = new Map([...node.docker.containers.values()].map((c) => [c.name, c.id]));
    const qdrantBefore = node.docker.containerByName("qdrant")!;
    const mountsBefore = node.docker.mounts(qdrantBefore);
    await s.project.stack.setConfig("ai-platform:imageTags[0]", { value: "qdrant=v1.20.1" }, true);
    const events: EngineEvent[] = [];
    const started = Date.now();
    const result = await s.project.stack.up({ onOutput: onOutput("bump"), onEvent: (e) => events.push(e), color: "never" });
    log(`bump qdrant: ${JSON.stringify(result.summary.resourceChanges)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(result.summary.result, "succeeded");
    const changes = changesOf(events).map((c) => c.replace(/::ai-dev-inference-services-qdrant\b/, "::qdrant"));
    log(`bump qdrant: ${changes.join("; ")}`);
    assert.deepEqual(
      changes.sort(),
      [
        "delete-replaced docker:index/remoteImage:RemoteImage::qdrant",
        "replace docker:index/remoteImage:RemoteImage::qdrant",
        "create-replacement docker:index/remoteImage:RemoteImage::qdrant",
        "delete-replaced docker:index/container:Container::qdrant",
        "replace docker:index/container:Container::qdrant",
        "create-replacement docker:index/container:Container::qdrant",
      ].sort(),
      "only Qdrant's image and container change",
    );
    const qdrant = node.docker.containerByName("qdrant")!;
    assert.notEqual(qdrant.id, qdrantBefore.id, "a new Qdrant container");
    assert.deepEqual(node.docker.findImage(qdrant.imageId)?.repoTags, ["qdrant/qdrant:v1.20.1"], "it runs the stack's tag");
    assert.equal(qdrant.state.status, "running");
    // Its collections live in directories of the node's data volume, bind-mounted: the new container has the same.
    assert.deepEqual(node.docker.mounts(qdrant), mountsBefore);
    assert.ok(mountsBefore.some((m) => m.type === "bind" && m.source.startsWith("/srv/data/qdrant")), "Qdrant's data is on the volume");
    for (const [name, id] of before) if (name !== "qdrant") assert.equal(node.docker.containerByName(name)?.id, id, `${name} is the same container`);
  });
});
