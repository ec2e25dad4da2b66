/**
 * Extra inference nodes (devInferenceNodes, prodInferenceNodes): read from each entry's key=value words, every
 * stack reading both lists; every mistake named with the setting, the entry and what to write.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadStackSettings, projectName, settingsProblems } from "../harness";

const PROJECT = projectName();
const MODELS = ["qwen2.5:3b", "nomic-embed-text"];

function oneProblem(found: string[], ...parts: string[]) {
  assert.equal(found.length, 1, `expected exactly one problem, got:\n${found.join("\n")}`);
  for (const part of parts) assert.ok(found[0].includes(part), `"${found[0]}" should mention "${part}"`);
}

describe("extra inference nodes", () => {
  it("none in the real stacks", () => {
    for (const env of ["dev", "prod"] as const) assert.deepEqual(loadStackSettings(env).workers, { dev: [], prod: [] });
  });

  it("reads an entry's words in any order; models default to every local model, the volume to 10 GB", () => {
    const s = loadStackSettings("dev", {
      models: MODELS,
      devInferenceNodes: ["name=b type=cx33 volume=20 models=qwen2.5:3b", "type=cx43 name=c"],
    });
    assert.deepEqual(
      s.workers.dev.map((w) => ({ name: w.name, type: w.serverType.name, volumeGb: w.volumeGb, models: w.models.map((m) => m.name) })),
      [
        { name: "b", type: "cx33", volumeGb: 20, models: ["qwen2.5:3b"] },
        { name: "c", type: "cx43", volumeGb: 10, models: ["qwen2.5:3b", "nomic-embed-text:latest"] },
      ],
    );
    // The node's models are the models setting's own entries (sizes, KV cache), which the capacity plan reads.
    assert.equal(s.workers.dev[0].models[0], s.models.find((m) => m.name === "qwen2.5:3b"));
    assert.deepEqual(s.workers.prod, []);
  });

  it("every stack reads both environments' lists (the policy covers both)", () => {
    const s = loadStackSettings("prod", { devInferenceNodes: ["name=b type=cx33"] });
    assert.equal(s.workers.dev[0].name, "b");
    assert.deepEqual(s.workers.prod, []);
  });

  it("a model not among the local models is refused, naming them", () => {
    oneProblem(
      settingsProblems("dev", { models: MODELS, devInferenceNodes: ["name=b type=cx33 models=qwen3:32b"] }),
      `${PROJECT}:devInferenceNodes`,
      "qwen3:32b",
      "qwen2.5:3b, nomic-embed-text:latest",
    );
  });

  it("an unknown word, a missing type, a bad type, a bad volume are each refused with what to write", () => {
    oneProblem(settingsProblems("dev", { devInferenceNodes: ["name=b type=cx33 size=20"] }), "\"size=20\"", "name=, type=, volume=, models=");
    oneProblem(settingsProblems("dev", { devInferenceNodes: ["name=b"] }), "without type=", "name=b type=cx33");
    oneProblem(settingsProblems("dev", { devInferenceNodes: ["name=b type=CX33"] }), "type \"CX33\"", "cx43");
    oneProblem(settingsProblems("dev", { devInferenceNodes: ["name=b type=cx33 volume=5"] }), "volume \"5\"", "from 10 to");
    oneProblem(settingsProblems("prod", { prodInferenceNodes: ["name=b type=cx33 type=cx43"] }), `${PROJECT}:prodInferenceNodes`, "type= is given twice");
  });

  it("a backend may not carry an environment's worker tag", () => {
    oneProblem(
      settingsProblems("dev", { tailnetDevBackends: ["name=gpu url=http://gpu:11434 tag=tag:ai-prod-worker models=qwen3:8b"] }),
      "tag \"tag:ai-prod-worker\" is one of the platform's own tags",
    );
  });

  it("a type Hetzner does not sell in the stack's location is refused", () => {
    oneProblem(settingsProblems("dev", { location: "ash", inferenceServerType: "cpx42", operationsServerType: "cpx32", devInferenceNodes: ["name=b type=cx33"] }), "type \"cx33\"", "not offered in ash");
  });

  it("names: the form, twice in one list, a reserved word, a backend's name", () => {
    oneProblem(settingsProblems("dev", { devInferenceNodes: ["name=B type=cx33"] }), "name \"B\"", "lowercase");
    oneProblem(settingsProblems("dev", { devInferenceNodes: ["name=b type=cx33", "name=b type=cx43"] }), "\"b\" more than once");
    oneProblem(settingsProblems("dev", { devInferenceNodes: ["name=services type=cx33"] }), "name \"services\"", "choose another name");
    oneProblem(settingsProblems("dev", { devInferenceNodes: ["name=local type=cx33"] }), "name \"local\"");
    // The first inference node's node label in Prometheus: a worker by that name could not be told from it.
    oneProblem(settingsProblems("dev", { devInferenceNodes: ["name=inference type=cx33"] }), "name \"inference\"", "Prometheus");
    oneProblem(
      settingsProblems("dev", {
        tailnetDevBackends: ["name=gpu url=http://gpu:11434 tag=tag:ai-dev-gpu models=qwen3:8b"],
        devInferenceNodes: ["name=gpu type=cx33"],
      }),
      "\"gpu\"",
      "external backends",
    );
  });
});
