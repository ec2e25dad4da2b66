/**
 * A stack with external backends (tailnetDevBackends): the inference node's blackbox exporter probes each one
 * (only that node may reach it), Prometheus's config with those probes passes the real promtool, and a stack
 * without backends declares exactly what it did before.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { nodePlacement } from "../tools/nodePlacement";
import { ProgramRun, projectName, RecordedResource, runProgram } from "./harness";
import { requirePrometheusTool, runPrometheusTool } from "./validators/promql";

const PROJECT = projectName();
const CONTAINER = "docker:index/container:Container";
export const DEV_BACKENDS = [
  "name=gpu-box url=http://gpu-box.tail1234.ts.net:11434 tag=tag:ai-dev-gpu models=qwen3:8b,gemma3:1b preferred=true",
  "name=vllm kind=openai url=http://100.101.102.103:8000/v1 tag=tag:ai-dev-vllm models=Qwen/Qwen2.5-7B-Instruct",
];

function container(run: ProgramRun, role: string, name: string): RecordedResource {
  const placement = nodePlacement(run);
  const found = run.ofType(CONTAINER).filter((c) => c.inputs.name === name && placement.roleOf(c) === role);
  assert.equal(found.length, 1, `expected one ${name} container on the ${role} node`);
  return found[0];
}

const upload = (c: RecordedResource, file: string) =>
  ((c.inputs.uploads ?? []) as { file: string; content: string }[]).find((u) => u.file === file)?.content ?? "";

describe("a dev stack with two external backends", () => {
  let run: ProgramRun;
  let plain: ProgramRun;
  before(async () => {
    plain = await runProgram("dev");
    run = await runProgram("dev", { set: { [`${PROJECT}:tailnetDevBackends`]: DEV_BACKENDS } });
  });

  it("probes each backend through the inference node's blackbox exporter, and promtool accepts the config", () => {
    requirePrometheusTool("promtool");
    const config = upload(container(run, "operations", "prometheus"), "/etc/prometheus/prometheus.yml");
    const parsed = parse(config) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[]; labels: Record<string, string> }[] }[];
    };
    const probes = parsed.scrape_configs.find((j) => j.job_name === "probes")!.static_configs;
    const backendProbes = probes.filter((s) => s.labels.probe.startsWith("backend-"));
    assert.deepEqual(
      backendProbes.map((s) => [s.labels.probe, s.targets[0], s.labels.__blackbox_address]),
      [
        ["backend-gpu-box", "http://gpu-box.tail1234.ts.net:11434/api/version", "known-after-deploy:tailnet-ipv4:9115"],
        ["backend-vllm", "http://100.101.102.103:8000/v1/models", "known-after-deploy:tailnet-ipv4:9115"],
      ].map(([probe, target]) => [probe, target, probes.find((s) => s.labels.probe === "ollama")!.labels.__blackbox_address]),
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "backends-"));
    const text = config
      .replace(/known-after-deploy:tailnet-ipv4/g, "100.64.0.1")
      .replace(/known-after-deploy:[a-z0-9:-]+/g, "100.64.0.2")
      .replace(/\/etc\/prometheus\//g, `${dir}/`);
    fs.mkdirSync(path.join(dir, "rules"), { recursive: true });
    fs.mkdirSync(path.join(dir, "secrets"), { recursive: true });
    fs.writeFileSync(path.join(dir, "rules", "platform.yml"), upload(container(run, "operations", "prometheus"), "/etc/prometheus/rules/platform.yml"));
    fs.writeFileSync(path.join(dir, "secrets", "qdrant-read-only-api-key"), "x");
    fs.writeFileSync(path.join(dir, "prometheus.yml"), text);
    const result = runPrometheusTool("promtool", ["check", "config", path.join(dir, "prometheus.yml")]);
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(result.status, 0, result.output);
  });

  it("the probe of the inference node's Ollama is still there, and without backends there is no backend probe", () => {
    const probesOf = (r: ProgramRun) =>
      (parse(upload(container(r, "operations", "prometheus"), "/etc/prometheus/prometheus.yml")) as {
        scrape_configs: { job_name: string; static_configs: { labels: Record<string, string> }[] }[];
      }).scrape_configs
        .find((j) => j.job_name === "probes")!
        .static_configs.map((s) => s.labels.probe);
    assert.deepEqual(probesOf(plain).sort(), ["litellm", "ollama", "qdrant"]);
    assert.deepEqual(probesOf(run).sort(), ["backend-gpu-box", "backend-vllm", "litellm", "ollama", "qdrant"]);
  });

  it("outputs the backends, and the models only a backend serves among LiteLLM's models; a stack without backends outputs what it did", () => {
    const litellm = (r: ProgramRun) => r.outputs.litellm as { models: string[]; chatModels: string[]; backends?: { name: string; tag: string }[] };
    assert.equal(litellm(plain).backends, undefined);
    assert.deepEqual(
      litellm(run).backends?.map((b) => [b.name, b.tag]),
      [
        ["gpu-box", "tag:ai-dev-gpu"],
        ["vllm", "tag:ai-dev-vllm"],
      ],
    );
    // qwen3:8b is served by gpu-box only; gemma3:1b is the node's too, listed once.
    assert.deepEqual(litellm(run).models, [...litellm(plain).models, "qwen3:8b", "Qwen/Qwen2.5-7B-Instruct"]);
    assert.ok(litellm(run).chatModels.includes("Qwen/Qwen2.5-7B-Instruct"));
    assert.equal(litellm(run).models.filter((m) => m === "gemma3:1b").length, 1);
  });

  it("LiteLLM lists each backend's deployments beside the node's: the preferred one first, the node after it", () => {
    const config = parse(upload(container(run, "inference", "litellm"), "/app/config.yaml")) as {
      model_list: { model_name: string; litellm_params: { model: string; api_base?: string; order?: number; weight?: number }; model_info?: { id?: string } }[];
    };
    const rows = config.model_list.map((d) => [d.model_info?.id, d.litellm_params.model, d.litellm_params.api_base, d.litellm_params.order, d.litellm_params.weight]);
    assert.deepEqual(rows, [
      ["gemma3:1b@local", "ollama_chat/gemma3:1b", "http://ollama:11434", 2, 1],
      ["nomic-embed-text:latest@local", "ollama/nomic-embed-text:latest", "http://ollama:11434", 2, 1],
      ["qwen3:8b@gpu-box", "ollama_chat/qwen3:8b", "http://gpu-box.tail1234.ts.net:11434", 1, 1],
      ["gemma3:1b@gpu-box", "ollama_chat/gemma3:1b", "http://gpu-box.tail1234.ts.net:11434", 1, 1],
      ["Qwen/Qwen2.5-7B-Instruct@vllm", "openai/Qwen/Qwen2.5-7B-Instruct", "http://100.101.102.103:8000/v1", 2, 1],
    ]);
    // Without backends, the config is the one it was: no ids, no orders.
    const plainConfig = upload(container(plain, "inference", "litellm"), "/app/config.yaml");
    assert.doesNotMatch(plainConfig, /order:|@local/);
  });
});
