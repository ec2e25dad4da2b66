/**
 * External backends (tailnetDevBackends, tailnetProdBackends): machines on the tailnet that serve some models,
 * read from each entry's key=value words; every mistake named with the setting, the entry and what to write.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadStackSettings, projectName, settingsProblems } from "../harness";

const PROJECT = projectName();
const GPU = "name=gpu-box url=http://gpu-box.tail1234.ts.net:11434 tag=tag:ai-dev-gpu models=qwen3:8b,qwen3:32b=20GB preferred=true";

function oneProblem(found: string[], ...parts: string[]) {
  assert.equal(found.length, 1, `expected exactly one problem, got:\n${found.join("\n")}`);
  for (const part of parts) assert.ok(found[0].includes(part), `"${found[0]}" should mention "${part}"`);
}

describe("external backends", () => {
  it("none in the real stacks", () => {
    for (const env of ["dev", "prod"] as const) assert.deepEqual(loadStackSettings(env).backends, { dev: [], prod: [] });
  });

  it("reads an entry's words in any order, with the defaults for kind and weight", () => {
    const s = loadStackSettings("dev", { tailnetDevBackends: [GPU, "models=bge-m3:567m tag=tag:ai-dev-box url=http://100.101.102.103:11434 name=box"] });
    assert.deepEqual(s.backends.dev, [
      {
        name: "gpu-box",
        kind: "ollama",
        url: "http://gpu-box.tail1234.ts.net:11434",
        host: "gpu-box.tail1234.ts.net",
        port: 11434,
        tag: "tag:ai-dev-gpu",
        models: [
          { name: "qwen3:8b", fileGb: s.backends.dev[0].models[0].fileGb, embedding: false },
          { name: "qwen3:32b", fileGb: 20, embedding: false },
        ],
        preferred: true,
        weight: 1,
      },
      {
        name: "box",
        kind: "ollama",
        url: "http://100.101.102.103:11434",
        host: "100.101.102.103",
        port: 11434,
        tag: "tag:ai-dev-box",
        models: [{ name: "bge-m3:567m", fileGb: s.backends.dev[1].models[0].fileGb, embedding: s.backends.dev[1].models[0].embedding }],
        preferred: false,
        weight: 1,
      },
    ]);
    assert.deepEqual(s.backends.prod, []);
  });

  it("every stack reads both environments' lists (the policy covers both)", () => {
    const s = loadStackSettings("prod", { tailnetDevBackends: [GPU] });
    assert.equal(s.backends.dev[0].name, "gpu-box");
    assert.deepEqual(s.backends.prod, []);
  });

  it("an OpenAI-compatible server: its served model names as they are, a /v1 path kept", () => {
    const s = loadStackSettings("dev", {
      tailnetDevBackends: ["name=vllm kind=openai url=http://[fd7a:115c:a1e0::5]:8000/v1/ tag=tag:ai-dev-vllm models=Qwen/Qwen2.5-7B-Instruct weight=3"],
    });
    const [b] = s.backends.dev;
    assert.equal(b.url, "http://[fd7a:115c:a1e0::5]:8000/v1");
    assert.equal(b.host, "fd7a:115c:a1e0::5");
    assert.deepEqual(b.models, [{ name: "Qwen/Qwen2.5-7B-Instruct", fileGb: undefined, embedding: false }]);
    assert.equal(b.weight, 3);
  });

  it("refuses a host that is not on the tailnet", () => {
    for (const host of ["203.0.113.7", "gpu.example.com", "[2001:db8::1]", "100.128.0.1"]) {
      oneProblem(
        settingsProblems("dev", { tailnetDevBackends: [`name=gpu url=http://${host}:11434 tag=tag:ai-dev-gpu models=qwen3:8b`] }),
        `${PROJECT}:tailnetDevBackends has "name=gpu url=http://${host}:11434`,
        "is not on the tailnet",
        "MagicDNS name",
      );
    }
  });

  it("refuses a missing key, an unknown word, a bad tag, a platform tag, a URL without port, a bad weight", () => {
    oneProblem(settingsProblems("dev", { tailnetDevBackends: ["name=gpu url=http://gpu:11434 models=qwen3:8b"] }), "without tag=", "name=gpu-box url=");
    oneProblem(settingsProblems("dev", { tailnetDevBackends: [`${GPU} gpu=yes`] }), '"gpu=yes" is not one of name=, url=');
    oneProblem(settingsProblems("dev", { tailnetDevBackends: ["name=gpu url=http://gpu:11434 tag=ai-gpu models=qwen3:8b"] }), 'tag "ai-gpu" is not a tailnet tag');
    oneProblem(
      settingsProblems("dev", { tailnetDevBackends: ["name=gpu url=http://gpu:11434 tag=tag:ai-prod-inference models=qwen3:8b"] }),
      'tag "tag:ai-prod-inference" is one of the platform\'s own tags',
    );
    oneProblem(settingsProblems("dev", { tailnetDevBackends: ["name=gpu url=http://gpu tag=tag:ai-dev-gpu models=qwen3:8b"] }), "has no port");
    oneProblem(settingsProblems("dev", { tailnetDevBackends: [`${GPU} weight=0`] }), 'weight "0" must be a whole number from 1 to 100');
    oneProblem(settingsProblems("dev", { tailnetDevBackends: ["name=gpu url=http://gpu:11434/api tag=tag:ai-dev-gpu models=qwen3:8b"] }), "an Ollama backend's url is its server's root");
    oneProblem(settingsProblems("dev", { tailnetDevBackends: ["name=gpu url=http://gpu:11434 tag=tag:ai-dev-gpu models=qwen3:8b,qwen3:8b"] }), "models= lists qwen3:8b more than once");
    oneProblem(settingsProblems("dev", { tailnetDevBackends: ["name=gpu kind=grpc url=http://gpu:11434 tag=tag:ai-dev-gpu models=qwen3:8b"] }), 'kind "grpc" is not one of ollama, openai');
  });

  it("refuses two backends of one name, and a model that is a cloud model's name", () => {
    oneProblem(settingsProblems("dev", { tailnetDevBackends: [GPU, GPU.replace("tag:ai-dev-gpu", "tag:ai-dev-gpu2")] }), `${PROJECT}:tailnetDevBackends names the backend "gpu-box" more than once`);
    oneProblem(
      settingsProblems("dev", {
        tailnetDevBackends: ["name=vllm kind=openai url=http://vllm:8000/v1 tag=tag:ai-dev-vllm models=gpt-4o-mini"],
        cloudModels: ["gpt-4o-mini=openai/gpt-4o-mini"],
        openaiApiKey: "sk-test-not-a-real-key",
      }),
      'the backend "vllm" serves gpt-4o-mini, which is also the name of a cloud model',
    );
  });
});
