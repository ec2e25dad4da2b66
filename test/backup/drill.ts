/**
 * The real programs a restore drill runs against, on loopback: an OpenSSH sftp server with two chrooted
 * users standing for two Storage Box sub-accounts, a Postgres cluster standing for LiteLLM's database, a
 * stand-in serving Qdrant's snapshot endpoints, and a `docker` that runs `docker exec`'s command on this
 * machine (the node runs Postgres in a container; here it runs beside the test). Needs root: sshd's chroot and
 * its password check, and running Postgres as its own user.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { BACKUP_PROGRAMS, BackupNodeSpec, renderBackupEnv } from "../../components/render/backup";
import { PROJECT_ROOT } from "../harness";

export const TOOLS_BIN = path.join(PROJECT_ROOT, ".tools", "bin");

/** Fails, never skips, when a program of the drill is missing. */
export function requireProgram(name: string, candidates: string[]): string {
  const found = candidates.find((c) => fs.existsSync(c));
  assert.ok(found, `${name} is missing (looked at ${candidates.join(", ")}): install it with \`bash .ci/install-validators.sh\` (these tests never skip)`);
  return found;
}

export function requireRoot(): void {
  assert.equal(process.getuid?.(), 0, "the restore drill needs root (sshd's chroot and password check, Postgres as its own user): run it as root");
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; user?: string } = {}) {
  const full = opts.user ? ["runuser", ["-u", opts.user, "--", cmd, ...args]] as const : [cmd, args] as const;
  const r = spawnSync(full[0], full[1], { encoding: "utf8", env: opts.env ?? process.env, input: opts.input });
  assert.equal(r.error, undefined, `could not run ${cmd}: ${String(r.error)}`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function mustRun(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): string {
  const r = run(cmd, args, opts);
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Runs a program without blocking the event loop (the Qdrant stand-in answers from this process). */
export function runAsync(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

async function waitForPort(port: number, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.end();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what} did not listen on 127.0.0.1:${port}`);
}

/** A directory whose every component is root's and not writable by others, as sshd's chroot wants. */
export function rootOwnedTempDir(): string {
  const dir = fs.mkdtempSync("/var/lib/ai-platform-drill-");
  fs.chmodSync(dir, 0o755);
  return dir;
}

export interface SftpAccount {
  user: string;
  password: string;
  /** The account's directory as this machine sees it (its chroot's data directory). */
  home: string;
}

/** OpenSSH's sshd on a loopback port, with internal-sftp and one chrooted, password-only user per account. */
export class SftpServer {
  readonly accounts: Record<string, SftpAccount> = {};
  port = 0;
  private process?: ReturnType<typeof spawn>;

  constructor(private readonly root: string, private readonly names: string[]) {}

  async start(): Promise<void> {
    const sshd = requireProgram("OpenSSH's sshd (Debian openssh-server)", ["/usr/sbin/sshd"]);
    const dir = path.join(this.root, "sshd");
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    mustRun("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host_key")]);
    const suffix = randomBytes(3).toString("hex");
    for (const name of this.names) {
      const user = `drill${name}${suffix}`;
      const password = randomBytes(18).toString("base64url");
      mustRun("useradd", ["-M", "-N", "-d", "/data", "-s", "/usr/sbin/nologin", user]);
      mustRun("chpasswd", [], { input: `${user}:${password}\n` });
      const chroot = path.join(this.root, "sftp", user);
      fs.mkdirSync(path.join(chroot, "data"), { recursive: true });
      fs.chmodSync(path.join(this.root, "sftp"), 0o755);
      fs.chmodSync(chroot, 0o755);
      mustRun("chown", [user, path.join(chroot, "data")]);
      fs.chmodSync(path.join(chroot, "data"), 0o700);
      this.accounts[name] = { user, password, home: path.join(chroot, "data") };
    }
    this.port = await freePort();
    const config = [
      `Port ${this.port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${path.join(dir, "host_key")}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      "UsePAM no",
      "PasswordAuthentication yes",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication no",
      "PermitRootLogin no",
      `AllowUsers ${Object.values(this.accounts).map((a) => a.user).join(" ")}`,
      "AllowTcpForwarding no",
      "X11Forwarding no",
      "Subsystem sftp internal-sftp",
      // Each user sees its own directory only, as a Storage Box sub-account sees its home directory.
      `ChrootDirectory ${path.join(this.root, "sftp")}/%u`,
      "ForceCommand internal-sftp -d /data",
      "",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "sshd_config"), config);
    mustRun(sshd, ["-t", "-f", path.join(dir, "sshd_config")]);
    this.process = spawn(sshd, ["-D", "-e", "-f", path.join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
    this.process.stderr?.on("data", () => undefined);
    await waitForPort(this.port, "sshd");
  }

  url(account: string, repoPath: string): string {
    return `sftp://${this.accounts[account].user}@127.0.0.1:${this.port}/${repoPath}`;
  }

  stop(): void {
    this.process?.kill("SIGTERM");
    for (const a of Object.values(this.accounts)) run("userdel", [a.user]);
  }
}

/** A Postgres cluster on a Unix socket, run as the postgres user, with LiteLLM's role and database. */
export class PostgresCluster {
  readonly socketDir: string;
  readonly port = 5432;
  private readonly dataDir: string;
  private readonly bin: (name: string) => string;

  constructor(root: string) {
    const initdb = requireProgram("Postgres's initdb (Debian postgresql)", [
      "/usr/local/bin/initdb",
      ...fs.readdirSync("/usr/lib/postgresql", { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `/usr/lib/postgresql/${d.name}/bin/initdb`),
    ]);
    const binDir = path.dirname(fs.realpathSync(initdb));
    this.bin = (name) => path.join(binDir, name);
    this.dataDir = path.join(root, "pgdata");
    this.socketDir = path.join(root, "pgsocket");
  }

  start(): void {
    for (const d of [this.dataDir, this.socketDir]) {
      fs.mkdirSync(d, { mode: 0o700 });
      mustRun("chown", ["postgres", d]);
    }
    mustRun(this.bin("initdb"), ["-D", this.dataDir, "-A", "trust", "-U", "postgres"], { user: "postgres" });
    mustRun(this.bin("pg_ctl"), ["-D", this.dataDir, "-w", "-l", path.join(this.dataDir, "log"), "-o", `-k ${this.socketDir} -h '' -p ${this.port}`, "start"], { user: "postgres" });
    this.psql("postgres", "postgres", "CREATE ROLE litellm LOGIN;");
    this.psql("postgres", "postgres", "CREATE DATABASE litellm OWNER litellm;");
  }

  /** What `docker exec` is given on the node, run here: Postgres's client programs reach this cluster. */
  get clientEnv(): Record<string, string> {
    return { PGHOST: this.socketDir, PGPORT: String(this.port) };
  }

  psql(user: string, db: string, sql: string): string {
    return mustRun("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", this.socketDir, "-p", String(this.port), "-U", user, "-d", db, "-c", sql]);
  }

  stop(): void {
    run(this.bin("pg_ctl"), ["-D", this.dataDir, "-m", "immediate", "stop"], { user: "postgres" });
  }
}

interface Point {
  id: number;
  vector: number[];
  payload: Record<string, string>;
}

/**
 * Qdrant's snapshot endpoints as its OpenAPI documents them (docs/redoc/master/openapi.json, qdrant v1.19.0,
 * the newest the mirror holds; the stack runs 1.20.0): list collections, create, download and delete a
 * collection's snapshot, and recover a collection from an uploaded one (multipart field `snapshot`). Every
 * call needs the `api-key` header. A snapshot here is the collection's points as JSON.
 */
export class QdrantStandIn {
  readonly collections = new Map<string, Point[]>();
  readonly snapshots = new Map<string, Buffer>();
  readonly calls: string[] = [];
  port = 0;
  private server?: http.Server;

  constructor(private readonly apiKey: string) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.handle(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", this.url);
    this.calls.push(`${req.method} ${url.pathname}${url.search}`);
    const reply = (status: number, result: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(status < 300 ? { result, status: "ok", time: 0.001 } : { status: { error: String(result) }, time: 0.001 }));
    };
    if (req.headers["api-key"] !== this.apiKey) return reply(401, "Must provide an API key or an Authorization bearer token");
    const parts = url.pathname.split("/").filter(Boolean);
    if (req.method === "GET" && url.pathname === "/collections") {
      return reply(200, { collections: [...this.collections.keys()].map((name) => ({ name })) });
    }
    if (parts[0] !== "collections" || parts[2] !== "snapshots") return reply(404, "not found");
    const name = decodeURIComponent(parts[1]);
    if (req.method === "POST" && parts.length === 3) {
      const points = this.collections.get(name);
      if (!points) return reply(404, `Collection \`${name}\` doesn't exist!`);
      const snapshotName = `${name}-${this.snapshots.size + 1}-2026-11-27-03-00-00.snapshot`;
      const data = Buffer.from(JSON.stringify(points));
      this.snapshots.set(`${name}/${snapshotName}`, data);
      return reply(200, { name: snapshotName, creation_time: "2026-11-27T03:00:00", size: data.length, checksum: null });
    }
    if (parts.length === 4 && parts[3] === "upload" && req.method === "POST") {
      const file = multipartFile(req.headers["content-type"] ?? "", body, "snapshot");
      if (!file) return reply(400, "no snapshot in the form");
      this.collections.set(name, JSON.parse(file.toString("utf8")) as Point[]);
      return reply(200, true);
    }
    const key = `${name}/${decodeURIComponent(parts[3] ?? "")}`;
    if (req.method === "GET" && parts.length === 4) {
      const data = this.snapshots.get(key);
      if (!data) return reply(404, "snapshot not found");
      res.writeHead(200, { "content-type": "application/octet-stream" });
      return void res.end(data);
    }
    if (req.method === "DELETE" && parts.length === 4) {
      return reply(this.snapshots.delete(key) ? 200 : 404, true);
    }
    return reply(404, "not found");
  }

  stop(): void {
    this.server?.close();
  }
}

/** One file field of a multipart/form-data body. */
function multipartFile(contentType: string, body: Buffer, field: string): Buffer | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2);
    const headerEnd = part.indexOf("\r\n\r\n");
    const headers = part.subarray(0, headerEnd).toString("utf8");
    if (new RegExp(`name="${field}"`).test(headers)) return part.subarray(headerEnd + 4);
    start = next;
  }
  return undefined;
}

/** A `docker` for the drill: `exec` runs the command here (reaching the drill's Postgres); every call is logged. */
export function dockerShim(dir: string, log: string, postgresEnv: Record<string, string>): string {
  const bin = path.join(dir, "shim-bin");
  fs.mkdirSync(bin, { recursive: true });
  const env = Object.entries(postgresEnv).map(([k, v]) => `${k}='${v}'`).join(" ");
  fs.writeFileSync(
    path.join(bin, "docker"),
    [
      "#!/bin/bash",
      "set -euo pipefail",
      `printf '%s\\n' "$*" >>'${log}'`,
      'case "$1" in',
      '  exec) shift; if [ "$1" = -i ]; then shift; fi; shift; exec env ' + env + ' "$@" ;;',
      "  stop|start|restart) ;;",
      '  *) echo "docker (drill): $1 is not part of the drill" >&2; exit 1 ;;',
      "esac",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return bin;
}

/** The node's programs as the install script writes them, in a directory of the drill. */
export function installPrograms(dir: string): string {
  const programs = path.join(dir, "programs");
  fs.mkdirSync(programs, { recursive: true });
  for (const [name, text] of Object.entries(BACKUP_PROGRAMS)) fs.writeFileSync(path.join(programs, name), text, { mode: 0o755 });
  return programs;
}

/**
 * The node's env file as rendered for the spec, with the drill's directories in place of the node's (later
 * assignments win when the programs source it).
 */
export function writeEnv(file: string, spec: BackupNodeSpec, overrides: Record<string, string>): void {
  const lines = Object.entries(overrides).map(([k, v]) => `${k}='${v}'`);
  fs.writeFileSync(file, `${renderBackupEnv(spec)}${lines.join("\n")}\n`);
}
