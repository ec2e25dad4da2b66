/** The capacity planner: the figures it adds up and the advice it gives when a node is too small. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findServerType } from "../../components/catalog/serverTypes";
import type { ModelSettings, Settings } from "../../components/config";
import {
  capacityProblems,
  kvCacheMib,
  ollamaMemory,
  OLLAMA_RUNTIME_MIB,
  planCapacity,
  QDRANT_BASE_MIB,
} from "../../components/plan/capacity";
import { loadStackSettings } from "../harness";

const model = (name: string, fileGb: number, kv: number, embedding = false): ModelSettings => ({
  name,
  fileGb,
  kvCacheKibPerToken: kv,
  embedding,
  fromCatalog: true,
});

/** The dev stack's settings with the inference server, the models and Ollama's sizing replaced. */
function settings(inference: string, models: ModelSettings[], ollama: Partial<Settings["ollama"]> = {}): Settings {
  const base = loadStackSettings("dev", { kvCacheType: "f16" });
  return {
    ...base,
    nodes: { ...base.nodes, inference: { ...base.nodes.inference, serverType: findServerType(inference)! } },
    models,
    ollama: { ...base.ollama, contextLength: 4096, parallelRequests: 1, maxLoadedModels: 1, ...ollama },
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

describe("the other services' share", () => {
  it("Qdrant grows with vectors x dimensions x 4 bytes x 1.5", () => {
    const small = planCapacity(loadStackSettings("dev", { qdrantVectors: "0" })).inference;
    const large = planCapacity(loadStackSettings("dev", { qdrantVectors: "1000000", qdrantDimensions: "1024" })).inference;
    const qdrant = (b: typeof small) => b.items.find((i) => i.name === "qdrant")!.mib;
    assert.equal(qdrant(small), QDRANT_BASE_MIB);
    // 1e6 x 1024 x 4 x 1.5 bytes = 5859.4 MiB, rounded up to 16 MiB with the base.
    assert.equal(qdrant(large), Math.ceil((QDRANT_BASE_MIB + 5859.375) / 16) * 16);
  });

  it("Postgres is budgeted only when LiteLLM's database is on", () => {
    const names = (database: string) =>
      planCapacity(loadStackSettings("dev", { litellmDatabase: database })).inference.items.map((i) => i.name);
    assert.ok(names("true").includes("postgres"));
    assert.ok(!names("false").includes("postgres"));
  });

  it("a quantized KV cache takes half (q8_0) or a quarter (q4_0) of f16, only with flash attention", () => {
    const m = model("llama3.1:8b", 4.9, 128);
    const sizing = { contextLength: 8192, parallelRequests: 1, maxLoadedModels: 1 };
    assert.equal(kvCacheMib(m, { ...sizing, flashAttention: true, kvCacheType: "f16" }), 1024);
    assert.equal(kvCacheMib(m, { ...sizing, flashAttention: true, kvCacheType: "q8_0" }), 512);
    assert.equal(kvCacheMib(m, { ...sizing, flashAttention: true, kvCacheType: "q4_0" }), 256);
    assert.equal(kvCacheMib(m, { ...sizing, flashAttention: false, kvCacheType: "q8_0" }), 1024);
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
    assert.match(
      problem,
      /^the inference node needs 7\.\d GB but cx23 has 4 GB \(ollama 5\.\d GB, litellm 1\.0 GB, qdrant 0\.2 GB, blackbox 0\.0 GB, nodeExporter 0\.1 GB, cadvisor 0\.1 GB, OS 0\.8 GB\): drop llama3\.1:8b, or lower the context, or use cx33 \(ai-platform:inferenceServerType\)$/,
    );
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
