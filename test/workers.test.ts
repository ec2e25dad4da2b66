/**
 * Extra inference nodes, the whole program under mocks: a stack without them declares exactly what it declared
 * before they existed (names and inputs, pinned by a snapshot taken from the commit before this feature), and a
 * dev stack with one declares it as a node of its own, with Ollama on its tailnet address, its models, its
 * exporters scraped and its Ollama probed and listed in LiteLLM's config.
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { backendRouting } from "../components/services/inference";
import { buildReport } from "../tools/report";
import { checkAll } from "./policy/checkAll";
import { loadStackSettings, ProgramRun, projectName, recorded, runProgram } from "./harness";
import { assertMatchesSnapshot } from "./snapshots";

const PROJECT = projectName();
const SNAPSHOT_DIR = path.join(__dirname, "fixtures", "declared");
const SERVER = "hcloud:index/server:Server";
const CONTAINER = "docker:index/container:Container";
const COMMAND = "command:remote:Command";

/** One line per resource: its URN and a digest of its inputs, sorted. */
function declared(run: ProgramRun): string {
  return (
    run.resources
      .map((r) => `${r.urn} ${crypto.createHash("sha256").update(JSON.stringify(r.inputs)).digest("hex").slice(0, 16)}`)
      .sort()
      .join("\n") + "\n"
  );
}

const upload = (container: { inputs: Record<string, unknown> }, file: string): string => {
  const uploads = container.inputs.uploads as { file: string; content: string }[];
  const found = uploads.find((u) => u.file === file);
  assert.ok(found, `no upload ${file}`);
  return found.content;
};

// First in the file: the mocks' resource ids count up across runs, and the snapshot was taken in this order.
describe("a stack without extra inference nodes", () => {
  const runs: Record<string, ProgramRun> = {};
  before(async () => {
    for (const stack of ["dev", "prod"]) runs[stack] = await runProgram(stack);
  });

  for (const stack of ["dev", "prod"]) {
    it(`${stack}: declares the same resources with the same inputs as before the feature`, () => {
      assertMatchesSnapshot(path.join(SNAPSHOT_DIR, `${stack}.txt`), declared(runs[stack]));
    });
  }
});

describe("a dev stack with one extra inference node", () => {
  let run: ProgramRun;
  const B = "ai-dev-inference-b";
  before(async () => {
    run = await runProgram("dev", {
      // dev serves gemma3:1b and nomic-embed-text; b serves the first only.
      set: { [`${PROJECT}:devInferenceNodes`]: ["name=b type=cx33 volume=20 models=gemma3:1b"] },
    });
  });

  it("declares it as a node of its own: server, volume, firewall, a key with the worker tag", () => {
    assert.deepEqual(run.ofType(SERVER).map((s) => s.name).sort(), ["ai-dev-inference", B, "ai-dev-operations"]);
    const server = run.one(SERVER, B);
    assert.equal(server.inputs.serverType, "cx33");
    assert.equal(server.inputs.backups, false);
    assert.deepEqual(server.inputs.labels, { "managed-by": "pulumi", project: PROJECT, environment: "dev", role: "worker", node: "b" });
    assert.equal(run.one("hcloud:index/volume:Volume", `${B}-data`).inputs.size, 20);
    assert.deepEqual(server.inputs.firewallIds, [Number(run.one("hcloud:index/firewall:Firewall", B).id)]);
    assert.deepEqual(run.one("tailscale:index/tailnetKey:TailnetKey", B).inputs.tags, ["tag:ai-dev-worker"]);
  });

  it("runs Ollama published on its tailnet address only, and pulls its own models only", () => {
    const ollama = run.resources.find((r) => r.type === CONTAINER && r.name === `${B}-services-ollama`);
    assert.ok(ollama);
    const ports = ollama.inputs.ports as { internal: number; external: number; ip: string }[];
    assert.deepEqual(ports.map((p) => [p.internal, p.external]), [[11434, 11434]]);
    assert.match(ports[0].ip, /tailnet-ipv4/);
    assert.ok(ollama.provider.includes(`pulumi:providers:docker::${B}::`), ollama.provider);
    const pulls = run.ofType(COMMAND).filter((c) => c.name.startsWith(`${B}-services-models-`));
    assert.deepEqual(pulls.map((c) => c.name), [`${B}-services-models-model-gemma3-1b`]);
    // The inference node's own Ollama stays unpublished.
    const own = run.resources.find((r) => r.type === CONTAINER && r.name === "ai-dev-inference-services-ollama");
    assert.deepEqual(own?.inputs.ports ?? [], []);
  });

  it("LiteLLM lists its Ollama as one more deployment of its models, and waits for its pulls", () => {
    const litellm = run.resources.find((r) => r.type === CONTAINER && r.name === "ai-dev-inference-services-litellm");
    assert.ok(litellm);
    const config = parse(upload(litellm, "/app/config.yaml")) as { model_list: { model_name: string; litellm_params: Record<string, unknown>; model_info: { id: string } }[] };
    const onB = config.model_list.filter((d) => d.model_info.id.endsWith("@b"));
    assert.deepEqual(onB.map((d) => d.model_info.id), ["gemma3:1b@b"]);
    assert.match(String(onB[0].litellm_params.api_base), /^http:\/\/.*tailnet-ipv4.*:11434$/);
    assert.equal(onB[0].litellm_params.order, 1);
    assert.equal(onB[0].litellm_params.weight, 1);
    assert.ok(config.model_list.some((d) => d.model_info.id === "gemma3:1b@local"));
    const pull = run.one(COMMAND, `${B}-services-models-model-gemma3-1b`);
    const litellmComponent = run.resources.find((r) => r.type === "aiplatform:services:Container" && r.name === "ai-dev-inference-services-litellm");
    assert.ok(litellmComponent);
    const waitsFor = [...litellmComponent.dependencies, ...litellm.dependencies];
    assert.ok(
      waitsFor.some((urn) => urn.endsWith(`::${B}-services-models`) || urn === pull.urn),
      `LiteLLM does not wait for b's pulls: ${waitsFor.join(", ")}`,
    );
  });

  it("Prometheus scrapes its exporters with the node's name, and probes its Ollama through the inference node's blackbox exporter", () => {
    const prometheus = run.resources.find((r) => r.type === CONTAINER && r.name === "ai-dev-monitoring-prometheus");
    assert.ok(prometheus);
    const config = parse(upload(prometheus, "/etc/prometheus/prometheus.yml")) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[]; labels?: Record<string, string> }[] }[];
    };
    const job = (name: string) => config.scrape_configs.find((j) => j.job_name === name)!;
    for (const name of ["node", "cadvisor"]) {
      const b = job(name).static_configs.filter((c) => c.labels?.node === "b");
      assert.equal(b.length, 1, `${name} has no target for b`);
      assert.equal(b[0].labels?.role, "worker");
    }
    const probe = job("probes").static_configs.find((c) => c.labels?.probe === "ollama-b");
    assert.ok(probe);
    assert.match(probe.targets[0], /:11434\/api\/version$/);
    const ollamaProbe = job("probes").static_configs.find((c) => c.labels?.probe === "ollama");
    assert.equal(probe.labels?.__blackbox_address, ollamaProbe?.labels?.__blackbox_address);
  });

  it("the offline plan lists it in its Nodes and Services sections and prices it", () => {
    const report = buildReport(run);
    const section = (title: string) => report.slice(report.indexOf(`## ${title}\n`)).split("\n## ")[0];
    assert.match(section("Nodes"), /^worker b\s+cx33\s+fsn1\s+4\s+8 GB\s+80 GB\s+8\.49\s/m);
    assert.match(section("Services"), /^worker b\s+ollama\s+\S+\s+\d+ MiB\s+tailnet-ip:11434->11434\/tcp/m);
    assert.match(report, /inference node b server cx33\s+8\.49/);
    assert.match(report, /^gemma3:1b +this node's Ollama, order 1, weight 1; inference node b's Ollama, order 1, weight 1 +-$/m);
  });

  it("passes the policy pack's rules (firewall, pinned images, memory limits, ports on a named address, secrets)", () => {
    const resources = run.resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs, secretProps: r.secretInputs }));
    assert.ok(resources.some((r) => r.type === CONTAINER && r.name === `${B}-services-ollama`));
    assert.deepEqual(checkAll(resources, { outputs: run.outputs, secretOutputs: run.secretOutputs }), []);
  });

  it("outputs it under inferenceNodes, by name", () => {
    const nodes = run.outputs.inferenceNodes as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(nodes), ["b"]);
    assert.equal(nodes.b.serverType, "cx33");
    assert.deepEqual(nodes.b.models, ["gemma3:1b"]);
    assert.deepEqual((nodes.b.memoryBudget as { items: { name: string }[] }).items.map((i) => i.name), ["ollama", "qdrant", "nodeExporter", "cadvisor"]);
    assert.ok(Array.isArray(nodes.b.tailnetAddresses));
  });

  it("gives the first inference node the node label inference, labels each Ollama probe with its node, and names the node in the alerts", () => {
    const prometheus = run.resources.find((r) => r.type === CONTAINER && r.name === "ai-dev-monitoring-prometheus")!;
    const config = parse(upload(prometheus, "/etc/prometheus/prometheus.yml")) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[]; labels?: Record<string, string> }[] }[];
    };
    const job = (name: string) => config.scrape_configs.find((j) => j.job_name === name)!;
    for (const name of ["node", "cadvisor", "litellm", "qdrant"]) {
      const first = job(name).static_configs.filter((c) => c.labels?.role === "inference");
      assert.deepEqual(first.map((c) => c.labels?.node), ["inference"], name);
    }
    assert.equal(job("node").static_configs.find((c) => c.labels?.role === "operations")?.labels?.node, undefined);
    const probes = Object.fromEntries(job("probes").static_configs.map((c): [string, string | undefined] => [c.labels?.probe ?? "", c.labels?.node]));
    assert.deepEqual(probes, { litellm: undefined, ollama: "inference", "ollama-b": "b", qdrant: undefined });
    const rules = parse(upload(prometheus, "/etc/prometheus/rules/platform.yml")) as { groups: { rules: { alert: string; annotations: { description: string } }[] }[] };
    const nodeDown = rules.groups[0].rules.find((r) => r.alert === "NodeDown")!;
    assert.match(nodeDown.annotations.description, /\(\{\{ \$labels\.role \}\} node\{\{ with \$labels\.node \}\} "\{\{ \. \}\}"\{\{ end \}\}\)/);
  });

  it("Grafana's dashboard has the node variable and the Inference nodes row", () => {
    const grafana = run.resources.find((r) => r.type === CONTAINER && r.name === "ai-dev-monitoring-grafana")!;
    const board = JSON.parse(upload(grafana, "/etc/grafana/dashboards/stack-overview.json")) as { templating: { list: { name: string }[] }; panels: { title: string }[] };
    assert.deepEqual(board.templating.list.map((v) => v.name), ["node"]);
    assert.ok(board.panels.some((p) => p.title === "Inference nodes"));
  });

  it("with a second extra inference node, Grafana's files and the alert rules are the same: they name no node", async () => {
    const two = await runProgram("dev", {
      set: { [`${PROJECT}:devInferenceNodes`]: ["name=b type=cx33 volume=20 models=gemma3:1b", "name=c type=cx33 volume=20 models=gemma3:1b"] },
    });
    const files = (r: ProgramRun, name: string) => {
      const container = r.resources.find((x) => x.type === CONTAINER && x.name === name)!;
      return (container.inputs.uploads as { file: string; content: string }[]).filter((u) => !u.file.includes("secret"));
    };
    assert.deepEqual(files(two, "ai-dev-monitoring-grafana"), files(run, "ai-dev-monitoring-grafana"));
    const rules = (r: ProgramRun) => upload(r.resources.find((x) => x.type === CONTAINER && x.name === "ai-dev-monitoring-prometheus")!, "/etc/prometheus/rules/platform.yml");
    assert.equal(rules(two), rules(run));
    assert.notEqual(upload(two.resources.find((x) => x.type === CONTAINER && x.name === "ai-dev-monitoring-prometheus")!, "/etc/prometheus/prometheus.yml"),
      upload(run.resources.find((x) => x.type === CONTAINER && x.name === "ai-dev-monitoring-prometheus")!, "/etc/prometheus/prometheus.yml"));
  });

  it("installs its host firewall and its exporters on it", () => {
    assert.ok(run.one(COMMAND, `${B}-host-firewall`));
    for (const c of ["node-exporter", "cadvisor"]) {
      const container = run.resources.find((r) => r.type === CONTAINER && r.name === `${B}-exporters-${c}`);
      assert.ok(container, `no ${c} on b`);
    }
  });
});

describe("an extra inference node too small for its models", () => {
  it("stops the stack before any resource, naming the node, the setting and a type that fits", async () => {
    await assert.rejects(
      runProgram("dev", { set: { [`${PROJECT}:models`]: ["qwen2.5:7b"], [`${PROJECT}:devInferenceNodes`]: ["name=b type=cx23"] } }),
      (err: Error) => {
        assert.match(err.message, new RegExp(`the inference node "b" \\(${PROJECT}:devInferenceNodes\\) needs .* but cx23 has 4 GB`));
        assert.match(err.message, /use type=cx33 in its entry/);
        return true;
      },
    );
    assert.deepEqual(recorded(), []);
  });
});

describe("extra inference nodes in LiteLLM's routing", () => {
  const worker = { name: "b", address: "100.64.0.9", models: [{ name: "gemma3:1b", embedding: false }] };
  const gpu = (preferred: boolean) =>
    loadStackSettings("dev", {
      tailnetDevBackends: [`name=gpu url=http://gpu:11434 tag=tag:ai-dev-gpu models=gemma3:1b preferred=${preferred}`],
    }).backends.dev;

  it("a worker is one more Ollama deployment at its tailnet address, tried with the inference node's own", () => {
    assert.deepEqual(backendRouting([], [worker]), {
      localOrder: 1,
      backends: [{ name: "b", kind: "ollama", apiBase: "http://100.64.0.9:11434", models: [{ name: "gemma3:1b", embedding: false }], order: 1, weight: 1 }],
    });
  });

  it("behind a preferred backend, the workers wait with the inference node (order 2); beside a plain one, all share order 1", () => {
    const preferred = backendRouting(gpu(true), [worker]);
    assert.equal(preferred.localOrder, 2);
    assert.deepEqual(preferred.backends?.map((b) => [b.name, b.order]), [["b", 2], ["gpu", 1]]);
    const plain = backendRouting(gpu(false), [worker]);
    assert.deepEqual(plain.backends?.map((b) => [b.name, b.order]), [["b", 1], ["gpu", 1]]);
    assert.equal(plain.localOrder, 1);
  });

  it("without workers, the backends' routing is what it was", () => {
    assert.deepEqual(backendRouting(gpu(true), []), backendRouting(gpu(true)));
    assert.deepEqual(backendRouting([], []), {});
  });
});
