/** The capacity planner: the figures it adds up and the advice it gives when a node is too small. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findServerType } from "../../components/catalog/serverTypes";
import type { ModelSettings, Settings } from "../../components/config";
import { capacityProblems, kvCacheMib, ollamaMemory, OLLAMA_RUNTIME_MIB, planCapacity } from "../../components/plan/capacity";

const model = (name: string, fileGb: number, kv: number, embedding = false): ModelSettings => ({
  name,
  fileGb,
  kvCacheKibPerToken: kv,
  embedding,
  fromCatalog: true,
});

function settings(inference: string, models: ModelSettings[], ollama = { contextLength: 4096, parallelRequests: 1, maxLoadedModels: 1 }): Settings {
  const node = (role: "inference" | "operations", type: string) => ({ role, serverType: findServerType(type)!, backups: false, volumeGb: 10 });
  return {
    project: "ai-platform",
    environment: "dev",
    stem: "ai-dev",
    namePrefix: "ai",
    location: "fsn1",
    nodes: { inference: node("inference", inference), operations: node("operations", "cx23") },
    swapGiB: 0,
    protection: false,
    models,
    ollama,
    network: { publicWeb: false, publicWebSourceRanges: [], dockerAddressPool: "172.30.0.0/16" },
    tailnet: { deployers: ["tag:ai-deployer"], admins: [], users: [], managePolicy: false },
  };
}

describe("Ollama's memory", () => {
  it("KV cache is context x parallel requests x the per-token figure", () => {
    const m = model("qwen2.5:7b", 4.7, 56);
    assert.equal(kvCacheMib(m, { contextLength: 4096, parallelRequests: 1, maxLoadedModels: 1 }), 224);
    assert.equal(kvCacheMib(m, { contextLength: 8192, parallelRequests: 4, maxLoadedModels: 1 }), 1792);
    assert.equal(kvCacheMib(model("nomic", 0.27, 0, true), { contextLength: 8192, parallelRequests: 4, maxLoadedModels: 1 }), 0);
  });

  it("counts the largest chat models that may be loaded at once, plus every embedding model", () => {
    const models = [model("small", 1, 32), model("big", 4.7, 56), model("mid", 2, 112), model("embed", 0.27, 0, true)];
    const one = ollamaMemory(models, { contextLength: 4096, parallelRequests: 1, maxLoadedModels: 1 });
    const two = ollamaMemory(models, { contextLength: 4096, parallelRequests: 1, maxLoadedModels: 2 });
    const gbMib = 1e9 / 2 ** 20;
    assert.equal(one.mib, Math.ceil(OLLAMA_RUNTIME_MIB + 4.7 * gbMib + 224 + 0.27 * gbMib));
    assert.equal(two.mib, Math.ceil(OLLAMA_RUNTIME_MIB + 4.7 * gbMib + 224 + 2 * gbMib + 448 + 0.27 * gbMib));
    assert.match(one.detail, /^big 4\.4 GB \+ KV 0\.2 GB, embed 0\.3 GB, runtime 0\.3 GB$/);
  });
});

describe("fitting the node", () => {
  it("a 7B model fits a 16 GB node with room to spare", () => {
    const s = settings("cx43", [model("qwen2.5:7b", 4.7, 56)]);
    const budget = planCapacity(s);
    assert.ok(budget.inference.headroomMib > 8 * 1024);
    assert.deepEqual(capacityProblems(s, budget), []);
  });

  it("a model too big for the RAM names the need, the server, and what would fit", () => {
    const s = settings("cx23", [model("llama3.1:8b", 4.9, 128), model("nomic-embed-text:latest", 0.27, 0, true)]);
    const [problem, ...rest] = capacityProblems(s, planCapacity(s));
    assert.deepEqual(rest, []);
    assert.match(problem, /^the inference node needs 6\.\d GB but cx23 has 4 GB \(ollama 5\.\d GB, OS 0\.8 GB\): drop llama3\.1:8b, or lower the context, or use cx33 \(ai-platform:inferenceServerType\)$/);
  });

  it("suggests lowering parallel requests when they multiply the context", () => {
    const s = settings("cx33", [model("llama3.1:8b", 4.9, 128)], { contextLength: 8192, parallelRequests: 4, maxLoadedModels: 1 });
    const [problem] = capacityProblems(s, planCapacity(s));
    assert.match(problem, /lower parallelRequests/);
    assert.match(problem, /use cx43/);
  });

  it("models that outgrow the disk are refused too", () => {
    const huge = Array.from({ length: 8 }, (_, i) => model(`m${i}`, 4.9, 0, true));
    const s = settings("cx23", huge);
    const problems = capacityProblems(s, planCapacity(s));
    assert.ok(problems.some((p) => /needs 51\.2 GB of disk but cx23 has 40 GB: drop a model/.test(p)), problems.join("\n"));
  });
});
