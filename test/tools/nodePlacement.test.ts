/** Which node each resource is on, as the plan's report reads it: from labels and providers, never names. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BACKUP_COMMAND } from "../../components/render/backup";
import { HOST_FIREWALL_SCRIPT_PATH } from "../../components/render/hostFirewall";
import { nodePlacement } from "../../tools/nodePlacement";
import { runProgram, type ProgramRun, type RecordedResource } from "../harness";

describe("nodePlacement on the prod stack", async () => {
  const run = await runProgram("prod");
  const place = nodePlacement(run);
  const servers = run.ofType("hcloud:index/server:Server");
  const placed = (type: string, label: (r: RecordedResource) => string) =>
    run
      .ofType(type)
      .map((r) => `${place.roleOf(r) ?? "none"} ${label(r)}`)
      .sort();

  it("puts each container on the node whose Docker engine its provider reaches", () => {
    assert.deepEqual(
      placed("docker:index/container:Container", (c) => String(c.inputs.name)),
      [
        "inference blackbox",
        "inference cadvisor",
        "inference litellm",
        "inference node-exporter",
        "inference ollama",
        "inference postgres",
        "inference qdrant",
        "operations alertmanager",
        "operations blackbox",
        "operations cadvisor",
        "operations grafana",
        "operations node-exporter",
        "operations prometheus",
      ],
    );
  });

  it("is not misled by a config that names the other node: Prometheus depends on the inference server, and runs on operations", () => {
    const prometheus = run.ofType("docker:index/container:Container").find((c) => c.inputs.name === "prometheus");
    assert.ok(prometheus);
    const inferenceServer = servers.find((s) => (s.inputs.labels as Record<string, string>).role === "inference");
    assert.ok(inferenceServer);
    const dependsOnInference = Object.values(prometheus.propertyDependencies).some((urns) => urns.includes(inferenceServer.urn));
    assert.ok(dependsOnInference, "the premise: Prometheus's config carries the inference node's address");
    assert.equal(place.roleOf(prometheus), "operations");
  });

  it("puts each remote command on the node its connection reaches", () => {
    // What each command does, read from its script: resource names move between components.
    const what = (c: RecordedResource) => {
      const script = String(c.inputs.create);
      if (script.includes("cloud-init status --wait")) return "bootstrap wait";
      const pull = /ollama pull (\S+)/.exec(script);
      if (pull) return `pull ${pull[1]}`;
      // Before Coolify's: the backup and host firewall installs carry programs that name Coolify too.
      if (script.includes(BACKUP_COMMAND)) return "backup install";
      if (script.includes(HOST_FIREWALL_SCRIPT_PATH)) return "host firewall";
      if (script.includes("Coolify")) return "Coolify install";
      if (script.startsWith("install -d")) return "data directories";
      return script;
    };
    assert.deepEqual(placed("command:remote:Command", what), [
      "inference backup install",
      "inference bootstrap wait",
      "inference host firewall",
      "inference pull nomic-embed-text:latest",
      "inference pull qwen2.5:7b",
      "operations Coolify install",
      "operations backup install",
      "operations bootstrap wait",
      "operations data directories",
      "operations host firewall",
    ]);
  });

  it("reads servers' and firewalls' roles from their role label, and the server of each", () => {
    for (const type of ["hcloud:index/server:Server", "hcloud:index/firewall:Firewall", "hcloud:index/volume:Volume"]) {
      for (const r of run.ofType(type)) {
        const role = (r.inputs.labels as Record<string, string>).role;
        assert.equal(place.roleOf(r), role, `${type} ${r.name}`);
        assert.equal((place.serverOf(r)?.inputs.labels as Record<string, string>).role, role, `${type} ${r.name}`);
      }
    }
  });

  it("places what belongs to no node nowhere", () => {
    for (const r of run.ofType("tls:index/privateKey:PrivateKey")) assert.equal(place.roleOf(r), undefined, r.name);
  });
});

describe("nodePlacement's mistakes", () => {
  it("refuses a role label that names no role, naming the resource and the label", () => {
    const server = {
      type: "hcloud:index/server:Server",
      name: "ai-dev-gpu",
      urn: "urn:pulumi:dev::ai-platform::hcloud:index/server:Server::ai-dev-gpu",
      inputs: { labels: { role: "gpu" } },
      provider: "",
      propertyDependencies: {},
    } as unknown as RecordedResource;
    const run = { resources: [server], ofType: (type: string) => (type === server.type ? [server] : []) } as unknown as ProgramRun;
    assert.throws(
      () => nodePlacement(run).roleOf(server),
      /hcloud:index\/server:Server ai-dev-gpu has the role label "gpu"; roles are inference, operations/,
    );
  });
});
