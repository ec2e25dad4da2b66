/**
 * Qdrant across the inference nodes, the whole program under mocks: with an extra inference node, the inference
 * node's Qdrant is the cluster's first peer and the node's is a peer that joins it, both with the collection
 * defaults, the same keys, and the peer port on their tailnet address; Prometheus scrapes both. The settings
 * that would make a cluster Qdrant cannot keep are refused before any resource. (Without extra nodes nothing
 * changes: test/workers.test.ts pins every resource's inputs.)
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { qdrantClusterCautions } from "../components/plan/qdrantCluster";
import { planWorkers, qdrantMemory, workerCapacityProblems } from "../components/plan/capacity";
import { buildReport } from "../tools/report";
import { loadStackSettings, ProgramRun, projectName, runProgram, settingsProblems } from "./harness";

const PROJECT = projectName();
const CONTAINER = "docker:index/container:Container";
const NODES = `${PROJECT}:devInferenceNodes`;

const envOf = (c: { inputs: Record<string, unknown> }): Record<string, string> =>
  Object.fromEntries(((c.inputs.envs ?? []) as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
const portsOf = (c: { inputs: Record<string, unknown> }) => (c.inputs.ports ?? []) as { internal: number; external: number; ip: string }[];

describe("a dev stack with one extra inference node: Qdrant as a cluster", () => {
  let run: ProgramRun;
  const first = () => run.one(CONTAINER, "ai-dev-inference-services-qdrant");
  const peer = () => run.one(CONTAINER, "ai-dev-inference-b-qdrant");
  before(async () => {
    run = await runProgram("dev", { set: { [NODES]: ["name=b type=cx33 models=gemma3:1b"] } });
  });

  it("the inference node's Qdrant starts the cluster: peer port published on its tailnet address, its own --uri, no --bootstrap", () => {
    const env = envOf(first());
    assert.equal(env.QDRANT__CLUSTER__ENABLED, "true");
    assert.equal(env.QDRANT__CLUSTER__P2P__PORT, "6335");
    assert.equal(env.QDRANT__SERVICE__ENFORCE_INTERNAL_AUTH, "true");
    assert.equal(env.QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR, "2", "the default replication factor");
    assert.equal(env.QDRANT__STORAGE__COLLECTION__WRITE_CONSISTENCY_FACTOR, "1");
    assert.deepEqual(first().inputs.command, ["./entrypoint.sh", "--uri", "http://known-after-deploy:tailnet-ipv4:6335"]);
    assert.deepEqual(portsOf(first()).map((p) => [p.internal, p.external]), [[6333, 6333], [6334, 6334], [6335, 6335]]);
    for (const p of portsOf(first())) assert.match(p.ip, /tailnet-ipv4/);
  });

  it("b runs a peer that joins through the inference node, with the same keys, on b's Docker, after the first peer", () => {
    const c = peer();
    assert.ok(c.provider.includes("pulumi:providers:docker::ai-dev-inference-b::"), c.provider);
    assert.deepEqual(c.inputs.command, [
      "./entrypoint.sh",
      "--uri",
      "http://known-after-deploy:tailnet-ipv4:6335",
      "--bootstrap",
      "http://known-after-deploy:tailnet-ipv4:6335",
    ]);
    const env = envOf(c);
    const own = envOf(first());
    for (const key of ["QDRANT__CLUSTER__ENABLED", "QDRANT__CLUSTER__P2P__PORT", "QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR", "QDRANT__STORAGE__COLLECTION__WRITE_CONSISTENCY_FACTOR"]) {
      assert.equal(env[key], own[key], key);
    }
    assert.ok(c.secretInputs.includes("envs"), "the keys are passed as secrets");
    assert.ok(env.QDRANT__SERVICE__API_KEY, "b's peer has the API key");
    assert.equal(env.QDRANT__SERVICE__API_KEY, own.QDRANT__SERVICE__API_KEY, "every peer has the same API key");
    assert.equal(env.QDRANT__SERVICE__READ_ONLY_API_KEY, own.QDRANT__SERVICE__READ_ONLY_API_KEY);
    assert.deepEqual(portsOf(c).map((p) => p.internal), [6333, 6334, 6335]);
    assert.deepEqual((c.inputs.volumes as { hostPath: string }[]).map((v) => v.hostPath), ["/srv/data/qdrant/storage", "/srv/data/qdrant/snapshots"]);
    const component = run.one("aiplatform:services:Container", "ai-dev-inference-b-qdrant");
    assert.ok(
      [...component.dependencies, ...c.dependencies].includes(first().urn),
      "b's peer waits for the first peer, which it bootstraps from",
    );
  });

  it("Prometheus scrapes every Qdrant peer, b's with its node's name", () => {
    const prometheus = run.one(CONTAINER, "ai-dev-monitoring-prometheus");
    const uploads = prometheus.inputs.uploads as { file: string; content: string }[];
    const config = parse(uploads.find((u) => u.file === "/etc/prometheus/prometheus.yml")!.content) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[]; labels?: Record<string, string> }[] }[];
    };
    const qdrant = config.scrape_configs.find((j) => j.job_name === "qdrant")!;
    assert.deepEqual(qdrant.static_configs.map((c) => c.labels?.role).sort(), ["inference", "worker"]);
    assert.equal(qdrant.static_configs.find((c) => c.labels?.role === "worker")?.labels?.node, "b");
  });

  it("outputs every peer's URL, the inference node's first, and the collection defaults", () => {
    const qdrant = run.outputs.qdrant as { url: string; peers: string[]; replicationFactor: number; writeConsistency: number };
    assert.equal(qdrant.peers.length, 2);
    assert.equal(qdrant.peers[0], qdrant.url);
    assert.match(qdrant.peers[1], /^http:\/\/.+:6333$/);
    assert.equal(qdrant.replicationFactor, 2);
    assert.equal(qdrant.writeConsistency, 1);
  });

  it("b's memory budget holds its Qdrant peer's share of the vectors", () => {
    const nodes = run.outputs.inferenceNodes as Record<string, { memoryBudget: { items: { name: string; detail: string; mib: number }[] } }>;
    const item = nodes.b.memoryBudget.items.find((i) => i.name === "qdrant");
    assert.ok(item);
    assert.match(item.detail, /each of 2 peers may hold a copy of every one/);
    const first = (run.outputs.memoryBudget as Record<string, { items: { name: string; mib: number }[] }>).inference;
    assert.equal(first.items.find((i) => i.name === "qdrant")?.mib, nodes.b.memoryBudget.items.find((i) => i.name === "qdrant")?.mib);
  });
});

describe("the memory of a Qdrant peer", () => {
  it("is sized for every vector on every peer, whatever the number of peers: adding a node restarts no other Qdrant", () => {
    const single = qdrantMemory(1_000_000, 768);
    // 1,000,000 vectors x 768 x 4 B x 1.5 = 4395 MiB, plus the base 192, rounded up to 16.
    assert.equal(single.mib, Math.ceil((192 + (1_000_000 * 768 * 6) / 2 ** 20) / 16) * 16);
    for (const peers of [2, 3, 5]) assert.equal(qdrantMemory(1_000_000, 768, { peers }).mib, single.mib, `${peers} peers`);
    assert.match(qdrantMemory(1_000_000, 768, { peers: 3 }).detail, /each of 3 peers may hold a copy of every one/);
    assert.equal(qdrantMemory(1_000_000, 768, { peers: 1 }).detail, single.detail);
  });

  it("a worker's budget refuses a server too small for its share of the vectors, naming the node", () => {
    const settings = loadStackSettings("dev", { [NODES]: ["name=b type=cx23 models=gemma3:1b"], [`${PROJECT}:qdrantVectors`]: 1_500_000 });
    const budgets = planWorkers(settings);
    assert.ok(budgets[0].items.some((i) => i.name === "qdrant" && i.mib > 6000), JSON.stringify(budgets[0].items));
    const problems = workerCapacityProblems(settings, budgets);
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0], new RegExp(`the inference node "b" \\(${NODES}\\) needs .* but cx23 has 4 GB`));
    assert.match(problems[0], /qdrant/);
  });
});

describe("Qdrant's cluster settings", () => {
  it("refuses a replication factor above the number of peers, naming the setting, the value and what is allowed", () => {
    const problems = settingsProblems("dev", { [NODES]: ["name=b type=cx33"], [`${PROJECT}:qdrantReplicationFactor`]: 3 });
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0], new RegExp(`${PROJECT}:qdrantReplicationFactor is 3, but dev's Qdrant has 2 peers`));
    assert.match(problems[0], /use 1 to 2, or add inference nodes/);
  });

  it("refuses a write consistency above the replication factor", () => {
    const problems = settingsProblems("dev", { [`${PROJECT}:qdrantReplicationFactor`]: 2, [`${PROJECT}:qdrantWriteConsistency`]: 3 });
    assert.deepEqual(problems, [
      `${PROJECT}:qdrantWriteConsistency is 3, more than qdrantReplicationFactor (2): a write cannot wait for more copies than a shard has; use 1 to 2`,
    ]);
  });

  it("refuses a replication factor outside its range", () => {
    const problems = settingsProblems("dev", { [`${PROJECT}:qdrantReplicationFactor`]: 0 });
    assert.match(problems.join("\n"), new RegExp(`${PROJECT}:qdrantReplicationFactor is "0": use a whole number from 1 to 16`));
  });

  it("accepts three copies with two extra nodes, and leaves a single node alone whatever the factor", () => {
    const three = loadStackSettings("dev", { [NODES]: ["name=b type=cx33", "name=c type=cx33"], [`${PROJECT}:qdrantReplicationFactor`]: 3 });
    assert.equal(three.qdrant.replicationFactor, 3);
    assert.equal(loadStackSettings("dev", { [`${PROJECT}:qdrantReplicationFactor`]: 3 }).qdrant.replicationFactor, 3);
  });
});

describe("what a Qdrant cluster cannot do, said before it is relied on", () => {
  it("two peers: warned that either one down stops cluster changes, with the setting to add a third", () => {
    const cautions = qdrantClusterCautions(PROJECT, "dev", 2, { replicationFactor: 2 });
    assert.equal(cautions.length, 1, cautions.join("\n"));
    assert.match(cautions[0], /cluster of two peers/);
    assert.match(cautions[0], new RegExp(`add a third inference node to ${NODES}`));
  });

  it("fewer copies than peers: warned that the nightly backup holds only some shards, with the value that would hold all", () => {
    const cautions = qdrantClusterCautions(PROJECT, "dev", 3, { replicationFactor: 2 });
    assert.equal(cautions.length, 1, cautions.join("\n"));
    assert.match(cautions[0], new RegExp(`set ${PROJECT}:qdrantReplicationFactor to 3`));
    assert.deepEqual(qdrantClusterCautions(PROJECT, "dev", 3, { replicationFactor: 3 }), []);
    assert.deepEqual(qdrantClusterCautions(PROJECT, "dev", 1, { replicationFactor: 1 }), [], "a single node has nothing to warn of");
  });

  it("the offline plan shows the cluster's peers, its defaults and the cautions; a stack without extra nodes has no such section", async () => {
    const three = await runProgram("dev", { set: { [NODES]: ["name=b type=cx33", "name=c type=cx33"] } });
    const report = buildReport(three);
    const section = report.slice(report.indexOf("## Qdrant cluster")).split("\n## ")[0];
    assert.match(section, /^## Qdrant cluster \(3 peers; new collections: 2 copies of each shard, writes acknowledged by 1\)$/m);
    assert.match(section, /^inference node b\s+\(known after deploy\)\s+the inference node's peer$/m);
    assert.match(section, new RegExp(`CAUTION: .*set ${PROJECT}:qdrantReplicationFactor to 3`));
    assert.ok(!buildReport(await runProgram("dev")).includes("## Qdrant cluster"));
  });
});
