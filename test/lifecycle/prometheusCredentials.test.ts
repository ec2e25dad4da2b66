/**
 * Prometheus gives up LiteLLM's master key, in the local cloud: a dev stack deployed by the former program, whose
 * Prometheus read LiteLLM's /metrics with the master key from a file on the operations node (re-created here in a
 * copy of the project: the one upload and the argument that carried it), is updated by the current one. The next
 * `pulumi up` replaces Prometheus's container and nothing else: no server, no volume, no other container, and the
 * master key stays what it was (the applications' keys keep working). Afterwards no container of the operations
 * node holds the master key or Qdrant's read-write key in a file, its environment or its command, and Prometheus
 * scrapes LiteLLM's metrics port with no credential and Qdrant with the read-only key.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { parse } from "yaml";
import { port } from "../../components/catalog/services";
import { log } from "../localcloud/cloud";
import type { FakeContainer } from "../localcloud/docker";
import type { FakeNode } from "../localcloud/node";
import { changesOf, onOutput, runningNode, SKIP, startScenario, type Scenario } from "./scenario";

const FORMER_KEY_FILE = "/etc/prometheus/secrets/litellm-master-key";


/** Replaces `from` by `to` in a file of the copy; the text must be there, once. */
function edit(file: string, from: string, to: string): void {
  const text = fs.readFileSync(file, "utf8");
  assert.equal(text.split(from).length, 2, `${path.basename(file)} holds ${JSON.stringify(from)} once: the former program cannot be made`);
  fs.writeFileSync(file, text.replace(from, to));
}

/**
 * The stack's program (index.ts and components/, symlinks to the repository's) becomes a copy in which Prometheus
 * is given LiteLLM's master key as a file, as the former program did. Returns how to go back to the current one.
 */
function formerProgramInCopy(workDir: string): () => void {
  const links = ["index.ts", "components"].map((entry) => {
    const link = path.join(workDir, entry);
    const target = fs.realpathSync(link);
    fs.unlinkSync(link);
    fs.cpSync(target, link, { recursive: true });
    return { link, target };
  });
  edit(
    path.join(workDir, "index.ts"),
    "      qdrantReadOnlyApiKey: inference.qdrantReadOnlyApiKey,\n",
    "      litellmMasterKey: inference.litellmMasterKey,\n      qdrantReadOnlyApiKey: inference.qdrantReadOnlyApiKey,\n",
  );
  const monitoring = path.join(workDir, "components", "services", "monitoring.ts");
  edit(monitoring, "  qdrantReadOnlyApiKey: pulumi.Input<string>;\n", "  qdrantReadOnlyApiKey: pulumi.Input<string>;\n  litellmMasterKey: pulumi.Input<string>;\n");
  edit(
    monitoring,
    "      { path: PROMETHEUS_SECRET_FILES.qdrantReadOnlyKey, content: args.qdrantReadOnlyApiKey, ...readable },\n",
    `      { path: PROMETHEUS_SECRET_FILES.qdrantReadOnlyKey, content: args.qdrantReadOnlyApiKey, ...readable },\n` +
      `      { path: "${FORMER_KEY_FILE}", content: args.litellmMasterKey, ...readable },\n`,
  );
  return () => {
    for (const { link, target } of links) {
      fs.rmSync(link, { recursive: true, force: true });
      fs.symlinkSync(target, link);
    }
  };
}

/** Where in a container a value is found: its files, environment, command and host configuration. */
function whereHeld(c: FakeContainer, value: string): string[] {
  const places: string[] = [];
  for (const f of c.files.values()) if (f.content.toString("utf8").includes(value)) places.push(`file ${f.path}`);
  if ((c.config.Env ?? []).some((e) => e.includes(value))) places.push("environment");
  if (JSON.stringify(c.config.Cmd ?? []).includes(value)) places.push("command");
  if (JSON.stringify(c.hostConfig).includes(value)) places.push("host configuration");
  return places;
}

interface Credentials {
  masterKey: string;
  qdrantApiKey: string;
  qdrantReadOnlyApiKey: string;
}

describe("Prometheus gives up LiteLLM's master key on an existing dev stack", { skip: SKIP }, () => {
  let s: Scenario;
  let backToCurrent: () => void;
  let former: Credentials;
  /** The running node of the server labelled with `role`. */
  const nodeOf = (role: string): FakeNode => runningNode(s, role);
  const credentials = (outputs: Record<string, { value: unknown }>): Credentials => {
    const litellm = outputs.litellm.value as { masterKey: string };
    const qdrant = outputs.qdrant.value as { apiKey: string; readOnlyApiKey: string };
    return { masterKey: litellm.masterKey, qdrantApiKey: qdrant.apiKey, qdrantReadOnlyApiKey: qdrant.readOnlyApiKey };
  };

  before(async () => {
    s = await startScenario("dev");
    backToCurrent = formerProgramInCopy(s.project.workDir);
  });
  after(async () => {
    await s?.close();
  });

  it("the former program: Prometheus on the operations node holds the master key in a file", async () => {
    const result = await s.project.stack.up({ onOutput: onOutput("former"), color: "never" });
    assert.equal(result.summary.result, "succeeded");
    former = credentials(result.outputs);
    assert.match(former.masterKey, /^sk-[A-Za-z0-9]{48}$/);
    const prometheus = nodeOf("operations").docker.containerByName("prometheus");
    assert.ok(prometheus);
    // What the check below looks for is there to be found.
    assert.deepEqual(whereHeld(prometheus, former.masterKey), [`file ${FORMER_KEY_FILE}`]);
  });

  it("the current program replaces Prometheus's container and nothing else; no key that spends or writes is left on the operations node", async () => {
    const ops = nodeOf("operations");
    const inference = nodeOf("inference");
    const containers = (node: FakeNode) => [...node.docker.containers.values()].map((c) => `${c.name} ${c.id}`).sort();
    const before = { ops: containers(ops), inference: containers(inference) };
    const servers = [...s.cloud.hetzner.state.servers.values()].map((x) => `${x.id} ${x.name} ${x.serverType}`);
    const volumes = [...s.cloud.hetzner.state.volumes.values()].map((v) => `${v.id} ${v.name} ${v.server}`);

    backToCurrent();
    const events: EngineEvent[] = [];
    const result = await s.project.stack.up({ onOutput: onOutput("current"), onEvent: (e) => events.push(e), color: "never" });
    assert.equal(result.summary.result, "succeeded");
    const changes = changesOf(events);
    log(`prometheus credentials: ${changes.join("; ")}`);
    assert.deepEqual(
      changes.sort(),
      [
        "create-replacement docker:index/container:Container::ai-dev-monitoring-prometheus",
        "replace docker:index/container:Container::ai-dev-monitoring-prometheus",
        "delete-replaced docker:index/container:Container::ai-dev-monitoring-prometheus",
      ].sort(),
      "only Prometheus's container is replaced",
    );
    assert.deepEqual([...s.cloud.hetzner.state.servers.values()].map((x) => `${x.id} ${x.name} ${x.serverType}`), servers, "the same servers");
    assert.deepEqual([...s.cloud.hetzner.state.volumes.values()].map((v) => `${v.id} ${v.name} ${v.server}`), volumes, "the same volumes");
    assert.deepEqual(containers(inference), before.inference, "every container of the inference node is the same");
    assert.deepEqual(
      containers(ops).filter((c) => !c.startsWith("prometheus ")),
      before.ops.filter((c) => !c.startsWith("prometheus ")),
      "every other container of the operations node is the same",
    );
    const now = credentials(result.outputs);
    assert.deepEqual(now, former, "the generated keys stay: applications keep theirs");

    // No container of the operations node holds a key that can spend, manage keys, or write to Qdrant.
    for (const c of ops.docker.containers.values()) {
      assert.deepEqual(whereHeld(c, now.masterKey), [], `${c.name} holds LiteLLM's master key`);
      assert.deepEqual(whereHeld(c, now.qdrantApiKey), [], `${c.name} holds Qdrant's read-write key`);
    }
    const prometheus = ops.docker.containerByName("prometheus");
    assert.ok(prometheus && prometheus.state.status === "running");
    assert.deepEqual(whereHeld(prometheus, now.qdrantReadOnlyApiKey), ["file /etc/prometheus/secrets/qdrant-read-only-api-key"]);
    const config = parse(ops.docker.fileText(prometheus, "/etc/prometheus/prometheus.yml") ?? "") as {
      scrape_configs: { job_name: string; authorization?: { credentials_file: string }; static_configs: { targets: string[] }[] }[];
    };
    const job = (name: string) => config.scrape_configs.find((j) => j.job_name === name);
    const inferenceAddress = (result.outputs.nodes.value as Record<string, { tailnetAddresses: string[] }>).inference.tailnetAddresses[0];
    assert.deepEqual(job("litellm")?.static_configs.flatMap((t) => t.targets), [`${inferenceAddress}:${port("litellmMetrics")}`]);
    assert.equal(job("litellm")?.authorization, undefined, "LiteLLM's metrics are scraped with no credential");
    assert.equal(job("qdrant")?.authorization?.credentials_file, "/etc/prometheus/secrets/qdrant-read-only-api-key");

    // LiteLLM, as the current program declares it: its metrics port on the tailnet address, its samples on a tmpfs.
    const litellm = inference.docker.containerByName("litellm");
    assert.ok(litellm);
    assert.deepEqual(
      inference.docker.publishedPorts(litellm).map((p) => `${p.hostIp}:${p.hostPort}`).sort(),
      [`${inferenceAddress}:${port("litellm")}`, `${inferenceAddress}:${port("litellmMetrics")}`],
    );
    assert.ok((litellm.config.Env ?? []).includes("PROMETHEUS_MULTIPROC_DIR=/run/litellm-metrics"));
    assert.deepEqual(Object.keys((litellm.hostConfig as { Tmpfs?: Record<string, string> }).Tmpfs ?? {}), ["/run/litellm-metrics"]);
  });

  it("a second up changes nothing", async () => {
    const result = await s.project.stack.up({ onOutput: onOutput("again"), color: "never" });
    assert.deepEqual(Object.keys(result.summary.resourceChanges ?? {}), ["same"]);
  });
});
