/**
 * The fake node (./node.ts, ./docker.ts) checked with the real clients: the ssh2 client and OpenSSH for the
 * SSH side, the Docker CLI through its own SSH connection helper, and then the real Pulumi engine with the
 * command and Docker providers, declaring the project's own components against the fake.
 *
 *   node --import tsx --test test/localcloud/node.test.ts
 *
 * Loopback only (127.0.0.1, random high ports). The engine test needs the Pulumi CLI and its plugins: the
 * `pulumi` on PATH, else the offline engine that ../shared/pulumi-engine/install.sh unpacks; without either it
 * is skipped and says so. The Docker CLI test is skipped without a `docker` client on PATH.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { Client } from "ssh2";
import { COOLIFY_VERSION, IMAGES } from "../../components/catalog/images";
import { bootstrapWaitScript } from "../../components/machines/nodeReadiness";
import { renderBackupInstall, TEXTFILE_COLLECTOR_DIR } from "../../components/render/backup";
import { renderCoolifyInstall } from "../../components/render/coolify";
import { ServiceContainer } from "../../components/services/container";
import { Exporters, NODE_EXPORTER_TEXTFILE_DIR } from "../../components/services/exporters";
import { pullScript, removeScript } from "../../components/services/models";
import { parseTar } from "./docker";
import { FakeNode, generateSshKey } from "./node";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
/** The options components/readiness.ts gives the Docker provider. */
const PROJECT_SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"];
/** For the clients the tests drive directly: no config file, no prompt, no known_hosts. */
const TEST_SSH_OPTS = ["-F", "/dev/null", "-o", "BatchMode=yes", ...PROJECT_SSH_OPTS];

interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  stdoutBytes?: Buffer;
}

/** Runs a program without blocking the event loop (the fake node lives in this process). */
function runProcess(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString("utf8"), stderr, stdoutBytes });
    });
    child.stdin.end(opts.input ?? "");
  });
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** OpenSSH's client: the Docker provider's SSH connection helper runs it. */
const NO_SSH = onPath("ssh") ? false : "needs OpenSSH's ssh on PATH";

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
  });
}

/** Connects with the ssh2 client using one authentication method, runs a command, returns its output. */
function ssh2Exec(port: number, auth: { password?: string; privateKey?: string; none?: boolean }, cmd: string): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.on("error", reject);
    client.on("ready", () => {
      client.exec(cmd, (err, stream) => {
        if (err) return reject(err);
        let stdout = "";
        let stderr = "";
        let code: number | null = null;
        stream.on("data", (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        stream.on("exit", (c: number) => (code = c));
        stream.on("close", () => {
          client.end();
          resolve({ code, stdout, stderr });
        });
        stream.end();
      });
    });
    client.connect({
      host: "127.0.0.1",
      port,
      username: "root",
      ...(auth.password ? { password: auth.password, authHandler: ["password"] } : {}),
      ...(auth.privateKey ? { privateKey: auth.privateKey, authHandler: ["publickey"] } : {}),
      ...(auth.none ? { authHandler: ["none"] } : {}),
    });
  });
}

describe("the fake node's SSH server", () => {
  let node: FakeNode;
  before(() => {
    node = new FakeNode({ hostname: "inference", address: "127.0.0.1", port: 0 });
  });
  after(() => node.destroy());

  it("refuses connections until booted, takes any authentication, and keeps its port across a reboot", async () => {
    await node.boot();
    const port = node.port;
    assert.ok(port > 1024);
    await node.halt();
    assert.equal(await refused("127.0.0.1", port), true, "a halted node refuses connections");
    await node.boot();
    assert.equal(node.port, port, "the port is kept across a reboot");

    const key = generateSshKey().private;
    for (const auth of [{ none: true }, { password: "anything" }, { privateKey: key }]) {
      const result = await ssh2Exec(port, auth, bootstrapWaitScript());
      assert.equal(result.code, 0, JSON.stringify(auth));
      assert.equal(result.stdout, "28.5.1\n");
    }
    const methods = new Set(node.authAttempts.map((a) => a.method));
    for (const m of ["none", "password", "publickey"]) assert.ok(methods.has(m), `accepted ${m}: ${[...methods].join(", ")}`);
    assert.ok(node.hostPublicKey.startsWith("ssh-ed25519 "));
  });

  it("answers the program's commands through OpenSSH, records them, and exits 127 for anything else", { skip: NO_SSH }, async () => {
    const ssh = (cmd: string, input = "") => runProcess("ssh", [...TEST_SSH_OPTS, "-p", String(node.port), "root@127.0.0.1", cmd], { input });

    const wait = await ssh(bootstrapWaitScript());
    assert.deepEqual([wait.code, wait.stdout], [0, "28.5.1\n"]);

    const unknown = await ssh("uname -a");
    assert.equal(unknown.code, 127);
    assert.equal(unknown.stderr, "fake node: no handler for: uname -a\n");

    // A model pull needs a running ollama container, as `docker exec` does.
    const early = await ssh(pullScript("qwen3:0.6b", 0.5));
    assert.equal(early.code, 1);
    assert.match(early.stderr, /No such container: ollama/);
    assert.deepEqual(node.pulledModels, []);

    const dirs = await ssh("install -d -m 0750 -o 65534 -g 65534 /mnt/data/prometheus /mnt/data/alertmanager && install -d -m 0750 -o 472 -g 0 /mnt/data/grafana");
    assert.equal(dirs.code, 0);
    assert.deepEqual(node.directories.get("/mnt/data/grafana"), { mode: "0750", owner: "472", group: "0" });

    const coolifySpec = { version: COOLIFY_VERSION, adminEmail: "ops@example.org", dockerAddressPool: "10.210.0.0/16", tailnetAddress: "100.64.0.9" };
    const coolify = renderCoolifyInstall(coolifySpec);
    const withoutPassword = await ssh(coolify);
    assert.equal(withoutPassword.code, 1, "the install script wants the password on stdin");
    const installed = await ssh(coolify, "ROOT_USER_PASSWORD=Secret-1234\n");
    assert.equal(installed.code, 0);
    assert.match(installed.stdout, new RegExp(`^coolify: ${COOLIFY_VERSION.replace(/\./g, "\\.")}, its UI on http://100\\.64\\.0\\.9:8000$`, "m"));
    assert.equal(node.coolify?.adminEmail, "ops@example.org");
    assert.equal(node.coolify?.dockerAddressPoolBase, "10.210.0.0/16");
    assert.equal(node.coolify?.tailnetAddress, "100.64.0.9");
    // Run again: the same version and ports, no installer; another version, the installer again.
    assert.equal((await ssh(coolify, "ROOT_USER_PASSWORD=Secret-1234\n")).stdout, `coolify: ${COOLIFY_VERSION} is installed\n`);
    assert.equal((await ssh(renderCoolifyInstall({ ...coolifySpec, version: "9.9.9" }), "ROOT_USER_PASSWORD=Secret-1234\n")).code, 0);
    assert.deepEqual(node.coolifyInstalls.map((i) => i.version), [COOLIFY_VERSION, "9.9.9"]);

    const recorded = node.commands.find((c) => c.handler === "coolify-install" && c.exitCode === 0);
    assert.equal(recorded?.stdin, "ROOT_USER_PASSWORD=Secret-1234\n");
    assert.ok(node.commands.every((c) => c.exitCode !== null && c.endedAt instanceof Date));
    assert.ok(node.commands.some((c) => c.command === "uname -a" && c.exitCode === 127 && c.handler === "none"));
  });

  it("records the backup install's settings and the secrets on its standard input, and refuses it without the repository password", async () => {
    const script = renderBackupInstall({
      node: "inference",
      repository: "sftp://u100001-sub1@u100001.your-storagebox.de:23/inference",
      stores: ["postgres", "qdrant", "config"],
      retention: { daily: 7, weekly: 4, monthly: 6 },
      hourUtc: 3,
      dataDir: "/srv/data",
      qdrantUrl: "http://100.64.0.1:6333",
      resticImage: `docker.io/restic/restic:${IMAGES.restic.version}`,
    });
    const refused = await node.run(script, "TARGET_PASSWORD='Pw-1234567890'\n");
    assert.deepEqual([refused.handler, refused.exitCode], ["backup-install", 1]);
    assert.equal(node.backupInstalls.length, 0);
    const ok = await node.run(script, "REPOSITORY_PASSWORD='repo'\nTARGET_PASSWORD='it'\\''s-Pw-123'\n");
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.deepEqual(node.backup?.secrets, { REPOSITORY_PASSWORD: "repo", TARGET_PASSWORD: "it's-Pw-123" });
    assert.equal(node.backup?.settings.RESTIC_REPOSITORY, "sftp://u100001-sub1@u100001.your-storagebox.de:23/inference");
    assert.equal(node.backup?.settings.BACKUP_STORES, "postgres qdrant config");
    assert.match(node.backup?.timer ?? "", /^OnCalendar=\*-\*-\* 03:00:00 UTC$/m);
  });
});

describe("the fake Docker engine through the Docker CLI over SSH", { skip: NO_SSH || (onPath("docker") ? false : "needs a docker client on PATH") }, () => {
  let node: FakeNode;
  let env: NodeJS.ProcessEnv;
  let tmp: string;
  const dockerCli = (...args: string[]) => runProcess("docker", args, { env });

  before(async () => {
    node = new FakeNode({ hostname: "operations", address: "127.0.0.1", port: 0 });
    await node.boot();
    // The Docker CLI takes no ssh options: a wrapper earlier on PATH adds them (no prompt, no known_hosts).
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fake-node-cli-"));
    const realSsh = onPath("ssh") ?? "/usr/bin/ssh";
    fs.writeFileSync(path.join(tmp, "ssh"), `#!/bin/sh\nexec ${realSsh} ${TEST_SSH_OPTS.join(" ")} "$@"\n`, { mode: 0o755 });
    env = { ...process.env, PATH: `${tmp}:${process.env.PATH ?? ""}`, DOCKER_HOST: node.dockerHost, DOCKER_CONFIG: path.join(tmp, "docker-config"), DOCKER_CONTEXT: "" };
  });
  after(async () => {
    await node.destroy();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("negotiates the API version down to the client's and runs containers", async () => {
    const version = await dockerCli("version", "--format", "{{.Server.Version}} {{.Server.APIVersion}} {{.Client.APIVersion}}");
    assert.equal(version.code, 0, version.stderr);
    const [server, serverApi, clientApi] = version.stdout.trim().split(" ");
    assert.deepEqual([server, serverApi], ["28.5.1", "1.51"]);
    // Every versioned request uses the lower of the two versions.
    const versions = new Set(node.docker.requests.filter((r) => r.apiVersion).map((r) => r.apiVersion));
    assert.deepEqual([...versions], [clientApi <= serverApi ? clientApi : serverApi]);

    assert.equal((await dockerCli("pull", "prom/node-exporter:v1.12.1")).code, 0);
    assert.equal((await dockerCli("network", "create", "ai-operations")).code, 0);
    const created = await dockerCli("create", "--name", "web", "--network", "ai-operations", "-p", "127.0.0.1:9100:9100", "-m", "64m", "-v", "/srv/data:/data:ro", "prom/node-exporter:v1.12.1");
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await dockerCli("start", "web")).code, 0);
    const ps = await dockerCli("ps", "--format", "{{.Names}} {{.Ports}}");
    assert.equal(ps.stdout.trim(), "web 127.0.0.1:9100->9100/tcp");

    const web = node.docker.containerByName("web");
    assert.ok(web);
    assert.equal(web.state.status, "running");
    assert.equal(web.hostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(web.hostConfig.MemorySwap, 128 * 1024 * 1024, "Docker's default: twice the memory limit");
    assert.deepEqual(node.docker.mounts(web), [{ type: "bind", source: "/srv/data", destination: "/data", readOnly: true }]);
  });

  it("copies files in and out as tar archives", async () => {
    const local = path.join(tmp, "app.conf");
    fs.writeFileSync(local, "listen: 9100\n", { mode: 0o640 });
    const copyIn = await dockerCli("cp", local, "web:/etc/app/app.conf");
    assert.equal(copyIn.code, 0, copyIn.stderr);
    const web = node.docker.containerByName("web");
    assert.ok(web);
    assert.equal(node.docker.fileText(web, "/etc/app/app.conf"), "listen: 9100\n");
    const copyOut = await runProcess("docker", ["cp", "web:/etc/app/app.conf", "-"], { env });
    assert.equal(copyOut.code, 0, copyOut.stderr);
    const entries = parseTar(copyOut.stdoutBytes ?? Buffer.alloc(0));
    assert.equal(entries[0].name, "app.conf");
    assert.equal(entries[0].data.toString(), "listen: 9100\n");
  });

  it("refuses what Docker refuses", async () => {
    const conflict = await dockerCli("create", "--name", "web", "prom/node-exporter:v1.12.1");
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /The container name "\/web" is already in use/);

    const web2 = await dockerCli("create", "--name", "web2", "-p", "127.0.0.1:9100:9100", "prom/node-exporter:v1.12.1");
    assert.equal(web2.code, 0, web2.stderr);
    const portTaken = await dockerCli("start", "web2");
    assert.notEqual(portTaken.code, 0);
    assert.match(portTaken.stderr, /port is already allocated/);

    const elsewhere = await dockerCli("run", "-d", "--name", "web3", "-p", "100.64.0.9:9101:9100", "prom/node-exporter:v1.12.1");
    assert.notEqual(elsewhere.code, 0, "publishing on an address the node does not own fails");
    assert.match(elsewhere.stderr, /cannot assign requested address/);

    const running = await dockerCli("rm", "web");
    assert.notEqual(running.code, 0);
    assert.match(running.stderr, /container is running/);

    const inUse = await dockerCli("network", "rm", "ai-operations");
    assert.notEqual(inUse.code, 0);
    assert.match(inUse.stderr, /has active endpoints/);

    const predefined = await dockerCli("network", "rm", "bridge");
    assert.notEqual(predefined.code, 0);
    assert.match(predefined.stderr, /pre-defined network/);

    const tooSmall = await dockerCli("create", "--name", "tiny", "-m", "4m", "prom/node-exporter:v1.12.1");
    assert.notEqual(tooSmall.code, 0);
    assert.match(tooSmall.stderr, /Minimum memory limit allowed is 6MB/);

    assert.equal((await dockerCli("rm", "-f", "web", "web2", "web3")).code, 0);
    assert.equal((await dockerCli("network", "rm", "ai-operations")).code, 0);
    assert.deepEqual([node.docker.containers.size, node.docker.userNetworks().length], [0, 0]);
  });

  it("ran only `docker system dial-stdio` over SSH for the CLI", () => {
    assert.ok(node.commands.length > 0);
    assert.deepEqual([...new Set(node.commands.map((c) => c.command))], ["docker system dial-stdio"]);
  });
});

/** The engine's directory: `pulumi` on PATH, else the offline engine unpacked by ../shared/pulumi-engine. */
async function findEngineRoot(): Promise<string | undefined> {
  const found = onPath("pulumi");
  if (found) return path.dirname(path.dirname(fs.realpathSync(found)));
  const install = path.resolve(REPO_ROOT, "..", "shared", "pulumi-engine", "install.sh");
  if (!fs.existsSync(install)) return undefined;
  const result = await runProcess("bash", [install], { timeoutMs: 300_000 });
  return result.code === 0 ? path.dirname(result.stdout.trim().split("\n").pop() ?? "") : undefined;
}

/** Where each resource's diff was, by resource name, from the engine's events. */
function diffsOf(events: EngineEvent[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of events) {
    const m = e.resourcePreEvent?.metadata;
    if (m && m.op !== "same" && m.op !== "read") out[`${m.type}::${m.urn.split("::").pop() ?? ""}`] = [m.op, ...(m.diffs ?? [])];
  }
  return out;
}

/*
 * The Docker provider reads back what a Docker daemon stores: MemorySwap at twice Memory when only Memory is
 * given (moby daemon/daemon_unix.go adaptContainerSettings), and health-check durations as Go's
 * Duration.String() ("1m0s"). The project's container helper declares exactly those values, so a run after
 * the first, and a refresh, find nothing to change.
 */

describe("the fake node through the real Pulumi engine", { timeout: 240_000, skip: NO_SSH }, () => {
  let engineRoot: string | undefined;
  let node: FakeNode;
  let stack: Stack | undefined;
  let tmp: string;
  let knownHostsBefore: string;
  const knownHosts = path.join(os.homedir(), ".ssh", "known_hosts");
  const statOf = (file: string) => (fs.existsSync(file) ? `${fs.statSync(file).mtimeMs}:${fs.statSync(file).size}` : "absent");
  const events: Record<string, EngineEvent[]> = { up1: [], up2: [], preview3: [], preview4: [] };
  let upError: unknown;

  before(async () => {
    engineRoot = await findEngineRoot();
    if (!engineRoot) return;
    const { LocalWorkspace, PulumiCommand } = await import("@pulumi/pulumi/automation");
    const pulumiCommand: PulumiCommand = await PulumiCommand.get({ root: engineRoot, skipVersionCheck: true });
    node = new FakeNode({ hostname: "inference", address: "127.0.0.1", port: 0 });
    await node.boot();
    const port = node.port;
    await node.halt(); // it boots while the engine is already dialing
    knownHostsBefore = statOf(knownHosts);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fake-node-engine-"));
    const privateKey = generateSshKey().private;

    const program = () => {
      const connection = { host: "127.0.0.1", port, user: "root", privateKey: pulumi.secret(privateKey) };
      // As components/machines/nodeReadiness.ts declares it, with a port.
      const wait = new command.remote.Command("inference-bootstrap", {
        connection: { ...connection, perDialTimeout: 5, dialErrorLimit: 30 },
        create: bootstrapWaitScript(),
        triggers: [1],
      });
      const provider = new docker.Provider("inference", { host: node.dockerHost, sshOpts: PROJECT_SSH_OPTS }, { dependsOn: [wait] });
      new Exporters("inference-exporters", { provider, role: "inference", tailnetAddress: "127.0.0.1", memoryMib: { nodeExporter: 32, cadvisor: 64 } });
      const network = new docker.Network("inference", { name: "ai-inference", driver: "bridge" }, { provider });
      const ollama = new ServiceContainer("inference-ollama", {
        provider,
        network: network.name,
        name: "ollama",
        image: IMAGES.ollama,
        memoryMib: 512,
        ports: [{ port: 11434, hostIp: "127.0.0.1" }],
        env: { OLLAMA_HOST: "0.0.0.0:11434", OLLAMA_KEEP_ALIVE: "5m" },
        secretEnv: { OLLAMA_TEST_TOKEN: pulumi.secret("not-a-real-token") },
        volumes: [{ hostPath: "/var/lib/ai-platform/ollama", containerPath: "/root/.ollama" }],
        files: [{ path: "/etc/ollama/settings.yaml", content: "keep_alive: 5m\n", mode: "0640" }],
        healthcheck: ["CMD", "ollama", "list"],
      });
      // As components/services/inference.ts and operations.ts declare them.
      new command.remote.Command(
        "inference-model-qwen3-0.6b",
        { connection, create: pullScript("qwen3:0.6b", 0.5), update: pullScript("qwen3:0.6b", 0.5), delete: removeScript("qwen3:0.6b") },
        { dependsOn: [ollama.container] },
      );
      new command.remote.Command("operations-data-dirs", {
        connection,
        create: "install -d -m 0750 -o 65534 -g 65534 /mnt/data/prometheus /mnt/data/alertmanager && install -d -m 0750 -o 472 -g 0 /mnt/data/grafana",
      });
      new command.remote.Command("operations-coolify", {
        connection,
        create: renderCoolifyInstall({ version: COOLIFY_VERSION, adminEmail: "ops@example.org", dockerAddressPool: "10.210.0.0/16", tailnetAddress: "100.64.0.9" }),
        stdin: pulumi.secret("ROOT_USER_PASSWORD=Secret-1234\n"),
        triggers: [COOLIFY_VERSION],
      });
      return Promise.resolve({ dockerVersion: wait.stdout });
    };

    stack = await LocalWorkspace.createOrSelectStack(
      { stackName: "fake-node", projectName: "localcloud-fake-node", program },
      {
        pulumiCommand,
        envVars: {
          PULUMI_BACKEND_URL: `file://${tmp}`,
          PULUMI_HOME: path.join(tmp, "pulumi-home"),
          PULUMI_CONFIG_PASSPHRASE: crypto.randomBytes(16).toString("hex"),
          PULUMI_SKIP_UPDATE_CHECK: "true",
          PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
          SSH_AUTH_SOCK: "",
        },
      },
    );
    const booting = new Promise<void>((resolve) => setTimeout(() => void node.boot().then(resolve), 3000));
    try {
      await stack.up({ onEvent: (e) => events.up1.push(e) });
    } catch (err) {
      upError = err;
    }
    await booting;
  });

  after(async () => {
    if (!engineRoot) return;
    await node.destroy();
    if (stack) await stack.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("`up` succeeds, dialing until the node boots, and leaves the node as declared", (t) => {
    if (!engineRoot) return t.skip("needs the Pulumi engine: `pulumi` on PATH or ../shared/pulumi-engine/install.sh");
    assert.equal(upError, undefined, String(upError));
    const bootstrap = node.commands.find((c) => c.handler === "bootstrap-wait");
    assert.equal(bootstrap?.exitCode, 0);

    const ollama = node.docker.containerByName("ollama");
    assert.ok(ollama, "the ollama container exists");
    assert.equal(ollama.state.status, "running");
    assert.deepEqual(node.docker.publishedAddresses(ollama), ["127.0.0.1:11434->11434/tcp"]);
    assert.equal(ollama.hostConfig.Memory, 512 * 1024 * 1024);
    assert.deepEqual(ollama.hostConfig.RestartPolicy, { Name: "unless-stopped", MaximumRetryCount: 0 });
    assert.deepEqual(node.docker.mounts(ollama), [{ type: "bind", source: "/var/lib/ai-platform/ollama", destination: "/root/.ollama", readOnly: false }]);
    assert.deepEqual([...ollama.networks.keys()], ["ai-inference"], "moved off the default bridge onto its network");
    assert.deepEqual(ollama.networks.get("ai-inference")?.aliases, ["ollama"]);
    assert.ok(ollama.config.Env?.includes("OLLAMA_TEST_TOKEN=not-a-real-token"));
    assert.deepEqual(ollama.config.Healthcheck?.Test, ["CMD", "ollama", "list"]);
    assert.equal(ollama.config.Healthcheck?.StartPeriod, 60e9);
    const settings = ollama.files.get("/etc/ollama/settings.yaml");
    assert.equal(settings?.content.toString(), "keep_alive: 5m\n");
    assert.equal(settings?.mode, 0o640);

    const nodeExporter = node.docker.containerByName("node-exporter");
    assert.ok(nodeExporter);
    assert.deepEqual(node.docker.publishedAddresses(nodeExporter), ["127.0.0.1:9100->9100/tcp"]);
    assert.equal(nodeExporter.hostConfig.PidMode, "host");
    assert.deepEqual(node.docker.mounts(nodeExporter), [
      { type: "bind", source: "/", destination: "/host", readOnly: true },
      // The backups' results, for its textfile collector.
      { type: "bind", source: TEXTFILE_COLLECTOR_DIR, destination: NODE_EXPORTER_TEXTFILE_DIR, readOnly: true },
    ]);
    const cadvisor = node.docker.containerByName("cadvisor");
    assert.ok(cadvisor);
    assert.deepEqual(node.docker.publishedAddresses(cadvisor), ["127.0.0.1:8080->8080/tcp"]);

    assert.deepEqual(node.pulledModels, ["qwen3:0.6b"], "pulled after ollama ran");
    assert.ok(node.directories.has("/mnt/data/grafana"));
    assert.equal(node.coolify?.passwordOnStdin, true);
    assert.equal(statOf(knownHosts), knownHostsBefore, "OpenSSH left ~/.ssh/known_hosts alone");
  });

  it("a second `up` changes nothing, and neither does a refresh", async (t) => {
    if (!engineRoot || !stack) return t.skip("needs the Pulumi engine");
    const updatesBefore = node.docker.requests.filter((r) => r.path.endsWith("/update")).length;
    await stack.up({ onEvent: (e) => events.up2.push(e) });
    await stack.preview({ onEvent: (e) => events.preview3.push(e) });
    await stack.refresh();
    await stack.preview({ onEvent: (e) => events.preview4.push(e) });
    for (const run of ["up2", "preview3", "preview4"]) assert.deepEqual(diffsOf(events[run]), {}, `${run} finds something to change`);
    assert.equal(node.docker.requests.filter((r) => r.path.endsWith("/update")).length, updatesBefore, "no container was updated");
    assert.equal(node.docker.containers.size, 3);
  });

  it("`destroy` removes every container and network and the model", async (t) => {
    if (!engineRoot || !stack) return t.skip("needs the Pulumi engine");
    await stack.destroy();
    assert.equal(node.docker.containers.size, 0);
    assert.deepEqual(node.docker.userNetworks(), []);
    assert.deepEqual(node.pulledModels, []);
    // keepLocally: the images stay on the node, as the project asks.
    assert.ok(node.docker.images.size >= 3);
    // The SSH connection helper ran nothing but dial-stdio; the command provider ran what it was given.
    const kinds = new Set(node.commands.map((c) => c.handler));
    assert.deepEqual([...kinds].sort(), ["bootstrap-wait", "coolify-install", "docker-dial-stdio", "install-dirs", "ollama-pull", "ollama-rm"]);
    assert.ok(node.commands.every((c) => c.exitCode === 0), node.commands.filter((c) => c.exitCode !== 0).map((c) => c.command).join("\n"));
    assert.equal(statOf(knownHosts), knownHostsBefore, "OpenSSH left ~/.ssh/known_hosts alone");
  });
});
