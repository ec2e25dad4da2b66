/**
 * A fake node: what the program reaches at a server's tailnet address once the server has joined the tailnet.
 *
 * - An SSH server that behaves as Tailscale SSH does for a tailnet peer: it takes whatever authentication the
 *   client offers (none, publickey, password: Tailscale SSH authorizes by tailnet identity, so the key the
 *   program holds is not what lets it in), with a host key made per node. It answers `exec` (and, minimally,
 *   `shell`) from a table of handlers for the commands this program runs, records every command, and answers
 *   anything else with exit 127 and "fake node: no handler for: <cmd>" so a gap shows.
 * - `docker system dial-stdio`, the command the Docker provider's SSH connection helper runs, connects the
 *   channel to a fake Docker Engine (./docker.ts).
 *
 * Before `boot()` nothing listens (connection refused), so the program's dial retries as it does while a
 * real server boots. `halt()` stops listening and drops connections but keeps the node's state; a reboot is
 * halt + boot, and like a host reboot it stops the containers and starts again those whose restart policy
 * says so.
 *
 * The data volume (when the node is given its mount point): a `DataVolume` holding files, mounted or not.
 * At a boot the node starts its services in the order systemd would by the node's user data (./bootOrder.ts):
 * if docker.service waits for the data mount, the volume is mounted and then Docker restarts its containers;
 * if not, Docker comes first and the volume after. While the volume is not mounted, its mount point is the
 * empty directory of the root disk, which the bootstrap makes immutable (`chattr +i`), so Docker cannot create
 * a bind source below it and the container fails to start, as on a real host; a container that did start
 * keeps the view it had (bind mounts are private: a later mount does not reach into it). What is not
 * modelled: files outside the volume, file contents written by the services (a scenario puts them there), a
 * volume missing at boot, the kernel's page cache or a dirty unmount.
 */
import * as net from "node:net";
import * as path from "node:path";
import { Connection, Server, ServerChannel, Session, utils } from "ssh2";
import { bootstrapWaitScript } from "../../components/machines/nodeReadiness";
import { COOLIFY_INSTALLER_URL } from "../../components/render/coolify";
import { HOST_FIREWALL_SCRIPT_PATH } from "../../components/render/hostFirewall";
import { BACKUP_COMMAND, BACKUP_ENV_FILE, BACKUP_PROGRAM_DIR, BACKUP_UNIT } from "../../components/render/backup";
import { FakeDockerEngine, type ContainerMount, type FakeContainer } from "./docker";

export interface RecordedCommand {
  command: string;
  /** "exec" for an exec request, "shell" for a line typed into a shell session. */
  kind: "exec" | "shell";
  user: string;
  /** Environment the client set on the session (env requests). */
  env: Record<string, string>;
  /** What the client sent on standard input; empty for dial-stdio, whose stdin is the Docker API stream. */
  stdin: string;
  stdout: string;
  stderr: string;
  /** Null while the command runs. */
  exitCode: number | null;
  /** The handler that answered it, or "none". */
  handler: string;
  startedAt: Date;
  endedAt?: Date;
}

export interface AuthAttempt {
  user: string;
  method: string;
  at: Date;
}

export interface CommandContext {
  node: FakeNode;
  command: string;
  stdin: string;
  env: Record<string, string>;
}

export interface CommandResult {
  stdout?: string;
  stderr?: string;
  exitCode: number;
}

export interface CommandHandler {
  name: string;
  matches(command: string): boolean;
  run(ctx: CommandContext): CommandResult | Promise<CommandResult>;
}

export interface DirectorySpec {
  mode: string;
  owner: string;
  group: string;
}

export interface CoolifyInstall {
  /** The version the installer was asked for: the one Coolify runs after it. */
  version: string;
  adminEmail: string;
  /** DOCKER_ADDRESS_POOL_BASE as the script hands it to the installer (x.x.x.x/nn). */
  dockerAddressPoolBase: string;
  /** The address docker-compose.custom.yml publishes Coolify's ports on. */
  tailnetAddress: string;
  /** Whether ROOT_USER_PASSWORD arrived on standard input (its value is not kept). */
  passwordOnStdin: boolean;
  at: Date;
}

/** The node's backups as their install left them (components/render/backup.ts). */
export interface BackupInstall {
  /** The settings file the programs read (backup.env), by variable. */
  settings: Record<string, string>;
  /** The secrets that came on standard input, by variable (REPOSITORY_PASSWORD, TARGET_PASSWORD, ...). */
  secrets: Record<string, string>;
  /** The nightly timer's unit, as written. */
  timer: string;
  at: Date;
}

/** The node's host firewall as its install left it (components/render/hostFirewall.ts). */
export interface HostFirewallInstall {
  /** The rules' script, as written to the node. */
  script: string;
  at: Date;
}

export interface FakeNodeOptions {
  hostname: string;
  /** Where the SSH server listens; one of the node's own addresses. */
  address: string;
  /** Default 22; 0 picks a free port at the first boot and keeps it across reboots. */
  port?: number;
  /** What `docker info --format '{{.ServerVersion}}'` prints. Default 28.5.1. */
  dockerVersion?: string;
  /** Other addresses the node owns (its tailnet address, say, when it listens on a loopback alias). */
  addresses?: string[];
  /** Whether cloud-init has finished and written the bootstrap marker. Default true. */
  bootstrapped?: boolean;
  /** Where the data volume is mounted (the bootstrap's argument); no data volume without it. */
  dataMountPoint?: string;
  /** Whether docker.service waits for the data mount at boot (./bootOrder.ts reads it from the user data). Default false. */
  dockerWaitsForDataMount?: boolean;
  /** The volume's content, to hand the same volume to another node; a new, empty one by default. */
  dataVolume?: DataVolume;
}

/** The files of a Hetzner data volume, by path relative to its root ("qdrant/storage/collection"). */
export class DataVolume {
  readonly files = new Map<string, string>();
  readonly directories = new Set<string>();

  /** Writes a file (and its directories), as a service would through its bind mount. */
  write(relative: string, content: string): void {
    const file = path.posix.normalize(relative).replace(/^\/+/, "");
    this.files.set(file, content);
    this.mkdir(path.posix.dirname(file));
  }

  /** Makes a directory and its parents. */
  mkdir(relative: string): void {
    for (let dir = path.posix.normalize(relative).replace(/^\/+|\/+$/g, ""); dir !== "." && dir !== ""; dir = path.posix.dirname(dir)) {
      this.directories.add(dir);
    }
  }

  /** The files below a directory, by path relative to that directory. */
  list(relativeDir: string): Map<string, string> {
    const dir = path.posix.normalize(relativeDir).replace(/^\/+|\/+$/g, "");
    const out = new Map<string, string>();
    for (const [file, content] of this.files) {
      if (dir === "" || dir === ".") out.set(file, content);
      else if (file.startsWith(`${dir}/`)) out.set(file.slice(dir.length + 1), content);
    }
    return out;
  }
}

/** What a container's bind mount of a path below the data mount point showed it when it started. */
export interface DataBindView {
  source: string;
  destination: string;
  /** "data volume" when the volume was mounted at the container's start; "root disk" when not. */
  device: "data volume" | "root disk";
}

/** The exact remote command of the Docker CLI's SSH connection helper (docker/cli cli/connhelper). */
export const DIAL_STDIO = "docker system dial-stdio";

const STDIN_GRACE_MS = 2000;

/**
 * An ed25519 key (a host key, or a client key in the tests) that ssh2 can read back: about one in 250 keys its generator writes fails its own
 * parser ("Malformed OpenSSH private key", seen here in 13 of 3,000), which would fail a node's boot.
 */
export function generateSshKey(): { private: string; public: string } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const key = utils.generateKeyPairSync("ed25519");
    if (!(utils.parseKey(key.private) instanceof Error)) return key;
  }
  throw new Error("fake node: no readable ed25519 host key in 20 attempts");
}

export class FakeNode {
  readonly hostname: string;
  readonly address: string;
  readonly dockerVersion: string;
  readonly docker: FakeDockerEngine;
  readonly commands: RecordedCommand[] = [];
  readonly authAttempts: AuthAttempt[] = [];
  readonly pulledModels: string[] = [];
  /** The bound, in seconds, the latest pull of each model ran under. */
  readonly pullTimeouts = new Map<string, number>();
  /** Directories made by the program's `install -d` steps: path -> mode and owner. */
  readonly directories = new Map<string, DirectorySpec>();
  /** The Coolify that runs on the node: the last install's. */
  coolify: CoolifyInstall | undefined;
  /** Every run of Coolify's installer, in order: the script runs it when another version runs, or none. */
  readonly coolifyInstalls: CoolifyInstall[] = [];
  /** Coolify's docker-compose.custom.yml, as the script last wrote it. */
  coolifyComposeOverride: string | undefined;
  /** The backups, once installed; every install in `backupInstalls`. */
  backup: BackupInstall | undefined;
  readonly backupInstalls: BackupInstall[] = [];
  /** The host firewall, once installed; every install in `hostFirewallInstalls`. */
  hostFirewall: HostFirewallInstall | undefined;
  readonly hostFirewallInstalls: HostFirewallInstall[] = [];
  /** Whether cloud-init has finished (the marker of components/render/cloudInit.ts exists). */
  bootstrapped: boolean;
  /** The data volume's mount point; undefined when the node was given none. */
  readonly dataMountPoint: string | undefined;
  readonly dockerWaitsForDataMount: boolean;
  readonly dataVolume: DataVolume;
  /** Whether the data volume is mounted. The first boot's bootstrap mounts it before Docker is installed. */
  dataMounted: boolean;
  /** Per container name, what each of its binds below the data mount point showed it at its last start. */
  readonly dataBindViews = new Map<string, DataBindView[]>();
  /** Services in the order the last boot started them ("data mount", "docker"), for the scenarios' messages. */
  lastBootOrder: string[] = [];
  /** How many times the node has booted. */
  bootCount = 0;
  /**
   * Every stop of the running node, in order: graceful when the OS was asked to shut down (an ACPI shutdown,
   * a reboot), not when its power was cut (a hard poweroff or reset): then the databases were killed mid-write.
   */
  readonly stops: { at: number; graceful: boolean }[] = [];
  /** The SSH host key's public half, "ssh-ed25519 AAAA...". */
  readonly hostPublicKey: string;
  private readonly handlers: CommandHandler[];
  private readonly ssh: Server;
  private listener: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private currentPort: number;
  private readonly extraAddresses: string[];

  constructor(opts: FakeNodeOptions) {
    this.hostname = opts.hostname;
    this.address = opts.address;
    this.currentPort = opts.port ?? 22;
    this.dockerVersion = opts.dockerVersion ?? "28.5.1";
    this.extraAddresses = opts.addresses ?? [];
    this.bootstrapped = opts.bootstrapped ?? true;
    this.dataMountPoint = opts.dataMountPoint;
    this.dockerWaitsForDataMount = opts.dockerWaitsForDataMount ?? false;
    this.dataVolume = opts.dataVolume ?? new DataVolume();
    this.dataMounted = this.dataMountPoint !== undefined;
    this.docker = new FakeDockerEngine({
      version: this.dockerVersion,
      hostname: this.hostname,
      hostAddresses: () => [this.address, "127.0.0.1", ...this.extraAddresses],
      prepareBinds: (container, binds) => this.prepareBinds(container, binds),
    });
    const hostKey = generateSshKey();
    this.hostPublicKey = hostKey.public;
    this.ssh = new Server({ hostKeys: [hostKey.private], ident: "Tailscale" }, (client) => this.onClient(client));
    this.handlers = defaultHandlers();
  }

  /** The port the SSH server listens on (the real one once booted with port 0). */
  get port(): number {
    return this.currentPort;
  }

  get booted(): boolean {
    return this.listener !== undefined;
  }

  /** The Docker provider's host for this node. */
  get dockerHost(): string {
    return `ssh://root@${this.address.includes(":") ? `[${this.address}]` : this.address}:${this.currentPort}`;
  }

  /** Adds a handler, consulted before the built-in ones. */
  handle(handler: CommandHandler): void {
    this.handlers.unshift(handler);
  }

  /** The path of `hostPath` on the data volume, when it is the mount point or below it. */
  dataVolumePath(hostPath: string): string | undefined {
    if (this.dataMountPoint === undefined) return undefined;
    const mount = path.posix.normalize(this.dataMountPoint).replace(/\/+$/, "");
    const p = path.posix.normalize(hostPath).replace(/\/+$/, "");
    if (p === mount) return "";
    return p.startsWith(`${mount}/`) ? p.slice(mount.length + 1) : undefined;
  }

  /** The files a container sees through its bind of `destination`, when that bind is below the data mount point. */
  dataSeenBy(containerName: string, destination: string): Map<string, string> | undefined {
    const view = this.dataBindViews.get(containerName)?.find((v) => v.destination === destination);
    if (!view) return undefined;
    // The root disk under the mount point is empty (immutable): nothing there to see.
    return view.device === "data volume" ? this.dataVolume.list(this.dataVolumePath(view.source) ?? "") : new Map();
  }

  /** Docker's part of a container start: each bind source below the mount point must exist or be made. */
  private prepareBinds(container: FakeContainer, binds: ContainerMount[]): void {
    const views: DataBindView[] = [];
    for (const bind of binds) {
      const relative = this.dataVolumePath(bind.source);
      if (relative === undefined) continue;
      if (!this.dataMounted) {
        // The root disk's mount point is empty and immutable (components/render/bootstrapScript.ts chattr +i).
        const first = relative === "" ? this.dataMountPoint! : path.posix.join(this.dataMountPoint!, relative.split("/")[0]);
        throw new Error(`error while creating mount source path '${bind.source}': mkdir ${first}: operation not permitted`);
      }
      // The daemon creates a missing bind source (Binds), as `mkdir -p` would.
      this.dataVolume.mkdir(relative);
      views.push({ source: bind.source, destination: bind.destination, device: "data volume" });
    }
    this.dataBindViews.set(container.name, views);
  }

  /** Starts listening and the node's services in their boot order (see the header). */
  async boot(): Promise<void> {
    if (this.listener) return;
    const listener = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      socket.on("error", () => undefined);
      this.ssh.injectSocket(socket);
    });
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen(this.currentPort, this.address, () => resolve());
    });
    this.currentPort = (listener.address() as net.AddressInfo).port;
    this.listener = listener;
    this.bootCount += 1;
    const mount = () => {
      if (this.dataMountPoint === undefined) return;
      this.dataMounted = true;
      this.lastBootOrder.push("data mount");
    };
    const docker = () => {
      this.docker.powerOn();
      this.lastBootOrder.push("docker");
    };
    this.lastBootOrder = [];
    // systemd.mount(5) nofail: nothing waits for the mount unless a unit says so (./bootOrder.ts).
    if (this.dockerWaitsForDataMount) {
      mount();
      docker();
    } else {
      docker();
      mount();
    }
  }

  /** A reboot: a halt, then a boot in the node's boot order. */
  async reboot(): Promise<void> {
    await this.halt();
    await this.boot();
  }

  /**
   * Stops listening and drops every connection; containers stop. State is kept. `graceful` false is a power
   * cut, recorded as such in `stops`.
   */
  async halt(options: { graceful?: boolean } = {}): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    this.listener = undefined;
    this.stops.push({ at: Date.now(), graceful: options.graceful ?? true });
    const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.docker.powerOff();
    this.dataMounted = false;
  }

  /** Halts and forgets everything: a server that is gone. */
  async destroy(): Promise<void> {
    await this.halt();
    await this.docker.close();
    this.docker.reset();
    this.pulledModels.length = 0;
    this.pullTimeouts.clear();
    this.directories.clear();
    this.dataBindViews.clear();
    this.coolify = undefined;
    this.coolifyInstalls.length = 0;
    this.coolifyComposeOverride = undefined;
    this.hostFirewall = undefined;
    this.hostFirewallInstalls.length = 0;
  }

  /** Runs a command through the handler table, as an exec request would (without recording it). */
  async run(command: string, stdin = "", env: Record<string, string> = {}): Promise<CommandResult & { handler: string }> {
    const handler = this.handlers.find((h) => h.matches(command));
    if (!handler) return { handler: "none", exitCode: 127, stderr: `fake node: no handler for: ${command}\n` };
    try {
      return { handler: handler.name, ...(await handler.run({ node: this, command, stdin, env })) };
    } catch (err) {
      return { handler: handler.name, exitCode: 1, stderr: `fake node: handler ${handler.name} failed: ${(err as Error).message}\n` };
    }
  }

  // ---- SSH ----

  private onClient(client: Connection): void {
    let user = "";
    client.on("error", () => undefined);
    client.on("authentication", (ctx) => {
      user = ctx.username;
      this.authAttempts.push({ user: ctx.username, method: ctx.method, at: new Date() });
      // Tailscale SSH: the tailnet identity is the credential, whatever the client offers.
      ctx.accept();
    });
    client.on("ready", () => {
      client.on("session", (accept) => this.onSession(accept(), () => user));
    });
  }

  private onSession(session: Session, user: () => string): void {
    const env: Record<string, string> = {};
    session.on("env", (accept, _reject, info) => {
      env[info.key] = info.val;
      accept?.();
    });
    session.on("pty", (accept) => accept?.());
    session.on("window-change", (accept) => accept?.());
    session.on("signal", (accept) => accept?.());
    session.on("auth-agent", (_accept, reject) => reject?.());
    session.on("x11", (_accept, reject) => reject?.());
    session.on("subsystem", (_accept, reject) => reject?.());
    session.on("exec", (accept, _reject, info) => {
      const channel = accept();
      if (info.command.trim() === DIAL_STDIO) this.dialStdio(channel, user(), { ...env });
      else void this.exec(channel, info.command, user(), { ...env });
    });
    session.on("shell", (accept) => this.shell(accept(), user(), { ...env }));
  }

  private record(command: string, kind: RecordedCommand["kind"], user: string, env: Record<string, string>): RecordedCommand {
    const entry: RecordedCommand = { command, kind, user, env, stdin: "", stdout: "", stderr: "", exitCode: null, handler: "none", startedAt: new Date() };
    this.commands.push(entry);
    return entry;
  }

  private dialStdio(channel: ServerChannel, user: string, env: Record<string, string>): void {
    const entry = this.record(DIAL_STDIO, "exec", user, env);
    entry.handler = "docker-dial-stdio";
    this.docker.serve(channel, () => {
      entry.exitCode = 0;
      entry.endedAt = new Date();
      try {
        channel.exit(0);
        channel.end();
      } catch {
        // the channel is already gone
      }
    });
  }

  private async exec(channel: ServerChannel, command: string, user: string, env: Record<string, string>): Promise<void> {
    const entry = this.record(command, "exec", user, env);
    entry.stdin = await readStdin(channel);
    const result = await this.run(command, entry.stdin, env);
    entry.handler = result.handler;
    entry.stdout = result.stdout ?? "";
    entry.stderr = result.stderr ?? "";
    entry.exitCode = result.exitCode;
    entry.endedAt = new Date();
    if (entry.stdout) channel.write(entry.stdout);
    if (entry.stderr) channel.stderr.write(entry.stderr);
    channel.exit(result.exitCode);
    channel.end();
  }

  /** A line-at-a-time shell: each line goes through the handler table; `exit` or EOF ends it. */
  private shell(channel: ServerChannel, user: string, env: Record<string, string>): void {
    let buffer = "";
    let queue = Promise.resolve();
    let closed = false;
    const finish = (code: number) => {
      if (closed) return;
      closed = true;
      channel.exit(code);
      channel.end();
    };
    channel.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8").replace(/\r/g, "\n");
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line === "") continue;
        queue = queue.then(async () => {
          if (closed) return;
          if (line === "exit" || line === "logout") return finish(0);
          const entry = this.record(line, "shell", user, env);
          const result = await this.run(line, "", env);
          Object.assign(entry, { handler: result.handler, stdout: result.stdout ?? "", stderr: result.stderr ?? "", exitCode: result.exitCode, endedAt: new Date() });
          if (entry.stdout) channel.write(entry.stdout);
          if (entry.stderr) channel.stderr.write(entry.stderr);
        });
      }
    });
    channel.on("end", () => void queue.then(() => finish(0)));
  }
}

/** Standard input up to EOF (every client here sends EOF after its input), or what came within a grace time. */
function readStdin(channel: ServerChannel): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      channel.removeListener("data", onData);
      resolve(Buffer.concat(chunks).toString("utf8"));
    };
    const onData = (chunk: Buffer) => chunks.push(chunk);
    const timer = setTimeout(done, STDIN_GRACE_MS);
    channel.on("data", onData);
    channel.once("end", done);
  });
}

// ---- the commands the program runs (components/readiness.ts, services/inference.ts, services/operations.ts) ----

/** What `docker exec ollama ...` answers when ollama is missing or stopped, as the Docker CLI prints it. */
function ollamaUnavailable(node: FakeNode): string | undefined {
  const ollama = node.docker.containerByName("ollama");
  if (!ollama) return "Error response from daemon: No such container: ollama\n";
  if (ollama.state.status !== "running") return `Error response from daemon: container ${ollama.id} is not running\n`;
  return undefined;
}

const MODEL = "([A-Za-z0-9._:/-]+)";
/** services/models.ts pullScript: the bound in seconds, then the model. */
const OLLAMA_PULL = new RegExp(
  `^out=\\$\\(docker exec ollama timeout --kill-after=30 (\\d+) ollama pull ${MODEL} 2>&1\\) \\|\\| \\{ status=\\$\\?; .* exit 1; \\}$`,
);

export function defaultHandlers(): CommandHandler[] {
  return [
    {
      // components/readiness.ts: wait for cloud-init and the bootstrap marker, print Docker's version.
      name: "bootstrap-wait",
      matches: (command) => command === bootstrapWaitScript(),
      run: ({ node }) =>
        node.bootstrapped
          ? { stdout: `${node.dockerVersion}\n`, exitCode: 0 }
          : { stderr: "bootstrap did not finish: see /var/log/cloud-init-output.log\n", exitCode: 1 },
    },
    {
      // services/models.ts: one pull per model, into the running ollama container, bounded by `timeout` inside
      // it; the script keeps the pull's progress to itself and prints only a failure, on stderr.
      name: "ollama-pull",
      matches: (command) => OLLAMA_PULL.test(command),
      run: ({ node, command }) => {
        const [, seconds, model] = OLLAMA_PULL.exec(command) as RegExpExecArray;
        const unavailable = ollamaUnavailable(node);
        if (unavailable) return { stderr: `ollama pull ${model} failed (exit 1; 124: not done within ${seconds} s):\n${unavailable}`, exitCode: 1 };
        if (!node.pulledModels.includes(model)) node.pulledModels.push(model);
        node.pullTimeouts.set(model, Number(seconds));
        return { exitCode: 0 };
      },
    },
    {
      // services/inference.ts: the pull's delete step; `|| true` makes every failure exit 0.
      name: "ollama-rm",
      matches: (command) => new RegExp(`^docker exec ollama ollama rm ${MODEL} \\|\\| true$`).test(command),
      run: ({ node, command }) => {
        const model = new RegExp(`^docker exec ollama ollama rm ${MODEL}`).exec(command)?.[1] as string;
        const unavailable = ollamaUnavailable(node);
        if (unavailable) return { stderr: unavailable, exitCode: 0 };
        const index = node.pulledModels.indexOf(model);
        if (index < 0) return { stderr: `Error: model '${model}' not found\n`, exitCode: 0 };
        node.pulledModels.splice(index, 1);
        return { stdout: `deleted '${model}'\n`, exitCode: 0 };
      },
    },
    {
      // services/operations.ts: the data directories, `install -d -m MODE -o UID -g GID DIR...` joined by &&.
      name: "install-dirs",
      matches: (command) => command.split(" && ").every((part) => INSTALL_DIRS.test(part)),
      run: ({ node, command }) => {
        for (const part of command.split(" && ")) {
          const [, mode, owner, group, dirs] = INSTALL_DIRS.exec(part) as RegExpExecArray;
          for (const dir of dirs.trim().split(/\s+/)) {
            const onVolume = node.dataVolumePath(dir);
            if (onVolume !== undefined && !node.dataMounted) {
              // The unmounted mount point is immutable (chattr +i in the bootstrap).
              return { stderr: `install: cannot create directory '${dir}': Operation not permitted\n`, exitCode: 1 };
            }
            if (onVolume !== undefined) node.dataVolume.mkdir(onVolume);
            node.directories.set(dir, { mode, owner, group });
          }
        }
        return { exitCode: 0 };
      },
    },
    {
      // render/coolify.ts: install or upgrade, unattended; the password arrives on standard input. The script
      // writes Coolify's compose override, runs the installer when another version runs (or none) or when the
      // override changed, then checks what runs; here the node records what the installer was asked for. (The
      // fake cannot run the script itself: it needs Docker, Coolify's installer from its CDN, and root's files.)
      name: "coolify-install",
      matches: (command) => command.startsWith("#!/usr/bin/env bash") && command.includes(COOLIFY_INSTALLER_URL),
      run: ({ node, command, stdin }) => {
        const quoted = (name: string) => new RegExp(`^(?:export )?${name}='([^']*)'$`, "m").exec(command)?.[1];
        const version = quoted("version");
        const tailnetAddress = quoted("tailnet_address");
        const passwordOnStdin = /^ROOT_USER_PASSWORD=.+$/m.test(stdin);
        if (!passwordOnStdin) return { stderr: "bash: line 20: ROOT_USER_PASSWORD: the root password must arrive on standard input\n", exitCode: 1 };
        if (!version || !tailnetAddress) return { stderr: "fake node: the Coolify script names no version or tailnet address\n", exitCode: 1 };
        const override = /^if put \/data\/coolify\/source\/docker-compose\.custom\.yml <<'YAML'\n([\s\S]*?)\nYAML$/m.exec(command)?.[1];
        const changed = override !== node.coolifyComposeOverride;
        node.coolifyComposeOverride = override;
        if (node.coolify?.version === version && !changed) return { stdout: `coolify: ${version} is installed\n`, exitCode: 0 };
        const install: CoolifyInstall = {
          version,
          adminEmail: quoted("ROOT_USER_EMAIL") ?? "",
          dockerAddressPoolBase: quoted("DOCKER_ADDRESS_POOL_BASE") ?? "",
          tailnetAddress,
          passwordOnStdin,
          at: new Date(),
        };
        node.coolifyInstalls.push(install);
        node.coolify = install;
        return { stdout: `coolify: installing ${version} (running: ${node.coolifyInstalls.length > 1 ? "an older one" : "nothing"})\ncoolify: ${version}, its UI on http://${tailnetAddress}:8000\n`, exitCode: 0 };
      },
    },
    {
      // render/backup.ts: installs the backup programs, their settings and the nightly timer; the secrets come on
      // standard input as KEY='value' lines, and the script stops without the repository password. The node
      // records what it was given (the fake cannot run the script: it needs apt, Docker's restic image, systemd).
      name: "backup-install",
      matches: (command) => command.startsWith("#!/usr/bin/env bash") && command.includes(`ln -sfn ${BACKUP_PROGRAM_DIR}/backup ${BACKUP_COMMAND}`),
      run: ({ node, command, stdin }) => {
        const secrets = shellAssignments(stdin);
        if (!secrets.REPOSITORY_PASSWORD) {
          return { stderr: "bash: line 15: REPOSITORY_PASSWORD: the repository password must arrive on standard input\n", exitCode: 1 };
        }
        const file = (target: string) =>
          new RegExp(`^cat > '${target.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}' <<'AI_PLATFORM_BACKUP_FILE'\n([\\s\\S]*?)\nAI_PLATFORM_BACKUP_FILE$`, "m").exec(command)?.[1];
        const settings = file(BACKUP_ENV_FILE);
        const timer = file(`/etc/systemd/system/${BACKUP_UNIT}.timer`);
        if (settings === undefined || timer === undefined) return { stderr: "fake node: the backup install writes no settings or no timer\n", exitCode: 1 };
        node.backup = { settings: shellAssignments(settings), secrets, timer, at: new Date() };
        node.backupInstalls.push(node.backup);
        return { stdout: `backup: installed, the timer ${BACKUP_UNIT}.timer enabled\n`, exitCode: 0 };
      },
    },
    {
      // render/hostFirewall.ts: writes the rules' script and its units, and applies the rules.
      name: "host-firewall-install",
      matches: (command) => command.startsWith("#!/usr/bin/env bash") && command.includes(`cat >${HOST_FIREWALL_SCRIPT_PATH}.new <<'SCRIPT'`),
      run: ({ node, command }) => {
        const script = /<<'SCRIPT'\n([\s\S]*?)\nSCRIPT$/m.exec(command)?.[1];
        if (!script) return { stderr: "fake node: the host firewall install carries no script\n", exitCode: 1 };
        node.hostFirewall = { script, at: new Date() };
        node.hostFirewallInstalls.push(node.hostFirewall);
        return { stdout: "host-firewall: applied\n", exitCode: 0 };
      },
    },
  ];
}

const INSTALL_DIRS = /^install -d -m (0?[0-7]{3,4}) -o (\d+) -g (\d+) ((?:\/\S+\s*)+)$/;

/** KEY='value' lines, as bash reads them (single quotes, a quote inside written '\''); other lines are ignored. */
function shellAssignments(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)='((?:[^']|'\\'')*)'$/.exec(line);
    if (m) values[m[1]] = m[2].replace(/'\\''/g, "'");
  }
  return values;
}
