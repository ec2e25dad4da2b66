/**
 * A fake Docker Engine: the HTTP API that `docker system dial-stdio` exposes on a node, kept in memory.
 *
 * It implements the calls the Docker provider (kreuzwerker terraform-provider-docker v4.5.0, inside
 * pulumi-resource-docker 5.2.0, with the Docker Go client v28.5.2) and the Docker CLI make for what this
 * project declares: ping and version negotiation, images (pull, inspect, list, remove, distribution),
 * networks, volumes, and containers (create, inspect, list, start, stop, kill, restart, wait, rename, update,
 * remove, logs, archive upload and download). Nothing runs: a started container is "running" and that is all.
 *
 * Where the provider reads back what it sent (container inspect after create, on refresh), the answer is
 * what a Docker 28 daemon answers: the config as sent, with the defaults the daemon adds
 * (moby daemon/daemon_unix.go adaptContainerSettings: MemorySwap = 2 x Memory, ShmSize 64 MiB, IpcMode
 * "private", CgroupnsMode "private"; log driver json-file; runtime runc; Hostname = short id). Durations
 * stay nanoseconds, as Go's time.Duration marshals them.
 *
 * It refuses what Docker refuses where it matters to the program, each with the status and message of the
 * Engine API reference (api/docs/v1.51.yaml in moby/moby) or of the daemon's source where the reference is
 * silent. Anything else answers 501 "fake docker: not implemented: ..." so a gap shows as a gap.
 *
 * Every request is logged in `requests` (method, path without the version prefix, API version, status).
 */
import * as crypto from "node:crypto";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { Duplex } from "node:stream";

/** The Engine API version of Docker 28.5 (moby api/docs/v1.51.yaml). */
export const DEFAULT_API_VERSION = "1.51";
/** The oldest API version Docker 28 accepts. */
const MIN_API_VERSION = "1.24";
const MIB = 1024 * 1024;
/** moby daemon/daemon_unix.go: linuxMinMemory. */
const LINUX_MIN_MEMORY = 6291456;
/** moby daemon/config: DefaultShmSize. */
const DEFAULT_SHM_SIZE = 64 * MIB;
const ZERO_TIME = "0001-01-01T00:00:00Z";
const PREDEFINED_NETWORKS = ["bridge", "host", "none"];

export interface DockerRequest {
  method: string;
  /** The path without the /v1.NN prefix, e.g. "/containers/create". */
  path: string;
  /** The version prefix the client used, e.g. "1.51"; null for an unversioned path such as /_ping. */
  apiVersion: string | null;
  query: Record<string, string>;
  status: number;
  at: Date;
}

export interface FakeImage {
  id: string;
  /** Familiar references, as Docker lists them: "prom/node-exporter:v1.12.1", "ghcr.io/google/cadvisor:v0.60.6". */
  repoTags: string[];
  repoDigests: string[];
  created: string;
  size: number;
}

export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}

export interface HealthConfig {
  Test?: string[] | null;
  /** Nanoseconds. */
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The part of a container's Config this fake reads; the rest is kept as sent. */
export interface ContainerConfig {
  Image: string;
  Hostname?: string;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  Healthcheck?: HealthConfig | null;
  User?: string;
  WorkingDir?: string;
  [key: string]: unknown;
}

export interface MountSpec {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  [key: string]: unknown;
}

/** The part of a container's HostConfig this fake reads; the rest is kept as sent. */
export interface HostConfig {
  Binds?: string[] | null;
  Mounts?: MountSpec[] | null;
  PortBindings?: Record<string, PortBinding[] | null> | null;
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  ShmSize?: number;
  IpcMode?: string;
  CgroupnsMode?: string;
  NetworkMode?: string;
  PidMode?: string;
  Privileged?: boolean;
  AutoRemove?: boolean;
  Runtime?: string;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
  LogConfig?: { Type?: string; Config?: Record<string, string> | null };
  [key: string]: unknown;
}

export interface Endpoint {
  networkId: string;
  endpointId: string;
  aliases: string[];
  ipAddress: string;
  macAddress: string;
  /** The EndpointSettings as the client sent them. */
  settings: Record<string, unknown>;
}

export interface UploadedFile {
  path: string;
  type: "file" | "directory" | "symlink";
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  linkTarget?: string;
}

export interface FakeContainer {
  id: string;
  /** Without Docker's leading slash. */
  name: string;
  created: string;
  imageId: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** Network name -> endpoint. */
  networks: Map<string, Endpoint>;
  state: {
    status: "created" | "running" | "exited";
    exitCode: number;
    pid: number;
    startedAt: string;
    finishedAt: string;
    /** Stopped through the API (as opposed to by a halt): "unless-stopped" then keeps it stopped. */
    stoppedByUser: boolean;
    /** Why its last start failed (inspect's State.Error); cleared by a start that succeeds. */
    error?: string;
  };
  /** Files written through PUT /containers/{id}/archive, by absolute path. */
  files: Map<string, UploadedFile>;
  /** Config.Volumes paths no bind or mount covers get an anonymous volume each: path -> volume name. */
  anonymousVolumes: Map<string, string>;
  restartCount: number;
}

export interface FakeNetwork {
  id: string;
  name: string;
  driver: string;
  created: string;
  internal: boolean;
  attachable: boolean;
  ingress: boolean;
  enableIPv6: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  ipam: { Driver: string; Options: Record<string, string> | null; Config: Record<string, unknown>[] };
  predefined: boolean;
  /** Third octet counter for addresses handed out on this network's /16. */
  nextHost: number;
  subnetBase: string;
}

export interface FakeVolume {
  name: string;
  driver: string;
  created: string;
  labels: Record<string, string>;
  options: Record<string, string> | null;
}

/** A published port: HostIp:HostPort -> port/protocol. */
export interface PublishedPort {
  hostIp: string;
  hostPort: number;
  port: number;
  protocol: string;
}

/** A host path or volume the container sees, from Binds and Mounts. */
export interface ContainerMount {
  type: "bind" | "volume" | "tmpfs";
  source: string;
  destination: string;
  readOnly: boolean;
}

export interface FakeDockerEngineOptions {
  /** The daemon's version, e.g. "28.5.1". */
  version?: string;
  apiVersion?: string;
  /** The node's host name (Info.Name). */
  hostname?: string;
  /**
   * The addresses the node owns. Publishing a port on another address fails at start, as it does on a real
   * host ("cannot assign requested address"). 0.0.0.0, :: and "" always work.
   */
  hostAddresses?: () => string[];
  /** Whether a reference can be pulled; by default every reference can. */
  pullable?: (reference: string) => boolean;
  /**
   * What the host does with a container's bind mounts as the container starts (the daemon creates a missing
   * source directory, then binds what is there): throws, with the daemon's message, when a source cannot be
   * made, and the start fails. By default every bind works.
   */
  prepareBinds?: (container: FakeContainer, binds: ContainerMount[]) => void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const hex64 = () => crypto.randomBytes(32).toString("hex");
const sha256 = (text: string) => crypto.createHash("sha256").update(text).digest("hex");
const now = () => new Date().toISOString();

/** A parsed image reference, normalized as Docker normalizes it (docker.io, library/, latest). */
export interface ImageReference {
  /** e.g. "docker.io/prom/node-exporter" */
  name: string;
  tag: string;
  digest?: string;
  /** The form Docker shows in RepoTags: "prom/node-exporter:v1.12.1", "nginx:latest". */
  familiar: string;
  /** "prom/node-exporter" */
  familiarName: string;
}

export function parseReference(reference: string): ImageReference {
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  const hasDomain = slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  let domain = hasDomain ? first : "docker.io";
  let remainder = hasDomain ? rest.slice(slash + 1) : rest;
  const colon = remainder.lastIndexOf(":");
  let tag = "latest";
  if (colon >= 0) {
    tag = remainder.slice(colon + 1);
    remainder = remainder.slice(0, colon);
  }
  if (domain === "index.docker.io") domain = "docker.io";
  if (domain === "docker.io" && !remainder.includes("/")) remainder = `library/${remainder}`;
  const name = `${domain}/${remainder}`;
  const familiarName = domain === "docker.io" ? remainder.replace(/^library\//, "") : name;
  return { name, tag, digest, familiar: `${familiarName}:${tag}`, familiarName };
}

function parseFilters(raw: string | undefined): Record<string, string[]> {
  if (!raw) return {};
  const parsed = JSON.parse(raw) as Record<string, string[] | Record<string, boolean>>;
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(parsed)) {
    out[key] = Array.isArray(value) ? value : Object.keys(value).filter((k) => value[k]);
  }
  return out;
}

/** Docker's "empty means the default" for strings. */
const orDefault = (value: string | null | undefined, fallback: string): string =>
  value === undefined || value === null || value === "" ? fallback : value;

const truthy = (v: string | undefined) => v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";

// ---- tar ----

interface TarEntry {
  name: string;
  type: "file" | "directory" | "symlink" | "other";
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  data: Buffer;
  linkname: string;
}

const cString = (buf: Buffer, start: number, length: number) => {
  const field = buf.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString("utf8");
};
const octal = (buf: Buffer, start: number, length: number) => {
  const text = cString(buf, start, length).trim();
  return text === "" ? 0 : parseInt(text, 8);
};

/** Reads a ustar/PAX/GNU tar stream, as Go's archive/tar writes it. */
export function parseTar(buf: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  while (offset + 512 <= buf.length) {
    const header = buf.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = pax.size ? parseInt(pax.size, 10) : octal(header, 124, 12);
    const typeflag = header[156] === 0 ? "0" : String.fromCharCode(header[156]);
    const data = buf.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (typeflag === "x") {
      pax = {};
      let text = data.toString("utf8");
      while (text.length > 0) {
        const space = text.indexOf(" ");
        const length = parseInt(text.slice(0, space), 10);
        const record = text.slice(space + 1, length - 1);
        const eq = record.indexOf("=");
        pax[record.slice(0, eq)] = record.slice(eq + 1);
        text = text.slice(length);
      }
      continue;
    }
    if (typeflag === "g") continue;
    if (typeflag === "L") {
      longName = cString(data, 0, data.length);
      continue;
    }
    if (typeflag === "K") {
      longLink = cString(data, 0, data.length);
      continue;
    }
    const magic = cString(header, 257, 6);
    const prefix = magic.startsWith("ustar") ? cString(header, 345, 155) : "";
    const baseName = cString(header, 0, 100);
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${baseName}` : baseName);
    const type = typeflag === "0" || typeflag === "7" ? "file" : typeflag === "5" ? "directory" : typeflag === "2" ? "symlink" : "other";
    entries.push({
      name,
      type,
      mode: octal(header, 100, 8) & 0o7777,
      uid: pax.uid ? parseInt(pax.uid, 10) : octal(header, 108, 8),
      gid: pax.gid ? parseInt(pax.gid, 10) : octal(header, 116, 8),
      mtime: new Date((pax.mtime ? parseFloat(pax.mtime) : octal(header, 136, 12)) * 1000),
      data: Buffer.from(data),
      linkname: pax.linkpath ?? longLink ?? cString(header, 157, 100),
    });
    pax = {};
    longName = undefined;
    longLink = undefined;
  }
  return entries;
}

/** One ustar entry (names up to 100 bytes, which is all GET /archive needs here). */
function tarEntry(name: string, content: Buffer, mode: number, uid: number, gid: number, mtime: Date, type: "0" | "5" | "2", link = ""): Buffer {
  const header = Buffer.alloc(512);
  const put = (text: string, start: number, length: number) => header.write(text, start, length, "utf8");
  const num = (value: number, start: number, length: number) => put(value.toString(8).padStart(length - 1, "0") + "\0", start, length);
  put(name.slice(0, 100), 0, 100);
  num(mode, 100, 8);
  num(uid, 108, 8);
  num(gid, 116, 8);
  num(type === "0" ? content.length : 0, 124, 12);
  num(Math.floor(mtime.getTime() / 1000), 136, 12);
  put("        ", 148, 8);
  put(type, 156, 1);
  put(link.slice(0, 100), 157, 100);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  const body = type === "0" ? content : Buffer.alloc(0);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding]);
}

// ---- the socket the HTTP server reads from ----

/**
 * A duplex stream (an SSH channel) dressed as the socket Node's HTTP server expects: the socket methods it
 * calls become no-ops, and the end of the HTTP conversation ends the stream.
 */
class StreamSocket extends Duplex {
  readonly remoteAddress = "127.0.0.1";
  readonly remotePort = 0;
  readonly localAddress = "127.0.0.1";
  readonly localPort = 0;
  readonly encrypted = false;

  constructor(
    private readonly inner: Duplex,
    private readonly onEnd: () => void,
  ) {
    super({ allowHalfOpen: true });
    inner.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) inner.pause();
    });
    inner.on("end", () => this.push(null));
    inner.on("close", () => this.destroy());
    inner.on("error", (err: Error) => this.destroy(err));
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.inner.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.onEnd();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.onEnd();
    callback(error);
  }

  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  address(): net.AddressInfo {
    return { address: this.localAddress, family: "IPv4", port: this.localPort };
  }
}

// ---- the engine ----

type Handler = (ctx: RequestContext) => void | Promise<void>;

interface RequestContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  params: string[];
  query: Record<string, string>;
  body: Buffer;
}

export class FakeDockerEngine {
  readonly version: string;
  readonly apiVersion: string;
  readonly requests: DockerRequest[] = [];
  readonly images = new Map<string, FakeImage>();
  readonly networks = new Map<string, FakeNetwork>();
  readonly volumes = new Map<string, FakeVolume>();
  readonly containers = new Map<string, FakeContainer>();
  private readonly server: http.Server;
  private readonly routes: [string, RegExp, Handler][] = [];
  private readonly waiters = new Set<() => void>();
  private networkCount = 0;

  constructor(private readonly options: FakeDockerEngineOptions = {}) {
    this.version = options.version ?? "28.5.1";
    this.apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
    this.server = http.createServer((req, res) => void this.dispatch(req, res));
    this.server.keepAliveTimeout = 0;
    this.defineRoutes();
    this.reset();
  }

  /** Forgets everything: no images, no containers, no volumes, only the predefined networks. */
  reset(): void {
    this.images.clear();
    this.containers.clear();
    this.volumes.clear();
    this.networks.clear();
    this.networkCount = 0;
    for (const name of PREDEFINED_NETWORKS) {
      this.addNetwork({ Name: name, Driver: name === "bridge" ? "bridge" : name === "host" ? "host" : "null" }, true);
    }
    this.notify();
  }

  /** Serves the Engine API on a stream (the stdio of `docker system dial-stdio`); `onEnd` runs when it closes. */
  serve(stream: Duplex, onEnd: () => void = () => {}): void {
    let ended = false;
    const socket = new StreamSocket(stream, () => {
      if (ended) return;
      ended = true;
      onEnd();
    });
    this.server.emit("connection", socket);
  }

  /** Also serves the API on a TCP port (for poking at it with curl or `docker -H tcp://`). */
  async listen(port = 0, host = "127.0.0.1"): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
  }

  // ---- inspection helpers ----

  containerByName(name: string): FakeContainer | undefined {
    return [...this.containers.values()].find((c) => c.name === name.replace(/^\//, ""));
  }

  /** The user-defined networks (not bridge, host, none). */
  userNetworks(): FakeNetwork[] {
    return [...this.networks.values()].filter((n) => !n.predefined);
  }

  networkByName(name: string): FakeNetwork | undefined {
    return [...this.networks.values()].find((n) => n.name === name);
  }

  /** The ports a container publishes, from its HostConfig.PortBindings. */
  publishedPorts(container: FakeContainer): PublishedPort[] {
    const out: PublishedPort[] = [];
    for (const [key, bindings] of Object.entries(container.hostConfig.PortBindings ?? {})) {
      const [port, protocol = "tcp"] = key.split("/");
      for (const b of bindings ?? []) {
        out.push({ hostIp: b.HostIp ?? "", hostPort: Number(b.HostPort ?? 0), port: Number(port), protocol });
      }
    }
    return out;
  }

  /** "127.0.0.1:9100->9100/tcp", as `docker ps` shows them. */
  publishedAddresses(container: FakeContainer): string[] {
    return this.publishedPorts(container).map((p) => `${p.hostIp || "0.0.0.0"}:${p.hostPort}->${p.port}/${p.protocol}`);
  }

  /** Bind mounts and volumes, from HostConfig.Binds and HostConfig.Mounts. */
  mounts(container: FakeContainer): ContainerMount[] {
    const out: ContainerMount[] = [];
    for (const bind of container.hostConfig.Binds ?? []) {
      const [source, destination, mode = "rw"] = bind.split(":");
      out.push({ type: source.startsWith("/") ? "bind" : "volume", source, destination, readOnly: mode.split(",").includes("ro") });
    }
    for (const m of container.hostConfig.Mounts ?? []) {
      out.push({
        type: (m.Type ?? "volume") as ContainerMount["type"],
        source: m.Source ?? "",
        destination: m.Target ?? "",
        readOnly: m.ReadOnly ?? false,
      });
    }
    for (const [destination, source] of container.anonymousVolumes) out.push({ type: "volume", source, destination, readOnly: false });
    return out;
  }

  /** The text of a file uploaded into a container, or undefined. */
  fileText(container: FakeContainer, filePath: string): string | undefined {
    return container.files.get(path.posix.normalize(filePath))?.content.toString("utf8");
  }

  /** Whether a container is running. */
  isRunning(name: string): boolean {
    return this.containerByName(name)?.state.status === "running";
  }

  /** Stops every running container, as a host shutdown does (state kept: not "stopped by the user"). */
  powerOff(): void {
    for (const c of this.containers.values()) {
      if (c.state.status === "running") this.setStopped(c, 0, false);
    }
  }

  /**
   * What the daemon does when the host boots: restarts containers whose restart policy asks for it. A start
   * that fails is logged and not retried (moby daemon/daemon.go restore: "failed to start container"); the
   * container stays exited with the error and exit code 128 (daemon/start.go containerStart: exitUnknown).
   */
  powerOn(): void {
    for (const c of this.containers.values()) {
      const policy = c.hostConfig.RestartPolicy?.Name ?? "no";
      if (c.state.status !== "running" && (policy === "always" || (policy === "unless-stopped" && !c.state.stoppedByUser))) {
        try {
          this.startContainer(c);
        } catch (err) {
          this.setStopped(c, 128, false);
          c.state.error = (err as Error).message;
        }
      }
    }
  }

  // ---- routing ----

  private route(method: string, pattern: string, handler: Handler): void {
    const regex = new RegExp(`^${pattern.replace(/\{(\w+)\*\}/g, "(.+)").replace(/\{(\w+)\}/g, "([^/]+)")}$`);
    this.routes.push([method, regex, handler]);
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://docker");
    const versioned = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
    const apiVersion = versioned ? versioned[1] : null;
    const route = versioned ? versioned[2] : url.pathname;
    const query: Record<string, string> = {};
    url.searchParams.forEach((v, k) => (query[k] = v));
    const record: DockerRequest = { method: req.method ?? "GET", path: route, apiVersion, query, status: 0, at: new Date() };
    this.requests.push(record);
    res.on("finish", () => (record.status = res.statusCode));
    res.setHeader("Api-Version", this.apiVersion);
    res.setHeader("Docker-Experimental", "false");
    res.setHeader("Ostype", "linux");
    res.setHeader("Server", `Docker/${this.version} (linux)`);
    record.status = 0;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      if (apiVersion && compareVersions(apiVersion, MIN_API_VERSION) < 0) {
        throw new HttpError(400, `client version ${apiVersion} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
      }
      if (apiVersion && compareVersions(apiVersion, this.apiVersion) > 0) {
        throw new HttpError(400, `client version ${apiVersion} is too new. Maximum supported API version is ${this.apiVersion}`);
      }
      for (const [method, regex, handler] of this.routes) {
        const m = regex.exec(route);
        if (!m || (method !== req.method && !(method === "GET" && req.method === "HEAD" && route === "/_ping"))) continue;
        await handler({ req, res, params: m.slice(1).map(decodeURIComponent), query, body });
        record.status = res.statusCode;
        return;
      }
      throw new HttpError(501, `fake docker: not implemented: ${req.method} ${route}`);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) this.json(res, status, { message });
      else res.end();
      record.status = status;
    }
  }

  private json(res: http.ServerResponse, status: number, value: unknown): void {
    const text = JSON.stringify(value) + "\n";
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
  }

  private noContent(res: http.ServerResponse, status = 204): void {
    res.writeHead(status);
    res.end();
  }

  private parse<T>(body: Buffer): T {
    if (body.length === 0) return {} as T;
    try {
      return JSON.parse(body.toString("utf8")) as T;
    } catch (err) {
      throw new HttpError(400, `invalid JSON: ${(err as Error).message}`);
    }
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  // ---- lookups, as the daemon resolves names: full id, then name, then unique id prefix ----

  private findContainer(ref: string): FakeContainer {
    const name = ref.replace(/^\//, "");
    const byId = this.containers.get(ref);
    if (byId) return byId;
    const byName = this.containerByName(name);
    if (byName) return byName;
    const byPrefix = [...this.containers.values()].filter((c) => c.id.startsWith(ref));
    if (byPrefix.length === 1) return byPrefix[0];
    throw new HttpError(404, `No such container: ${ref}`);
  }

  private findNetwork(ref: string): FakeNetwork {
    const byId = this.networks.get(ref);
    if (byId) return byId;
    const byName = this.networkByName(ref);
    if (byName) return byName;
    const byPrefix = [...this.networks.values()].filter((n) => n.id.startsWith(ref));
    if (byPrefix.length === 1) return byPrefix[0];
    throw new HttpError(404, `network ${ref} not found`);
  }

  findImage(ref: string): FakeImage | undefined {
    const id = ref.startsWith("sha256:") ? ref : `sha256:${ref}`;
    const byId = this.images.get(id);
    if (byId) return byId;
    if (/^[0-9a-f]{12,64}$/.test(ref)) {
      const byPrefix = [...this.images.values()].filter((i) => i.id.startsWith(`sha256:${ref}`));
      if (byPrefix.length === 1) return byPrefix[0];
    }
    const parsed = parseReference(ref);
    return [...this.images.values()].find((i) =>
      parsed.digest
        ? i.repoDigests.includes(`${parsed.familiarName}@${parsed.digest}`)
        : i.repoTags.includes(parsed.familiar),
    );
  }

  private requireImage(ref: string): FakeImage {
    const image = this.findImage(ref);
    if (!image) throw new HttpError(404, `No such image: ${ref}`);
    return image;
  }

  // ---- state changes ----

  /** Puts an image in the local store, as a pull would. */
  addImage(reference: string): FakeImage {
    const ref = parseReference(reference);
    const canonical = `${ref.name}:${ref.tag}${ref.digest ? `@${ref.digest}` : ""}`;
    const id = `sha256:${sha256(`image ${canonical}`)}`;
    const digest = ref.digest ?? `sha256:${sha256(`manifest ${canonical}`)}`;
    const existing = this.images.get(id);
    const image: FakeImage = existing ?? { id, repoTags: [], repoDigests: [], created: now(), size: 10 * MIB + (parseInt(id.slice(7, 11), 16) % 1000) * 1024 };
    if (!ref.digest && !image.repoTags.includes(ref.familiar)) image.repoTags.push(ref.familiar);
    const repoDigest = `${ref.familiarName}@${digest}`;
    if (!image.repoDigests.includes(repoDigest)) image.repoDigests.push(repoDigest);
    this.images.set(id, image);
    return image;
  }

  private addNetwork(spec: Record<string, unknown>, predefined = false): FakeNetwork {
    const index = this.networkCount++;
    const subnetBase = `172.${17 + index}`;
    const ipamIn = (spec.IPAM ?? {}) as { Driver?: string; Options?: Record<string, string> | null; Config?: Record<string, unknown>[] | null };
    const config = ipamIn.Config && ipamIn.Config.length > 0 ? ipamIn.Config : spec.Driver === "bridge" || !spec.Driver ? [{ Subnet: `${subnetBase}.0.0/16`, Gateway: `${subnetBase}.0.1` }] : [];
    const network: FakeNetwork = {
      id: hex64(),
      name: spec.Name as string,
      driver: orDefault(spec.Driver as string | undefined, "bridge"),
      created: now(),
      internal: Boolean(spec.Internal),
      attachable: Boolean(spec.Attachable),
      ingress: Boolean(spec.Ingress),
      enableIPv6: Boolean(spec.EnableIPv6),
      labels: (spec.Labels as Record<string, string> | undefined) ?? {},
      options: (spec.Options as Record<string, string> | undefined) ?? (predefined && spec.Name === "bridge" ? { "com.docker.network.bridge.default_bridge": "true", "com.docker.network.bridge.name": "docker0" } : {}),
      ipam: { Driver: orDefault(ipamIn.Driver, "default"), Options: ipamIn.Options ?? (predefined ? null : {}), Config: config },
      predefined,
      nextHost: 2,
      subnetBase,
    };
    this.networks.set(network.id, network);
    return network;
  }

  private connect(container: FakeContainer, network: FakeNetwork, settings: Record<string, unknown>): void {
    if (container.networks.has(network.name)) {
      // moby daemon/libnetwork: an endpoint with the container's name already exists on the network (403).
      throw new HttpError(403, `endpoint with name ${container.name} already exists in network ${network.name}`);
    }
    const host = network.nextHost++;
    const aliases = (settings.Aliases as string[] | null | undefined) ?? [];
    container.networks.set(network.name, {
      networkId: network.id,
      endpointId: container.state.status === "running" ? hex64() : "",
      aliases,
      ipAddress: network.driver === "bridge" ? `${network.subnetBase}.${Math.floor(host / 256)}.${host % 256}` : "",
      macAddress: network.driver === "bridge" ? `02:42:ac:${(17 + this.networkIndex(network)).toString(16).padStart(2, "0")}:00:${(host % 256).toString(16).padStart(2, "0")}` : "",
      settings,
    });
  }

  private networkIndex(network: FakeNetwork): number {
    return Number(network.subnetBase.split(".")[1]) - 17;
  }

  private attachedContainers(network: FakeNetwork): FakeContainer[] {
    return [...this.containers.values()].filter((c) => c.networks.has(network.name));
  }

  private startContainer(c: FakeContainer): void {
    const owned = this.options.hostAddresses?.() ?? ["127.0.0.1"];
    for (const p of this.publishedPorts(c)) {
      const ip = p.hostIp;
      if (ip !== "" && ip !== "0.0.0.0" && ip !== "::" && !owned.includes(ip)) {
        // What the daemon answers when the host has no such address (a listen() that fails, 500).
        throw new HttpError(500, `driver failed programming external connectivity on endpoint ${c.name}: failed to bind host port ${ip}:${p.hostPort}/${p.protocol}: listen ${p.protocol}4 ${ip}:${p.hostPort}: bind: cannot assign requested address`);
      }
      for (const other of this.containers.values()) {
        if (other === c || other.state.status !== "running") continue;
        for (const q of this.publishedPorts(other)) {
          const overlaps = q.protocol === p.protocol && q.hostPort === p.hostPort && p.hostPort !== 0 &&
            (q.hostIp === p.hostIp || [q.hostIp, p.hostIp].some((a) => a === "" || a === "0.0.0.0"));
          if (overlaps) {
            // libnetwork's port allocator (daemon/libnetwork/portallocator), surfaced by the daemon as 500.
            throw new HttpError(500, `driver failed programming external connectivity on endpoint ${c.name}: Bind for ${p.hostIp || "0.0.0.0"}:${p.hostPort} failed: port is already allocated`);
          }
        }
      }
    }
    try {
      this.options.prepareBinds?.(c, this.mounts(c).filter((m) => m.type === "bind"));
    } catch (err) {
      // moby daemon/volumes.go: "error while creating mount source path ...", answered as a system error (500).
      throw new HttpError(500, (err as Error).message);
    }
    c.state = { ...c.state, status: "running", exitCode: 0, pid: 1000 + Math.floor(Math.random() * 30000), startedAt: now(), stoppedByUser: false, error: undefined };
    for (const e of c.networks.values()) if (e.endpointId === "") e.endpointId = hex64();
    this.notify();
  }

  private setStopped(c: FakeContainer, exitCode: number, byUser: boolean): void {
    c.state = { ...c.state, status: "exited", exitCode, pid: 0, finishedAt: now(), stoppedByUser: byUser };
    for (const e of c.networks.values()) e.endpointId = "";
    this.notify();
  }

  private removeContainer(c: FakeContainer, removeVolumes: boolean): void {
    this.containers.delete(c.id);
    // Engine API, DELETE /containers/{id}?v=true: "Remove anonymous volumes associated with the container";
    // named volumes stay.
    if (removeVolumes) for (const name of c.anonymousVolumes.values()) this.volumes.delete(name);
    this.notify();
  }

  // ---- the API ----

  private defineRoutes(): void {
    const r = this.route.bind(this);

    // System. GET and HEAD /_ping carry the API version the client negotiates down to.
    r("GET", "/_ping", ({ res, req }) => {
      res.writeHead(200, {
        "Content-Type": "text/plain; charset=utf-8",
        "Cache-Control": "no-cache, no-store, must-revalidate",
        Pragma: "no-cache",
        "Builder-Version": "2",
        Swarm: "inactive",
        "Content-Length": req.method === "HEAD" ? 0 : 2,
      });
      res.end(req.method === "HEAD" ? undefined : "OK");
    });
    r("GET", "/version", ({ res }) => this.json(res, 200, this.versionInfo()));
    r("GET", "/info", ({ res }) => this.json(res, 200, this.info()));

    // Images.
    r("POST", "/images/create", ({ res, query }) => {
      const from = query.fromImage ?? "";
      if (!from) throw new HttpError(400, "fake docker: only pulls (fromImage) are implemented");
      const tag = query.tag ?? "";
      const reference = tag === "" ? from : tag.startsWith("sha256:") ? `${from}@${tag}` : `${from}:${tag}`;
      const ref = parseReference(reference);
      if (this.options.pullable && !this.options.pullable(reference)) {
        throw new HttpError(404, `pull access denied for ${ref.familiarName}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`);
      }
      const image = this.addImage(reference);
      const digest = image.repoDigests.find((d) => d.startsWith(`${ref.familiarName}@`))?.split("@")[1];
      res.writeHead(200, { "Content-Type": "application/json" });
      const line = (o: unknown) => res.write(JSON.stringify(o) + "\r\n");
      line({ status: `Pulling from ${ref.familiarName}`, id: ref.digest ?? ref.tag });
      line({ status: "Pull complete", progressDetail: {}, id: image.id.slice(7, 19) });
      line({ status: `Digest: ${digest}` });
      line({ status: `Status: Downloaded newer image for ${ref.digest ? `${ref.familiarName}@${ref.digest}` : ref.familiar}` });
      res.end();
    });
    r("GET", "/images/json", ({ res, query }) => {
      const filters = parseFilters(query.filters);
      let images = [...this.images.values()];
      if (filters.reference) images = images.filter((i) => filters.reference.some((f) => i.repoTags.some((t) => t === f || t.startsWith(`${f}:`))));
      this.json(res, 200, images.map((i) => this.imageSummary(i)));
    });
    r("GET", "/images/{name*}/json", ({ res, params }) => this.json(res, 200, this.imageInspect(this.requireImage(params[0]))));
    r("DELETE", "/images/{name*}", ({ res, params, query }) => {
      const image = this.requireImage(params[0]);
      const force = truthy(query.force);
      const users = [...this.containers.values()].filter((c) => c.imageId === image.id);
      const ref = params[0];
      const byTag = !ref.startsWith("sha256:") && !/^[0-9a-f]{12,64}$/.test(ref);
      if (users.length > 0 && !force && !(byTag && image.repoTags.length > 1)) {
        // Engine API: DELETE /images/{name} -> 409 Conflict while a container uses the image.
        const what = byTag ? `remove repository reference "${ref}"` : `delete ${image.id.slice(7, 19)}`;
        throw new HttpError(409, `conflict: unable to ${what} (must force) - container ${users[0].id.slice(0, 12)} is using its referenced image ${image.id.slice(7, 19)}`);
      }
      const out: Record<string, string>[] = [];
      if (byTag) {
        const familiar = parseReference(ref).familiar;
        image.repoTags = image.repoTags.filter((t) => t !== familiar);
        out.push({ Untagged: familiar });
        if (image.repoTags.length > 0) return this.json(res, 200, out);
      } else {
        for (const t of image.repoTags) out.push({ Untagged: t });
      }
      for (const d of image.repoDigests) out.push({ Untagged: d });
      this.images.delete(image.id);
      out.push({ Deleted: image.id });
      this.json(res, 200, out);
    });
    r("GET", "/distribution/{name*}/json", ({ res, params }) => {
      const ref = parseReference(params[0]);
      if (this.options.pullable && !this.options.pullable(params[0])) throw new HttpError(401, "errors:\ndenied: requested access to the resource is denied\nunauthorized: authentication required\n");
      const digest = ref.digest ?? `sha256:${sha256(`manifest ${ref.name}:${ref.tag}`)}`;
      this.json(res, 200, {
        Descriptor: { mediaType: "application/vnd.oci.image.index.v1+json", digest, size: 1024 },
        Platforms: [{ architecture: "amd64", os: "linux" }],
      });
    });

    // Networks.
    r("GET", "/networks", ({ res, query }) => {
      const filters = parseFilters(query.filters);
      let list = [...this.networks.values()];
      if (filters.name) list = list.filter((n) => filters.name.some((f) => n.name.includes(f)));
      if (filters.id) list = list.filter((n) => filters.id.some((f) => n.id.startsWith(f)));
      if (filters.driver) list = list.filter((n) => filters.driver.includes(n.driver));
      this.json(res, 200, list.map((n) => this.networkInspect(n, false)));
    });
    r("GET", "/networks/{id}", ({ res, params }) => this.json(res, 200, this.networkInspect(this.findNetwork(params[0]), true)));
    r("POST", "/networks/create", ({ res, body }) => {
      const spec = this.parse<Record<string, unknown>>(body);
      const name = spec.Name as string | undefined;
      if (!name) throw new HttpError(400, "network name is required");
      if (PREDEFINED_NETWORKS.includes(name)) {
        // Engine API: POST /networks/create -> 403 when the name is a pre-defined network's.
        throw new HttpError(403, `operation is not permitted on predefined ${name} network `);
      }
      if (this.networkByName(name)) {
        // moby daemon/libnetwork/error.go NetworkNameError, a Conflict (409).
        throw new HttpError(409, `network with name ${name} already exists`);
      }
      const network = this.addNetwork(spec);
      this.json(res, 201, { Id: network.id, Warning: "" });
    });
    r("DELETE", "/networks/{id}", ({ res, params }) => {
      const network = this.findNetwork(params[0]);
      if (network.predefined) {
        // Engine API: DELETE /networks/{id} -> 403 "operation not supported for pre-defined networks".
        throw new HttpError(403, `${network.name} is a pre-defined network and cannot be removed`);
      }
      const attached = this.attachedContainers(network);
      if (attached.length > 0) {
        // moby daemon/libnetwork/error.go ActiveEndpointsError, Forbidden (403); the provider retries on
        // "has active endpoints".
        throw new HttpError(403, `error while removing network: network ${network.name} has active endpoints (${attached.map((c) => c.name).join(", ")})`);
      }
      this.networks.delete(network.id);
      this.noContent(res);
    });
    r("POST", "/networks/{id}/connect", ({ res, params, body }) => {
      const network = this.findNetwork(params[0]);
      const spec = this.parse<{ Container?: string; EndpointConfig?: Record<string, unknown> | null }>(body);
      const container = this.findContainer(spec.Container ?? "");
      this.connect(container, network, spec.EndpointConfig ?? {});
      this.json(res, 200, null);
    });
    r("POST", "/networks/{id}/disconnect", ({ res, params, body }) => {
      const spec = this.parse<{ Container?: string; Force?: boolean }>(body);
      const container = this.findContainer(spec.Container ?? "");
      const network = this.findNetwork(params[0]);
      if (!container.networks.has(network.name)) {
        // moby daemon/container_operations.go DisconnectFromNetwork (a plain error: 500). The provider
        // ignores "is not connected to the network bridge".
        throw new HttpError(500, `container ${container.id} is not connected to the network ${network.name}`);
      }
      container.networks.delete(network.name);
      this.json(res, 200, null);
    });

    // Volumes.
    r("GET", "/volumes", ({ res }) => this.json(res, 200, { Volumes: [...this.volumes.values()].map((v) => this.volumeInspect(v)), Warnings: null }));
    r("POST", "/volumes/create", ({ res, body }) => {
      const spec = this.parse<{ Name?: string; Driver?: string; DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null }>(body);
      const name = orDefault(spec.Name, hex64());
      const volume = this.volumes.get(name) ?? {
        name,
        driver: orDefault(spec.Driver, "local"),
        created: now(),
        labels: spec.Labels ?? {},
        options: spec.DriverOpts ?? null,
      };
      this.volumes.set(name, volume);
      this.json(res, 201, this.volumeInspect(volume));
    });
    r("GET", "/volumes/{name}", ({ res, params }) => {
      const volume = this.volumes.get(params[0]);
      if (!volume) throw new HttpError(404, `get ${params[0]}: no such volume`);
      this.json(res, 200, this.volumeInspect(volume));
    });
    r("DELETE", "/volumes/{name}", ({ res, params, query }) => {
      const volume = this.volumes.get(params[0]);
      if (!volume) {
        if (truthy(query.force)) return this.noContent(res);
        throw new HttpError(404, `get ${params[0]}: no such volume`);
      }
      const users = [...this.containers.values()].filter((c) => this.mounts(c).some((m) => m.type === "volume" && m.source === volume.name));
      if (users.length > 0) {
        // Engine API: DELETE /volumes/{name} -> 409 "Volume is in use and cannot be removed".
        throw new HttpError(409, `remove ${volume.name}: volume is in use - [${users.map((c) => c.id).join(", ")}]`);
      }
      this.volumes.delete(volume.name);
      this.noContent(res);
    });

    // Containers.
    r("POST", "/containers/create", ({ res, body, query }) => {
      const spec = this.parse<ContainerConfig & { HostConfig?: HostConfig | null; NetworkingConfig?: { EndpointsConfig?: Record<string, Record<string, unknown>> | null } | null }>(body);
      const container = this.createContainer(spec, query.name ?? "");
      this.json(res, 201, { Id: container.id, Warnings: [] });
    });
    r("GET", "/containers/json", ({ res, query }) => {
      const all = truthy(query.all);
      const filters = parseFilters(query.filters);
      let list = [...this.containers.values()].filter((c) => all || c.state.status === "running");
      if (filters.name) list = list.filter((c) => filters.name.some((f) => new RegExp(f.replace(/^\//, "")).test(c.name)));
      if (filters.id) list = list.filter((c) => filters.id.some((f) => c.id.startsWith(f)));
      if (filters.status) list = list.filter((c) => filters.status.includes(c.state.status));
      if (filters.label) {
        list = list.filter((c) => filters.label.every((f) => {
          const [k, v] = f.split("=");
          const labels = c.config.Labels ?? {};
          return v === undefined ? k in labels : labels[k] === v;
        }));
      }
      this.json(res, 200, list.map((c) => this.containerSummary(c)));
    });
    r("GET", "/containers/{id}/json", ({ res, params }) => this.json(res, 200, this.containerInspect(this.findContainer(params[0]))));
    r("POST", "/containers/{id}/start", ({ res, params }) => {
      const c = this.findContainer(params[0]);
      // Engine API: 304 when the container is already started.
      if (c.state.status === "running") return this.noContent(res, 304);
      this.startContainer(c);
      this.noContent(res);
    });
    r("POST", "/containers/{id}/stop", ({ res, params }) => {
      const c = this.findContainer(params[0]);
      // Engine API: 304 when the container is already stopped.
      if (c.state.status !== "running") return this.noContent(res, 304);
      this.setStopped(c, 0, true);
      this.noContent(res);
    });
    r("POST", "/containers/{id}/restart", ({ res, params }) => {
      const c = this.findContainer(params[0]);
      if (c.state.status === "running") this.setStopped(c, 0, false);
      this.startContainer(c);
      c.restartCount += 1;
      this.noContent(res);
    });
    r("POST", "/containers/{id}/kill", ({ res, params }) => {
      const c = this.findContainer(params[0]);
      if (c.state.status !== "running") {
        // Engine API: POST /containers/{id}/kill -> 409 "container is not running".
        throw new HttpError(409, `cannot kill container: ${params[0]}: container ${c.id} is not running`);
      }
      this.setStopped(c, 137, true);
      this.noContent(res);
    });
    r("POST", "/containers/{id}/wait", ({ res, params, query }) => this.waitContainer(res, this.findContainer(params[0]), query.condition || "not-running"));
    r("POST", "/containers/{id}/rename", ({ res, params, query }) => {
      const c = this.findContainer(params[0]);
      const name = (query.name ?? "").replace(/^\//, "");
      const other = this.containerByName(name);
      if (other && other !== c) {
        // Engine API: POST /containers/{id}/rename -> 409 "name already in use".
        throw new HttpError(409, `Conflict. The container name "/${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
      c.name = name;
      this.noContent(res);
    });
    r("POST", "/containers/{id}/update", ({ res, params, body }) => {
      const c = this.findContainer(params[0]);
      const update = this.parse<HostConfig>(body);
      if (update.Memory && update.Memory < LINUX_MIN_MEMORY) throw new HttpError(400, "Minimum memory limit allowed is 6MB");
      for (const [key, value] of Object.entries(update)) {
        if (key === "RestartPolicy") {
          const policy = value as HostConfig["RestartPolicy"];
          if (policy?.Name) c.hostConfig.RestartPolicy = policy;
        } else if (value !== 0 && value !== "" && value !== null && !(Array.isArray(value) && value.length === 0)) {
          c.hostConfig[key] = value;
        }
      }
      this.json(res, 200, { Warnings: [] });
    });
    r("DELETE", "/containers/{id}", ({ res, params, query }) => {
      const c = this.findContainer(params[0]);
      if (c.state.status === "running" && !truthy(query.force)) {
        // Engine API: DELETE /containers/{id} -> 409 "You cannot remove a running container ... Stop the
        // container before attempting removal or force remove".
        throw new HttpError(409, `cannot remove container "/${c.name}": container is running: stop the container before removing or force remove`);
      }
      this.removeContainer(c, truthy(query.v));
      this.noContent(res);
    });
    r("GET", "/containers/{id}/logs", ({ res, params }) => {
      this.findContainer(params[0]);
      res.writeHead(200, { "Content-Type": "application/vnd.docker.multiplexed-stream" });
      res.end();
    });
    r("PUT", "/containers/{id}/archive", ({ res, params, query, body }) => {
      const c = this.findContainer(params[0]);
      if (c.hostConfig.ReadonlyRootfs) {
        // Engine API: PUT /containers/{id}/archive -> 403 when the rootfs is read-only.
        throw new HttpError(403, "container rootfs is marked read-only");
      }
      const target = query.path;
      if (!target) throw new HttpError(400, "bad parameter: path cannot be empty");
      const existing = c.files.get(path.posix.normalize(target));
      if (existing && existing.type === "file") throw new HttpError(400, "not a directory");
      for (const entry of parseTar(body)) {
        if (entry.type === "other") continue;
        const filePath = path.posix.normalize(path.posix.join("/", target, entry.name));
        c.files.set(filePath, {
          path: filePath,
          type: entry.type,
          content: entry.data,
          mode: entry.mode,
          uid: entry.uid,
          gid: entry.gid,
          mtime: entry.mtime,
          ...(entry.type === "symlink" ? { linkTarget: entry.linkname } : {}),
        });
      }
      this.noContent(res, 200);
    });
    const archiveStat = (c: FakeContainer, filePath: string) => {
      const normalized = path.posix.normalize(filePath);
      const file = c.files.get(normalized);
      const isDir = !file && [...c.files.keys()].some((p) => p.startsWith(normalized.endsWith("/") ? normalized : `${normalized}/`));
      if (!file && !isDir) throw new HttpError(404, `Could not find the file ${filePath} in container ${c.name}`);
      const stat = file
        ? { name: path.posix.basename(normalized), size: file.content.length, mode: file.mode | (file.type === "directory" ? 0x80000000 : 0), mtime: file.mtime.toISOString(), linkTarget: file.linkTarget ?? "" }
        : { name: path.posix.basename(normalized), size: 4096, mode: 0x80000000 | 0o755, mtime: now(), linkTarget: "" };
      return { file, normalized, header: Buffer.from(JSON.stringify(stat)).toString("base64") };
    };
    r("HEAD", "/containers/{id}/archive", ({ res, params, query }) => {
      const { header } = archiveStat(this.findContainer(params[0]), query.path ?? "");
      res.writeHead(200, { "X-Docker-Container-Path-Stat": header });
      res.end();
    });
    r("GET", "/containers/{id}/archive", ({ res, params, query }) => {
      const c = this.findContainer(params[0]);
      const { header, normalized } = archiveStat(c, query.path ?? "");
      const base = path.posix.basename(normalized);
      const parts: Buffer[] = [];
      for (const f of [...c.files.values()].sort((a, b) => a.path.localeCompare(b.path))) {
        if (f.path !== normalized && !f.path.startsWith(`${normalized}/`)) continue;
        const name = base + f.path.slice(normalized.length) + (f.type === "directory" ? "/" : "");
        parts.push(tarEntry(name, f.content, f.mode, f.uid, f.gid, f.mtime, f.type === "file" ? "0" : f.type === "directory" ? "5" : "2", f.linkTarget));
      }
      parts.push(Buffer.alloc(1024));
      const tar = Buffer.concat(parts);
      res.writeHead(200, { "Content-Type": "application/x-tar", "X-Docker-Container-Path-Stat": header, "Content-Length": tar.length });
      res.end(tar);
    });
  }

  private waitContainer(res: http.ServerResponse, c: FakeContainer, condition: string): void {
    // The daemon sends the headers at once and the body when the condition holds (the Go client reads the
    // body in the background).
    if (!["not-running", "next-exit", "removed"].includes(condition)) throw new HttpError(400, `invalid condition: "${condition}"`);
    res.writeHead(200, { "Content-Type": "application/json" });
    res.flushHeaders();
    const finishedAtStart = c.state.finishedAt;
    const done = () => {
      const gone = !this.containers.has(c.id);
      const met =
        condition === "removed" ? gone :
        condition === "not-running" ? gone || c.state.status !== "running" :
        gone || (c.state.status !== "running" && c.state.finishedAt !== finishedAtStart);
      if (!met) return false;
      res.end(JSON.stringify({ StatusCode: c.state.exitCode, Error: null }) + "\n");
      return true;
    };
    if (done()) return;
    const waiter = () => {
      if (done()) this.waiters.delete(waiter);
    };
    this.waiters.add(waiter);
    res.on("close", () => this.waiters.delete(waiter));
  }

  private createContainer(
    spec: ContainerConfig & { HostConfig?: HostConfig | null; NetworkingConfig?: { EndpointsConfig?: Record<string, Record<string, unknown>> | null } | null },
    rawName: string,
  ): FakeContainer {
    const { HostConfig: hostConfigIn, NetworkingConfig: networking, ...config } = spec;
    const id = hex64();
    let name = rawName.replace(/^\//, "");
    if (name === "") name = `fake_${id.slice(0, 8)}`;
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) {
      throw new HttpError(400, `Invalid container name (${rawName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    const other = this.containerByName(name);
    if (other) {
      // Engine API: POST /containers/create -> 409 "conflict"; the message is moby daemon/errors.go's.
      throw new HttpError(409, `Conflict. The container name "/${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    if (!config.Image) throw new HttpError(400, "config.Image: image is required");
    const image = this.findImage(config.Image);
    // Engine API: POST /containers/create -> 404 "no such image".
    if (!image) throw new HttpError(404, `No such image: ${config.Image}`);
    const hostConfig: HostConfig = { ...(hostConfigIn ?? {}) };
    if (hostConfig.Memory && hostConfig.Memory < LINUX_MIN_MEMORY) {
      // moby daemon/daemon_unix.go verifyPlatformContainerResources (400).
      throw new HttpError(400, "Minimum memory limit allowed is 6MB");
    }
    for (const bind of hostConfig.Binds ?? []) {
      const parts = bind.split(":");
      if (parts.length < 2 || parts.length > 3 || !parts[1].startsWith("/")) throw new HttpError(400, `invalid volume specification: '${bind}'`);
    }
    // moby daemon/daemon_unix.go adaptContainerSettings, and the daemon's defaults.
    if ((hostConfig.Memory ?? 0) > 0 && !hostConfig.MemorySwap) hostConfig.MemorySwap = (hostConfig.Memory ?? 0) * 2;
    if ((hostConfig.ShmSize ?? 0) === 0) hostConfig.ShmSize = DEFAULT_SHM_SIZE;
    hostConfig.IpcMode = orDefault(hostConfig.IpcMode, "private");
    hostConfig.CgroupnsMode = orDefault(hostConfig.CgroupnsMode, "private");
    if (!hostConfig.NetworkMode || hostConfig.NetworkMode === "default") hostConfig.NetworkMode = "bridge";
    hostConfig.Runtime = orDefault(hostConfig.Runtime, "runc");
    hostConfig.LogConfig = { Type: orDefault(hostConfig.LogConfig?.Type, "json-file"), Config: hostConfig.LogConfig?.Config ?? {} };
    hostConfig.RestartPolicy = { Name: orDefault(hostConfig.RestartPolicy?.Name, "no"), MaximumRetryCount: hostConfig.RestartPolicy?.MaximumRetryCount ?? 0 };
    if (hostConfig.Privileged && !hostConfig.SecurityOpt) hostConfig.SecurityOpt = ["label=disable"];
    const container: FakeContainer = {
      id,
      name,
      created: now(),
      imageId: image.id,
      config: {
        ...config,
        Hostname: orDefault(config.Hostname, id.slice(0, 12)),
        Domainname: config.Domainname ?? "",
        User: config.User ?? "",
        Env: [...(config.Env ?? []), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        Cmd: config.Cmd ?? null,
        Entrypoint: config.Entrypoint ?? null,
        WorkingDir: config.WorkingDir ?? "",
        Labels: config.Labels ?? {},
        AttachStdin: config.AttachStdin ?? false,
        AttachStdout: config.AttachStdout ?? false,
        AttachStderr: config.AttachStderr ?? false,
        Tty: config.Tty ?? false,
        OpenStdin: config.OpenStdin ?? false,
        StdinOnce: config.StdinOnce ?? false,
      },
      hostConfig,
      networks: new Map(),
      state: { status: "created", exitCode: 0, pid: 0, startedAt: ZERO_TIME, finishedAt: ZERO_TIME, stoppedByUser: false },
      files: new Map(),
      anonymousVolumes: new Map(),
      restartCount: 0,
    };
    const covered = new Set(this.mounts(container).map((m) => m.destination));
    for (const destination of Object.keys(config.Volumes ?? {})) {
      if (!covered.has(destination)) container.anonymousVolumes.set(destination, hex64());
    }
    // Named (and anonymous) volumes in Binds and Mounts come into being with the container.
    for (const m of this.mounts(container)) {
      if (m.type === "volume" && m.source !== "" && !this.volumes.has(m.source)) {
        this.volumes.set(m.source, { name: m.source, driver: "local", created: now(), labels: {}, options: null });
      }
    }
    const mode = hostConfig.NetworkMode;
    const endpoints = networking?.EndpointsConfig ?? {};
    const networkNames = Object.keys(endpoints).length > 0 ? Object.keys(endpoints) : mode && !mode.startsWith("container:") ? [mode] : [];
    // Validate every network before the container exists, as the daemon does; "default" is the bridge.
    const resolved = networkNames.map((n) => this.findNetwork(n === "default" ? "bridge" : n));
    this.containers.set(id, container);
    resolved.forEach((network, i) => this.connect(container, network, endpoints[networkNames[i]] ?? {}));
    this.notify();
    return container;
  }

  // ---- representations ----

  private versionInfo(): Record<string, unknown> {
    return {
      Platform: { Name: "Docker Engine - Community" },
      Components: [{ Name: "Engine", Version: this.version, Details: { ApiVersion: this.apiVersion, MinAPIVersion: MIN_API_VERSION, GitCommit: "fake", GoVersion: "go1.24.8", Os: "linux", Arch: "amd64", KernelVersion: "6.8.0-fake", BuildTime: "2025-10-08T12:00:00.000000000+00:00", Experimental: "false" } }],
      Version: this.version,
      ApiVersion: this.apiVersion,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: "fake",
      GoVersion: "go1.24.8",
      Os: "linux",
      Arch: "amd64",
      KernelVersion: "6.8.0-fake",
      BuildTime: "2025-10-08T12:00:00.000000000+00:00",
    };
  }

  private info(): Record<string, unknown> {
    const list = [...this.containers.values()];
    return {
      ID: "FAKE:NODE",
      Containers: list.length,
      ContainersRunning: list.filter((c) => c.state.status === "running").length,
      ContainersPaused: 0,
      ContainersStopped: list.filter((c) => c.state.status !== "running").length,
      Images: this.images.size,
      Driver: "overlay2",
      DockerRootDir: "/var/lib/docker",
      LoggingDriver: "json-file",
      CgroupDriver: "systemd",
      CgroupVersion: "2",
      KernelVersion: "6.8.0-fake",
      OperatingSystem: "Ubuntu 24.04 LTS",
      OSType: "linux",
      Architecture: "x86_64",
      NCPU: 2,
      MemTotal: 4 * 1024 * MIB,
      Name: this.options.hostname ?? "fake-node",
      ServerVersion: this.version,
      DefaultRuntime: "runc",
      Runtimes: { runc: { path: "runc" } },
      Swarm: { LocalNodeState: "inactive" },
      SecurityOptions: ["name=apparmor", "name=seccomp,profile=builtin", "name=cgroupns"],
      Warnings: null,
    };
  }

  private imageSummary(i: FakeImage): Record<string, unknown> {
    return {
      Id: i.id,
      ParentId: "",
      RepoTags: i.repoTags,
      RepoDigests: i.repoDigests,
      Created: Math.floor(new Date(i.created).getTime() / 1000),
      Size: i.size,
      SharedSize: -1,
      Labels: {},
      Containers: -1,
    };
  }

  private imageInspect(i: FakeImage): Record<string, unknown> {
    return {
      Id: i.id,
      RepoTags: i.repoTags,
      RepoDigests: i.repoDigests,
      Parent: "",
      Comment: "",
      Created: i.created,
      DockerVersion: "",
      Author: "",
      Config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: null, Entrypoint: null, Labels: null, WorkingDir: "" },
      Architecture: "amd64",
      Os: "linux",
      Size: i.size,
      GraphDriver: { Name: "overlay2", Data: null },
      RootFS: { Type: "layers", Layers: [`sha256:${sha256(`layer ${i.id}`)}`] },
      Metadata: { LastTagTime: ZERO_TIME },
    };
  }

  private networkInspect(n: FakeNetwork, withContainers: boolean): Record<string, unknown> {
    const containers: Record<string, unknown> = {};
    for (const c of this.attachedContainers(n)) {
      const e = c.networks.get(n.name) as Endpoint;
      containers[c.id] = { Name: c.name, EndpointID: e.endpointId, MacAddress: e.macAddress, IPv4Address: e.ipAddress ? `${e.ipAddress}/16` : "", IPv6Address: "" };
    }
    return {
      Name: n.name,
      Id: n.id,
      Created: n.created,
      Scope: "local",
      Driver: n.driver,
      EnableIPv4: true,
      EnableIPv6: n.enableIPv6,
      IPAM: n.ipam,
      Internal: n.internal,
      Attachable: n.attachable,
      Ingress: n.ingress,
      ConfigFrom: { Network: "" },
      ConfigOnly: false,
      Containers: withContainers ? containers : {},
      Options: n.options,
      Labels: n.labels,
    };
  }

  private volumeInspect(v: FakeVolume): Record<string, unknown> {
    return {
      CreatedAt: v.created,
      Driver: v.driver,
      Labels: v.labels,
      Mountpoint: `/var/lib/docker/volumes/${v.name}/_data`,
      Name: v.name,
      Options: v.options,
      Scope: "local",
    };
  }

  private portMap(c: FakeContainer): Record<string, PortBinding[] | null> {
    const ports: Record<string, PortBinding[] | null> = {};
    for (const key of Object.keys(c.config.ExposedPorts ?? {})) ports[key] = null;
    if (c.state.status !== "running") return {};
    for (const [key, bindings] of Object.entries(c.hostConfig.PortBindings ?? {})) {
      ports[key] = (bindings ?? []).map((b) => ({ HostIp: orDefault(b.HostIp, "0.0.0.0"), HostPort: orDefault(b.HostPort, "32768") }));
    }
    return ports;
  }

  private endpointView(e: Endpoint, n: FakeNetwork | undefined, c: FakeContainer): Record<string, unknown> {
    const running = c.state.status === "running";
    return {
      IPAMConfig: e.settings.IPAMConfig ?? null,
      Links: null,
      Aliases: e.aliases.length > 0 ? e.aliases : null,
      MacAddress: running ? e.macAddress : "",
      DriverOpts: e.settings.DriverOpts ?? null,
      GwPriority: e.settings.GwPriority ?? 0,
      NetworkID: e.networkId,
      EndpointID: e.endpointId,
      Gateway: running && n?.driver === "bridge" ? `${n.subnetBase}.0.1` : "",
      IPAddress: running ? e.ipAddress : "",
      IPPrefixLen: running && e.ipAddress ? 16 : 0,
      IPv6Gateway: "",
      GlobalIPv6Address: "",
      GlobalIPv6PrefixLen: 0,
      DNSNames: n && !n.predefined ? [c.name, c.id.slice(0, 12), ...e.aliases] : null,
    };
  }

  private containerInspect(c: FakeContainer): Record<string, unknown> {
    const running = c.state.status === "running";
    const health = c.config.Healthcheck?.Test && c.config.Healthcheck.Test[0] !== "NONE" && running
      ? { Status: "healthy", FailingStreak: 0, Log: [] }
      : undefined;
    const networks: Record<string, unknown> = {};
    for (const [name, e] of c.networks) networks[name] = this.endpointView(e, this.networkByName(name), c);
    return {
      Id: c.id,
      Created: c.created,
      Path: (c.config.Entrypoint ?? c.config.Cmd ?? [""])[0],
      Args: [...(c.config.Entrypoint ?? []), ...(c.config.Cmd ?? [])].slice(1),
      State: {
        Status: c.state.status,
        Running: running,
        Paused: false,
        Restarting: false,
        OOMKilled: false,
        Dead: false,
        Pid: c.state.pid,
        ExitCode: c.state.exitCode,
        Error: c.state.error ?? "",
        StartedAt: c.state.startedAt,
        FinishedAt: c.state.finishedAt,
        ...(health ? { Health: health } : {}),
      },
      Image: c.imageId,
      ResolvConfPath: `/var/lib/docker/containers/${c.id}/resolv.conf`,
      HostnamePath: `/var/lib/docker/containers/${c.id}/hostname`,
      HostsPath: `/var/lib/docker/containers/${c.id}/hosts`,
      LogPath: `/var/lib/docker/containers/${c.id}/${c.id}-json.log`,
      Name: `/${c.name}`,
      RestartCount: c.restartCount,
      Driver: "overlay2",
      Platform: "linux",
      MountLabel: "",
      ProcessLabel: "",
      AppArmorProfile: c.hostConfig.Privileged ? "unconfined" : "docker-default",
      ExecIDs: null,
      HostConfig: c.hostConfig,
      GraphDriver: { Name: "overlay2", Data: null },
      Mounts: this.mounts(c).map((m) => ({
        Type: m.type,
        ...(m.type === "volume" ? { Name: m.source, Source: `/var/lib/docker/volumes/${m.source}/_data`, Driver: "local" } : { Source: m.source }),
        Destination: m.destination,
        Mode: m.readOnly ? "ro" : "",
        RW: !m.readOnly,
        Propagation: m.type === "bind" ? "rprivate" : "",
      })),
      Config: c.config,
      NetworkSettings: {
        Bridge: "",
        SandboxID: running ? sha256(`sandbox ${c.id}`) : "",
        SandboxKey: running ? `/var/run/docker/netns/${c.id.slice(0, 12)}` : "",
        Ports: this.portMap(c),
        HairpinMode: false,
        LinkLocalIPv6Address: "",
        LinkLocalIPv6PrefixLen: 0,
        SecondaryIPAddresses: null,
        SecondaryIPv6Addresses: null,
        EndpointID: "",
        Gateway: "",
        GlobalIPv6Address: "",
        GlobalIPv6PrefixLen: 0,
        IPAddress: "",
        IPPrefixLen: 0,
        IPv6Gateway: "",
        MacAddress: "",
        Networks: networks,
      },
    };
  }

  private containerSummary(c: FakeContainer): Record<string, unknown> {
    const running = c.state.status === "running";
    const networks: Record<string, unknown> = {};
    for (const [name, e] of c.networks) networks[name] = this.endpointView(e, this.networkByName(name), c);
    const ports = running
      ? this.publishedPorts(c).map((p) => ({ IP: p.hostIp || "0.0.0.0", PrivatePort: p.port, PublicPort: p.hostPort, Type: p.protocol }))
      : [];
    return {
      Id: c.id,
      Names: [`/${c.name}`],
      Image: c.config.Image,
      ImageID: c.imageId,
      Command: [...(c.config.Entrypoint ?? []), ...(c.config.Cmd ?? [])].join(" "),
      Created: Math.floor(new Date(c.created).getTime() / 1000),
      Ports: ports,
      Labels: c.config.Labels ?? {},
      State: c.state.status,
      Status: running ? "Up Less than a second" : c.state.status === "created" ? "Created" : `Exited (${c.state.exitCode}) Less than a second ago`,
      HostConfig: { NetworkMode: c.hostConfig.NetworkMode ?? "bridge" },
      NetworkSettings: { Networks: networks },
      Mounts: [],
    };
  }
}

function compareVersions(a: string, b: string): number {
  const [a1, a2] = a.split(".").map(Number);
  const [b1, b2] = b.split(".").map(Number);
  return a1 !== b1 ? a1 - b1 : a2 - b2;
}
