/**
 * Extra inference nodes in the plan: each has its own memory budget (Ollama with the models it serves, the
 * exporters), refused with the usual message when they do not fit, and its own cost rows.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ollamaMemory, planWorkers, SERVICE_MEMORY_MIB, workerCapacityProblems } from "../../components/plan/capacity";
import { estimateCost } from "../../components/plan/cost";
import { loadStackSettings, projectName } from "../harness";

const PROJECT = projectName();
const TWO_WORKERS = {
  models: ["qwen2.5:7b", "llama3.2:1b"],
  inferenceServerType: "cx43",
  devInferenceNodes: ["name=b type=cx23 models=qwen2.5:7b", "name=c type=cx33 volume=20 models=llama3.2:1b"],
};

describe("extra inference nodes: capacity", () => {
  it("budgets each node with Ollama holding its own models only, and the exporters", () => {
    const s = loadStackSettings("dev", TWO_WORKERS);
    const [b, c] = planWorkers(s);
    assert.equal(b.name, "b");
    assert.equal(b.role, "worker");
    assert.equal(b.serverType.name, "cx23");
    assert.deepEqual(b.items.map((i) => i.name), ["ollama", "qdrant", "nodeExporter", "cadvisor"]);
    const only7b = s.models.filter((m) => m.name === "qwen2.5:7b");
    assert.equal(b.limits.ollama, ollamaMemory(only7b, s.ollama).mib);
    assert.equal(c.limits.ollama, ollamaMemory(s.models.filter((m) => m.name === "llama3.2:1b"), s.ollama).mib);
    assert.equal(c.limits.nodeExporter, SERVICE_MEMORY_MIB.nodeExporter);
    // The disk holds its models beside the OS.
    assert.ok(Math.abs(c.diskUsedGb - b.diskUsedGb - (1.3 - 4.7)) < 1e-9);
  });

  it("refuses the node that does not fit, naming it, the setting and the type that would", () => {
    const s = loadStackSettings("dev", TWO_WORKERS);
    const problems = workerCapacityProblems(s, planWorkers(s));
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0], new RegExp(`^the inference node "b" \\(${PROJECT}:devInferenceNodes\\) needs \\d+\\.\\d GB but cx23 has 4 GB \\(ollama`));
    assert.ok(problems[0].includes("use a smaller model than qwen2.5:7b"), problems[0]);
    assert.ok(problems[0].endsWith("or use type=cx33 in its entry"), problems[0]);
  });

  it("plans only the stack's own environment's nodes", () => {
    const s = loadStackSettings("prod", TWO_WORKERS);
    assert.deepEqual(planWorkers(s), []);
    assert.deepEqual(workerCapacityProblems(s, planWorkers(s)), []);
  });
});

describe("extra inference nodes: cost", () => {
  it("a server, an IPv4 and a volume row per node, in the total", () => {
    const none = estimateCost(loadStackSettings("dev", { ...TWO_WORKERS, devInferenceNodes: [] }));
    const two = estimateCost(loadStackSettings("dev", TWO_WORKERS));
    const added = two.lines.filter((l) => !none.lines.some((n) => n.item === l.item));
    assert.deepEqual(added, [
      { item: "inference node b server cx23", eurMonth: 5.49 },
      { item: "inference node b primary IPv4", eurMonth: 0.5 },
      { item: "inference node b volume 10 GB", eurMonth: 0.57 },
      { item: "inference node c server cx33", eurMonth: 8.49 },
      { item: "inference node c primary IPv4", eurMonth: 0.5 },
      { item: "inference node c volume 20 GB", eurMonth: 1.14 },
    ]);
    assert.equal(Math.round((two.totalEurMonth - none.totalEurMonth) * 100), Math.round(16.69 * 100));
  });
});
