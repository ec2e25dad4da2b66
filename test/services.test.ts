/**
 * The services the stacks declare: every container pinned, memory-limited, restarting and bound to the
 * tailnet address or nowhere; Ollama published nowhere; secrets only as secrets; models pulled one by one.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { IMAGES, imageRef } from "../components/catalog/images";
import { LITELLM_SITECUSTOMIZE } from "../components/render/litellm";
import { nodePlacement } from "../tools/nodePlacement";
import { ProgramRun, projectName, RecordedResource, runProgram } from "./harness";

const PROJECT = projectName();
const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker:index/remoteImage:RemoteImage";
const PINNED = new Set<string>(Object.values(IMAGES).map(imageRef));

interface Port {
  internal: number;
  external: number;
  ip?: string;
}

const containerNamed = (run: ProgramRun, name: string): RecordedResource => {
  const found = run.ofType(CONTAINER).filter((c) => c.inputs.name === name && nodePlacement(run).roleOf(c) === "inference");
  assert.equal(found.length, 1, `expected one container named ${name}`);
  return found[0];
};


for (const stack of ["dev", "prod"]) {
  describe(`the ${stack} stack's containers`, () => {
    let run: ProgramRun;
    before(async () => {
      run = await runProgram(stack);
    });

    it("run the inference services and the exporters on both nodes", () => {
      const placement = nodePlacement(run);
      const names = run.ofType(CONTAINER).map((c) => `${placement.roleOf(c)}/${String(c.inputs.name)}`).sort();
      const expected = [
        "inference/cadvisor",
        "inference/litellm",
        "inference/node-exporter",
        "inference/ollama",
        "inference/qdrant",
        "inference/blackbox",
        "operations/alertmanager",
        "operations/blackbox",
        "operations/cadvisor",
        "operations/grafana",
        "operations/node-exporter",
        "operations/prometheus",
        ...(stack === "prod" ? ["inference/postgres"] : []),
      ];
      for (const name of expected) assert.ok(names.includes(name), `${name} is missing from ${names.join(", ")}`);
    });

    it("each pulls a pinned image from the catalog", () => {
      const images = run.ofType(IMAGE);
      assert.ok(images.length > 0);
      for (const image of images) {
        assert.ok(PINNED.has(String(image.inputs.name)), `${String(image.inputs.name)} is not a pinned catalog image`);
        assert.doesNotMatch(String(image.inputs.name), /:latest$/);
      }
      for (const c of run.ofType(CONTAINER)) {
        assert.ok(c.dependencies.some((d) => d.includes("RemoteImage")), `${c.name} does not use a pulled image`);
      }
    });

    it("each has a memory limit and a restart policy", () => {
      for (const c of run.ofType(CONTAINER)) {
        assert.equal(typeof c.inputs.memory, "number", `${c.name} has no memory limit`);
        assert.ok((c.inputs.memory as number) > 0);
        assert.equal(c.inputs.restart, "unless-stopped", c.name);
      }
    });

    it("the limits of each node sum within its RAM minus the OS reserve", () => {
      const budget = run.outputs.memoryBudget as Record<string, { totalMib: number; reserveMib: number }>;
      for (const role of ["inference", "operations"] as const) {
        const sum = run
          .ofType(CONTAINER)
          .filter((c) => nodePlacement(run).roleOf(c) === role)
          .reduce((total, c) => total + (c.inputs.memory as number), 0);
        assert.ok(sum <= budget[role].totalMib - budget[role].reserveMib, `${role}: ${sum} MiB of limits`);
      }
    });

    it("publish no port on all addresses: only on the tailnet address", () => {
      for (const c of run.ofType(CONTAINER)) {
        for (const p of (c.inputs.ports ?? []) as Port[]) {
          assert.ok(p.ip, `${c.name} publishes ${p.internal} with no host address`);
          assert.ok(!["0.0.0.0", "::", ""].includes(p.ip), `${c.name} publishes ${p.internal} on ${p.ip}`);
          assert.match(p.ip, /tailnet-ipv4/, `${c.name} publishes ${p.internal} on ${p.ip}`);
        }
      }
    });

    it("publish Ollama nowhere; LiteLLM on 4000 (its API) and 4001 (its metrics), Qdrant on 6333/6334 only", () => {
      assert.deepEqual(containerNamed(run, "ollama").inputs.ports, []);
      for (const c of run.ofType(CONTAINER)) {
        for (const p of (c.inputs.ports ?? []) as Port[]) assert.notEqual(p.internal, 11434, `${c.name} publishes Ollama's port`);
      }
      assert.deepEqual(((containerNamed(run, "litellm").inputs.ports ?? []) as Port[]).map((p) => p.external), [4000, 4001]);
      assert.deepEqual(((containerNamed(run, "qdrant").inputs.ports ?? []) as Port[]).map((p) => p.external), [6333, 6334]);
    });

    it("pass credentials only as secrets, and publish them only as secret outputs", () => {
      for (const c of run.ofType(CONTAINER)) {
        const envs = (c.inputs.envs ?? []) as string[];
        const credentials = envs.filter((e) => /KEY|PASSWORD|SECRET|TOKEN|DATABASE_URL/.test(e.split("=")[0]));
        if (credentials.length > 0) assert.ok(c.secretInputs.includes("envs"), `${c.name} passes a credential in plain text`);
      }
      for (const path of ["litellm.masterKey", "qdrant.apiKey", "qdrant.readOnlyApiKey", "rootSshPrivateKey"]) {
        assert.ok(run.secretOutputs.includes(path), `${path} is not a secret output`);
      }
    });

    it("give LiteLLM a master key with the sk- prefix and a config that holds no secret", () => {
      const litellm = containerNamed(run, "litellm");
      const envs = litellm.inputs.envs as string[];
      assert.ok(envs.some((e) => /^LITELLM_MASTER_KEY=sk-/.test(e)));
      assert.ok(envs.some((e) => e.startsWith("LITELLM_SALT_KEY=")));
      assert.equal(envs.some((e) => e.startsWith("DATABASE_URL=")), stack === "prod");
      const config = ((litellm.inputs.uploads ?? []) as { file: string; content: string }[]).find((u) => u.file === "/app/config.yaml");
      assert.ok(config, "no rendered config");
      assert.match(config.content, /ollama_chat\//);
      // The embedding model is reachable too, and only through LiteLLM: as an embedding deployment.
      const deployments = (parse(config.content) as { model_list: { model_name: string; litellm_params: { model: string }; model_info?: { mode: string } }[] }).model_list;
      const embed = deployments.find((d) => d.model_name === "nomic-embed-text:latest");
      assert.equal(embed?.litellm_params.model, "ollama/nomic-embed-text:latest");
      assert.equal(embed?.model_info?.mode, "embedding");
      assert.doesNotMatch(config.content, /sk-[A-Za-z0-9]{8}/);
    });

    it("give LiteLLM the stack's sitecustomize.py, first on its Python path (the worker's boot hang, test/render/litellmForkRace.test.ts)", () => {
      const litellm = containerNamed(run, "litellm");
      const pythonPath = (litellm.inputs.envs as string[]).find((e) => e.startsWith("PYTHONPATH="))?.slice("PYTHONPATH=".length);
      assert.ok(pythonPath, "no PYTHONPATH");
      const uploaded = ((litellm.inputs.uploads ?? []) as { file: string; content: string }[]).find((u) => u.file === `${pythonPath.split(":")[0]}/sitecustomize.py`);
      assert.equal(uploaded?.content, LITELLM_SITECUSTOMIZE);
    });

    it("keep Qdrant's and Postgres's data on the node's volume", () => {
      const volumes = (c: RecordedResource) => (c.inputs.volumes ?? []) as { hostPath: string; containerPath: string }[];
      assert.ok(volumes(containerNamed(run, "qdrant")).some((v) => v.containerPath === "/qdrant/storage" && v.hostPath.startsWith("/srv/data/")));
      if (stack === "prod") {
        assert.ok(volumes(containerNamed(run, "postgres")).every((v) => v.hostPath.startsWith("/srv/data/")));
      }
    });

    it("have health checks where the issue asks for them", () => {
      for (const name of ["ollama", "litellm"]) {
        const hc = containerNamed(run, name).inputs.healthcheck as { tests?: string[] } | undefined;
        assert.ok(hc?.tests && hc.tests.length > 0, `${name} has no health check`);
      }
      assert.match(JSON.stringify(containerNamed(run, "litellm").inputs.healthcheck), /\/health\/liveliness/);
    });
  });
}

describe("models", () => {
  const pulls = (run: ProgramRun) =>
    run
      .ofType("command:remote:Command")
      .filter((c) => String(c.inputs.create).includes("ollama pull"))
      .map((c) => String(c.inputs.create));

  it("each listed model is pulled by a step of its own, bounded in time by its size, and removed when dropped", async () => {
    const run = await runProgram("prod");
    const pulled = (model: string, seconds: number) =>
      `out=$(docker exec ollama timeout --kill-after=30 ${seconds} ollama pull ${model} 2>&1) || ` +
      `{ status=$?; echo "ollama pull ${model} failed (exit $status; 124: not done within ${seconds} s):" >&2; ` +
      `printf '%s\\n' "$out" | tr '\\r' '\\n' | tail -n 5 >&2; exit 1; }`;
    // 300 s, and 300 s per GB: nomic-embed-text 0.27 GB, qwen2.5:7b 4.7 GB.
    assert.deepEqual(pulls(run).sort(), [pulled("nomic-embed-text:latest", 381), pulled("qwen2.5:7b", 1710)].sort());
    const qwen = run.ofType("command:remote:Command").find((c) => String(c.inputs.create).includes("ollama pull qwen2.5:7b"));
    assert.equal(qwen?.inputs.delete, "docker exec ollama ollama rm qwen2.5:7b || true");
    // A change of the script pulls again in place: replaced, the old resource's delete would remove the model.
    assert.equal(qwen?.inputs.update, qwen?.inputs.create);
  });

  it("LiteLLM waits for every pull, so its config never names a model Ollama does not have", async () => {
    const run = await runProgram("prod");
    const litellm = run.ofType("docker:index/container:Container").find((c) => c.inputs.name === "litellm");
    const pullUrns = run.ofType("command:remote:Command").filter((c) => String(c.inputs.create).includes("ollama pull")).map((c) => c.urn);
    assert.equal(pullUrns.length, 2);
    for (const urn of pullUrns) assert.ok(litellm?.dependencies.includes(urn), `litellm depends on ${urn}`);
  });

  it("adding a model adds one pull and leaves the others' names unchanged", async () => {
    const before = await runProgram("prod");
    const after = await runProgram("prod", { set: { [`${PROJECT}:models`]: ["qwen2.5:7b", "nomic-embed-text", "llama3.2:3b"] } });
    const names = (run: ProgramRun) => run.ofType("command:remote:Command").filter((c) => c.name.includes("-model-")).map((c) => c.name);
    const added = names(after).filter((n) => !names(before).includes(n));
    assert.deepEqual(added, ["ai-prod-models-model-llama3.2-3b"]);
    assert.ok(names(before).every((n) => names(after).includes(n)));
  });
});

describe("image tags a stack sets ahead of the catalog", () => {
  it("retag that service's image only; every other image stays the catalog's", async () => {
    const images = (run: ProgramRun) => run.ofType("docker:index/remoteImage:RemoteImage").map((i) => String(i.inputs.name));
    const catalog = await runProgram("dev");
    const bumped = await runProgram("dev", { set: { [`${PROJECT}:imageTags`]: ["qdrant=v1.20.1"] } });
    const changed = images(bumped).filter((name) => !images(catalog).includes(name));
    assert.deepEqual(changed, [`${IMAGES.qdrant.repository}:v1.20.1`]);
    assert.deepEqual(images(catalog).filter((name) => !images(bumped).includes(name)), [imageRef(IMAGES.qdrant)]);
  });
});

describe("the backups' results reach node-exporter", () => {
  it("on each node, node-exporter's textfile collector reads, read-only, the directory the node's backup writes", async () => {
    const run = await runProgram("prod");
    const place = nodePlacement(run);
    for (const role of ["inference", "operations"]) {
      const exporter = run.ofType(CONTAINER).find((c) => c.inputs.name === "node-exporter" && place.roleOf(c) === role);
      assert.ok(exporter, `${role}: no node-exporter`);
      const flag = ((exporter.inputs.command ?? []) as string[]).find((f) => f.startsWith("--collector.textfile.directory="));
      assert.ok(flag, `${role}: node-exporter's textfile collector reads no directory`);
      const mount = ((exporter.inputs.volumes ?? []) as { hostPath: string; containerPath: string; readOnly?: boolean }[]).find(
        (v) => v.containerPath === flag.slice(flag.indexOf("=") + 1),
      );
      assert.ok(mount, `${role}: nothing is mounted at ${flag}`);
      assert.equal(mount.readOnly, true);
      // Where the node's backup writes its results: BACKUP_METRICS_DIR in the env file its install writes.
      const install = run.ofType("command:remote:Command").find((c) => place.roleOf(c) === role && String(c.inputs.create).includes("ai-platform-backup.timer"));
      assert.ok(install, `${role}: no backup install`);
      const metricsDir = /^BACKUP_METRICS_DIR='([^']+)'$/m.exec(String(install.inputs.create))?.[1];
      assert.equal(mount.hostPath, metricsDir);
    }
  });
});
