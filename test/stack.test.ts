/**
 * The whole program, run under mocks with the real Pulumi.dev.yaml and Pulumi.prod.yaml: what each
 * environment declares, how it is protected, and that a bad setting stops it before any resource.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { AFTER_DEPLOY, OFFLINE_CREDENTIALS, ProgramRun, projectName, recorded, runProgram } from "./harness";

const PROJECT = projectName();
const SERVER = "hcloud:index/server:Server";
const VOLUME = "hcloud:index/volume:Volume";
const FIREWALL = "hcloud:index/firewall:Firewall";

interface Rule {
  direction: string;
  protocol: string;
  port?: string;
  sourceIps: string[];
  description?: string;
}

for (const stack of ["dev", "prod"] as const) {
  describe(`the ${stack} stack`, () => {
    let run: ProgramRun;
    before(async () => {
      run = await runProgram(stack);
    });

    it("declares an inference node and an operations node, named from the environment", () => {
      const servers = run.ofType(SERVER);
      assert.deepEqual(servers.map((s) => s.name).sort(), [`ai-${stack}-inference`, `ai-${stack}-operations`]);
      for (const s of servers) {
        assert.equal(s.inputs.labels && (s.inputs.labels as Record<string, string>).environment, stack);
        assert.match(String((s.inputs.labels as Record<string, string>).role), /^(inference|operations)$/);
        assert.equal(s.inputs.image, "ubuntu-24.04");
        assert.ok(s.ignoreChanges.includes("image"), "a new image release must not replace the server");
      }
    });

    it("gives every server an SSH key, so Hetzner mails no root password", () => {
      const key = run.one("hcloud:index/sshKey:SshKey", `ai-${stack}-root`);
      for (const s of run.ofType(SERVER)) {
        assert.deepEqual(s.inputs.sshKeys, [key.id]);
      }
    });

    it("attaches every server to its own firewall from creation", () => {
      for (const s of run.ofType(SERVER)) {
        const firewall = run.one(FIREWALL, s.name);
        assert.deepEqual(s.inputs.firewallIds, [Number(firewall.id)]);
      }
    });

    it("opens no inbound TCP port to the public internet", () => {
      for (const fw of run.ofType(FIREWALL)) {
        const rules = fw.inputs.rules as Rule[];
        assert.deepEqual(rules.filter((r) => r.protocol === "tcp"), [], `${fw.name} has an inbound TCP rule`);
        assert.deepEqual(
          rules.map((r) => `${r.direction} ${r.protocol} ${r.port ?? ""}`.trim()).sort(),
          ["in icmp", "in udp 41641"],
        );
        assert.ok(rules.every((r) => (r.description ?? "").length > 0), "every rule says what it is for");
      }
    });

    it("keeps each node's state on a volume of its own, attached to its server", () => {
      for (const role of ["inference", "operations"]) {
        const volume = run.one(VOLUME, `ai-${stack}-${role}-data`);
        const server = run.one(SERVER, `ai-${stack}-${role}`);
        const attachment = run.one("hcloud:index/volumeAttachment:VolumeAttachment", `ai-${stack}-${role}-data`);
        assert.equal(attachment.inputs.volumeId, Number(volume.id));
        assert.equal(attachment.inputs.serverId, Number(server.id));
        assert.equal(volume.inputs.location, server.inputs.location);
      }
    });

    it("passes the user data, which carries the tailnet auth key, only as a secret", () => {
      for (const s of run.ofType(SERVER)) {
        assert.ok(s.secretInputs.includes("userData"), `${s.name}'s user data is not secret`);
        assert.match(String(s.inputs.userData), /^#cloud-config\n/);
      }
      assert.ok(run.secretOutputs.includes("rootSshPrivateKey"));
    });

    it("joins each node with a single-use, preauthorized, tagged key that is never recreated", () => {
      for (const role of ["inference", "operations"]) {
        const key = run.one("tailscale:index/tailnetKey:TailnetKey", `ai-${stack}-${role}`);
        assert.equal(key.inputs.reusable, false);
        assert.equal(key.inputs.preauthorized, true);
        assert.equal(key.inputs.recreateIfInvalid, "never");
        assert.deepEqual(key.inputs.tags, [`tag:ai-${stack}-${role}`]);
      }
    });

    it("reports the monthly cost and a memory budget with headroom on both nodes", () => {
      assert.equal(typeof run.outputs.monthlyCostEur, "number");
      const budget = run.outputs.memoryBudget as Record<string, { headroomMib: number }>;
      assert.ok(budget.inference.headroomMib > 0);
      assert.ok(budget.operations.headroomMib > 0);
    });
  });
}

describe("protection differs by environment", () => {
  it("prod protects its servers from deletion and rebuild, and its volumes with Pulumi protect", async () => {
    const run = await runProgram("prod");
    for (const s of run.ofType(SERVER)) {
      assert.equal(s.inputs.deleteProtection, true);
      assert.equal(s.inputs.rebuildProtection, true);
    }
    for (const v of run.ofType(VOLUME)) {
      assert.equal(v.protect, true, `${v.name} must be protected`);
      assert.equal(v.inputs.deleteProtection, true);
    }
    assert.equal(run.one(SERVER, "operations").inputs.backups, true);
  });

  it("dev can be torn down: nothing protected, no backups", async () => {
    const run = await runProgram("dev");
    for (const r of [...run.ofType(SERVER), ...run.ofType(VOLUME)]) {
      assert.equal(r.protect, false);
      assert.equal(r.inputs.deleteProtection, false);
    }
    assert.ok(run.ofType(SERVER).every((s) => s.inputs.backups === false));
  });

  it("prod's backup target is protected like its volumes, and behind the deletion guard; dev's is not", async () => {
    const BOX = "hcloud:index/storageBox:StorageBox";
    const ACCOUNT = "hcloud:index/storageBoxSubaccount:StorageBoxSubaccount";
    const prod = await runProgram("prod");
    const box = prod.one(BOX, "backups-box");
    assert.equal(box.protect, true);
    assert.equal(box.inputs.deleteProtection, true);
    for (const role of ["inference", "operations"]) assert.equal(prod.one(ACCOUNT, `backups-prod-${role}`).protect, true, role);
    // A destroy meets the guard before the box, the sub-accounts or any node's backup install.
    const guard = prod.resources.find((r) => r.type === "random:index/randomId:RandomId" && r.name.endsWith("-deletion-guard"));
    assert.ok(guard && guard.protect);
    const backupParts = prod.resources.filter((r) => r.custom && r.name.startsWith("ai-prod-backups"));
    assert.ok(backupParts.length >= 6, backupParts.map((r) => r.name).join(", "));
    for (const part of backupParts) assert.ok(guard.dependencies.includes(part.urn), `the deletion guard should depend on ${part.name}`);

    const dev = await runProgram("dev");
    const devBox = dev.one(BOX, "backups-box");
    assert.equal(devBox.protect, false);
    assert.equal(devBox.inputs.deleteProtection, false);
    for (const role of ["inference", "operations"]) assert.equal(dev.one(ACCOUNT, `backups-dev-${role}`).protect, false, role);
  });

  it("dev and prod never share a resource name", async () => {
    // One at a time: the mocks are process-wide.
    const dev = await runProgram("dev");
    const prod = await runProgram("prod");
    const devNames = new Set(dev.resources.map((r) => r.name));
    assert.deepEqual(prod.resources.filter((r) => devNames.has(r.name)).map((r) => r.name), []);
  });
});

describe("a server type change", () => {
  const SHUTDOWN = "command:local:Command";
  it("goes after an ACPI shutdown step that the server depends on, replaced only when the type changes", async () => {
    const run = await runProgram("dev");
    for (const role of ["inference", "operations"]) {
      const server = run.one(SERVER, role);
      const step = run.one(SHUTDOWN, `${role}-shutdown-before-resize`);
      assert.ok(server.dependencies.includes(step.urn), `${server.name} waits for ${step.name}`);
      assert.deepEqual(step.inputs.triggers, [server.inputs.serverType], "its only trigger is the server type");
      assert.deepEqual(step.inputs.interpreter, ["node", "-e"]);
      // The token reaches the step as a secret only, with the endpoint, and the selector finds this node's server.
      assert.ok(step.secretInputs.includes("environment"), "the step's environment is a secret");
      const env = step.inputs.environment as Record<string, string>;
      assert.equal(env.HETZNER_TOKEN, OFFLINE_CREDENTIALS["hcloud:token"]);
      assert.equal(env.SERVER_TYPE, server.inputs.serverType);
      const labels = server.inputs.labels as Record<string, string>;
      assert.deepEqual(
        Object.fromEntries(env.SERVER_LABEL_SELECTOR.split(",").map((term) => term.split("="))),
        labels,
        "the selector is the server's labels",
      );
      assert.equal(labels.role, role);
    }
    const resized = await runProgram("dev", { set: { "ai-platform:inferenceServerType": "cx33" } });
    assert.deepEqual(resized.one(SHUTDOWN, "inference-shutdown-before-resize").inputs.triggers, ["cx33"]);
    assert.deepEqual(
      resized.one(SHUTDOWN, "operations-shutdown-before-resize").inputs.triggers,
      run.one(SHUTDOWN, "operations-shutdown-before-resize").inputs.triggers,
      "the other node's step is left alone",
    );
  });

  it("hands the step the stack's Hetzner endpoint, so the local cloud's fake is the one called", async () => {
    const run = await runProgram("dev", { set: { "hcloud:endpoint": "http://127.0.0.1:9/v1" } });
    const env = run.one(SHUTDOWN, "inference-shutdown-before-resize").inputs.environment as Record<string, string>;
    assert.equal(env.HETZNER_ENDPOINT, "http://127.0.0.1:9/v1");
  });
});

describe("public web entry", () => {
  it("opens TCP 80/443 on the operations node only, from the given ranges only", async () => {
    const ranges = ["173.245.48.0/20", "2400:cb00::/32"];
    const run = await runProgram("prod", {
      set: { [`${PROJECT}:publicWeb`]: "true", [`${PROJECT}:publicWebSourceRanges`]: ranges },
    });
    const ops = run.one(FIREWALL, "operations").inputs.rules as Rule[];
    const tcp = ops.filter((r) => r.protocol === "tcp");
    assert.deepEqual(tcp.map((r) => r.port).sort(), ["443", "80"]);
    for (const r of tcp) assert.deepEqual(r.sourceIps, ranges);
    const inference = run.one(FIREWALL, "inference").inputs.rules as Rule[];
    assert.deepEqual(inference.filter((r) => r.protocol === "tcp"), []);
  });
});

describe("a bad setting stops the program before any resource is declared", () => {
  const cases: [string, Record<string, unknown>, string[], RegExp][] = [
    ["an unknown server type", { [`${PROJECT}:inferenceServerType`]: "cx99" }, [], /inferenceServerType is "cx99".*cx23/],
    ["a malformed model", { [`${PROJECT}:models`]: ["Bad Model"] }, [], /models has "Bad Model"/],
    ["a missing Hetzner token", {}, ["hcloud:token"], /hcloud:token is not set/],
    ["an invalid CIDR", { [`${PROJECT}:publicWebSourceRanges`]: ["1.2.3.0/99"] }, [], /publicWebSourceRanges has "1.2.3.0\/99"/],
    ["public web with no ranges", { [`${PROJECT}:publicWeb`]: "true" }, [], /publicWebSourceRanges is empty/],
    ["a malformed tag", { [`${PROJECT}:tailnetDevDeployers`]: ["tag:Bad_Tag"] }, [], /tailnetDevDeployers has "tag:Bad_Tag", which is not a valid tag/],
    ["a deployer identity missing", { [`${PROJECT}:tailnetDevDeployers`]: [] }, [], /tailnetDevDeployers is empty/],
    ["one deployer for both environments", { [`${PROJECT}:tailnetProdDeployers`]: ["tag:ai-dev-deployer"] }, [], /both have "tag:ai-dev-deployer"/],
    [
      "an empty user group while the policy is managed",
      { [`${PROJECT}:manageTailnetPolicy`]: "true" },
      [],
      /manageTailnetPolicy is true but ai-platform:tailnetUsers is empty/,
    ],
    [
      "a model that does not fit the inference node's RAM",
      { [`${PROJECT}:models`]: ["llama3.1:8b"] },
      [],
      /the inference node needs \d+\.\d GB but cx23 has 4 GB \(ollama \d+\.\d GB, litellm 1\.0 GB, .*OS 0\.8 GB\): use a smaller model than llama3.1:8b, or lower the context, or use cx33 \(ai-platform:inferenceServerType\)/,
    ],
  ];
  for (const [what, set, unset, message] of cases) {
    it(what, async () => {
      let resources = -1;
      await assert.rejects(
        async () => {
          const run = await runProgram("dev", { set, unset });
          resources = run.resources.length;
        },
        (err: Error) => {
          assert.equal(err.name, "SettingsError");
          assert.match(err.message, message);
          return true;
        },
      );
      assert.equal(resources, -1, "the program must not finish");
    });
  }

  it("and declares none: the mocks see no resource at all", async () => {
    await assert.rejects(runProgram("dev", { set: { [`${PROJECT}:location`]: "mars" } }));
    assert.equal(recorded().length, 0);
  });
});

describe("the tailnet", () => {
  it("user data stays byte-for-byte the same when models and service settings change", async () => {
    const before = await runProgram("prod");
    const after = await runProgram("prod", {
      set: {
        [`${PROJECT}:models`]: ["qwen2.5:3b", "llama3.2:3b", "mxbai-embed-large"],
        [`${PROJECT}:contextLength`]: "2048",
        [`${PROJECT}:parallelRequests`]: "2",
        [`${PROJECT}:maxLoadedModels`]: "2",
        [`${PROJECT}:ollamaKeepAlive`]: "24h",
        [`${PROJECT}:kvCacheType`]: "f16",
        [`${PROJECT}:litellmDatabase`]: "false",
        [`${PROJECT}:qdrantVectors`]: "500000",
        [`${PROJECT}:cloudModels`]: ["gpt-4o-mini=openai/gpt-4o-mini"],
        [`${PROJECT}:openaiApiKey`]: "placeholder-not-a-key",
        [`${PROJECT}:fallbacks`]: ["qwen2.5:3b=gpt-4o-mini"],
        [`${PROJECT}:rateLimits`]: ["qwen2.5:3b=30rpm"],
        [`${PROJECT}:publicWeb`]: "true",
        [`${PROJECT}:publicWebSourceRanges`]: ["173.245.48.0/20"],
        [`${PROJECT}:tailnetUsers`]: ["alice@example.com"],
        [`${PROJECT}:tailnetAdmins`]: ["bob@example.com"],
      },
    });
    for (const role of ["inference", "operations"]) {
      const a = before.one(SERVER, role).inputs.userData;
      const b = after.one(SERVER, role).inputs.userData;
      assert.equal(typeof a, "string");
      assert.equal(a, b, `${role}'s user data changed, which would replace the server`);
    }
    // The change did reach the stack: the memory budget moved.
    assert.notDeepEqual(before.outputs.memoryBudget, after.outputs.memoryBudget);
  });

  it("a new stack's first preview neither waits for nor looks up a device that does not exist yet", async () => {
    const run = await runProgram("dev", { preview: true });
    assert.deepEqual(
      run.calls.filter((c) => c.token === "tailscale:index/getDevice:getDevice"),
      [],
      "the device lookup ran at preview",
    );
    assert.equal(run.ofType(SERVER).length, 2);
  });

  it("each server generation joins with a tagged key of its own and is found by its own host name", async () => {
    const run = await runProgram("prod");
    for (const role of ["inference", "operations"]) {
      // The host name is the generation's (its RandomId, a marker under mocks), never the bare node name that a
      // former server's device still carries.
      const generation = run.one("random:index/randomId:RandomId", `ai-prod-${role}-generation`);
      const hostname = `ai-prod-${role}-${AFTER_DEPLOY}`;
      const lookup = run.calls.find((c) => c.token === "tailscale:index/getDevice:getDevice" && c.inputs.hostname === hostname);
      assert.ok(lookup, `no device lookup for ${hostname}`);
      assert.equal(lookup.inputs.waitFor, "10m");
      assert.equal(run.calls.filter((c) => c.token === "tailscale:index/getDevice:getDevice" && c.inputs.hostname === `ai-prod-${role}`).length, 0);
      // The key is the generation's: its description names the host, so a new generation replaces it.
      const key = run.one("tailscale:index/tailnetKey:TailnetKey", `ai-prod-${role}`);
      assert.equal(key.inputs.description, `bootstrap ${hostname}`);
      assert.deepEqual(key.inputs.tags, [`tag:ai-prod-${role}`]);
      assert.equal(key.inputs.reusable, false);
      // The tagged key tags the device, and a device tagged at first authentication has key expiry off by
      // default (https://tailscale.com/kb/1068/tags): no DeviceTags (whose delete the API refuses), no DeviceKey.
      assert.equal(run.ofType("tailscale:index/deviceTags:DeviceTags").length, 0);
      assert.equal(run.ofType("tailscale:index/deviceKey:DeviceKey").length, 0);
      // What replaces the server starts a new generation: its user data (without key and host), location, image.
      assert.deepEqual(Object.keys(generation.inputs.keepers as object).sort(), ["bootstrap", "image", "location"]);
    }
    assert.equal((run.outputs.nodes as Record<string, { hostname: string }>).inference.hostname, `ai-prod-inference-${AFTER_DEPLOY}`);
  });

  it("every command on a node runs after that node's bootstrap wait", async () => {
    const run = await runProgram("prod");
    const waits = new Map(["inference", "operations"].map((role) => [role, run.one("command:remote:Command", `ai-prod-${role}-bootstrap`)]));
    const commands = run.ofType("command:remote:Command").filter((c) => !c.name.endsWith("-bootstrap"));
    assert.ok(commands.length >= 3, "the data directories, Coolify's install and the model pulls");
    for (const c of commands) {
      const ordered = [...waits.values()].some((w) => c.dependencies.includes(w.urn)) || c.dependencies.some((d) => /docker:index\/container/.test(d));
      assert.ok(ordered, `${c.name} does not wait for its node's bootstrap`);
    }
  });

  it("waits for each node's bootstrap over the tailnet, and reaches Docker only through that path", async () => {
    const run = await runProgram("prod");
    for (const role of ["inference", "operations"]) {
      const wait = run.one("command:remote:Command", `ai-prod-${role}-bootstrap`);
      const connection = wait.inputs.connection as { host: string; user: string };
      assert.match(connection.host, /tailnet-ipv4/, "SSH goes to the tailnet address, never the public one");
      assert.equal(connection.user, "root");
      assert.match(String(wait.inputs.create), /\/var\/lib\/ai-platform\/bootstrap-done/);
      assert.ok(wait.secretInputs.includes("connection.privateKey") || wait.secretInputs.includes("connection"));
      const provider = run.one("pulumi:providers:docker", `ai-prod-${role}`);
      assert.match(String(provider.inputs.host), /^ssh:\/\/root@known-after-deploy:tailnet-ipv4$/);
      assert.ok(provider.dependencies.includes(wait.urn), "the Docker provider must wait for the bootstrap");
    }
  });

  it("without opting in, the policy is an output and no Acl is declared", async () => {
    const run = await runProgram("prod");
    assert.equal(run.ofType("tailscale:index/acl:Acl").length, 0);
    assert.equal(typeof run.outputs.tailnetPolicy, "string");
    assert.match(String(run.outputs.tailnetPolicy), /"tag:ai-prod-inference"/);
  });

  it("opting in writes the whole policy, and drops the output", async () => {
    const run = await runProgram("prod", {
      set: { [`${PROJECT}:manageTailnetPolicy`]: "true", [`${PROJECT}:tailnetUsers`]: ["alice@example.com"] },
    });
    const acl = run.one("tailscale:index/acl:Acl", "ai-tailnet-policy");
    assert.equal(acl.inputs.overwriteExistingContent, true);
    assert.match(String(acl.inputs.acl), /"group:ai-users": \[\s*"alice@example.com"\s*\]/);
    assert.equal(run.outputs.tailnetPolicy, undefined);
    // The policy defines the tags, so every tagged key and device waits for it.
    for (const role of ["inference", "operations"]) {
      for (const type of ["tailscale:index/tailnetKey:TailnetKey"]) {
        assert.ok(run.one(type, `ai-prod-${role}`).dependencies.includes(acl.urn), `${type} ${role} does not wait for the policy`);
      }
    }
  });
});
