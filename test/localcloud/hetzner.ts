/**
 * A stateful stand-in for the Hetzner Cloud API, on loopback, for the real `pulumi-resource-hcloud` provider
 * (terraform-provider-hcloud v1.66.1 on hcloud-go v2.44.0, as bundled with @pulumi/hcloud 1.41.0) to talk to
 * through `hcloud:endpoint` / HCLOUD_ENDPOINT:
 *
 *   const cloud = new FakeHetznerCloud({ onServerCreated: (s) => bootContainer(s.userData) });
 *   await cloud.start();                 // cloud.endpoint is http://127.0.0.1:<port>/v1
 *   ... pulumi up with hcloud:endpoint = cloud.endpoint and a 64-character hcloud:token ...
 *   cloud.state.servers                  // what was created, with user_data verbatim
 *   cloud.requests                       // every call: method, path, status, and the route it matched
 *   await cloud.stop();
 *
 * It serves what the project's program needs (components/access.ts, firewall.ts, node.ts): SSH keys,
 * firewalls with rules, labels and applied_to, servers, volumes and their attachments, with the lookups the
 * provider makes (server types, images by name and architecture, locations, datacenters, pricing) and the
 * asynchronous actions it polls. Response shapes follow hcloud-go's `hcloud/schema` structs (v2.44.0); what
 * the provider calls follows terraform-provider-hcloud's `internal/{server,volume,firewall,sshkey}`.
 *
 * Storage Boxes (services/backup.ts) live in Hetzner's other API, at a base of its own (hcloud-go client.go: the
 * StorageBox client is a copy of the client with the Hetzner endpoint), which the provider takes from
 * HETZNER_ENDPOINT (./cloud.ts providerEnv says why not from `hcloud:endpointHetzner`): the fake serves it at
 * {@link FakeHetznerCloud.hetznerEndpoint}, /hetzner/v1 beside /v1. Their
 * actions are polled through the Cloud API's GET /actions (terraform-provider-hcloud internal/storagebox and
 * internal/storageboxsubaccount settle them with the client's Action client), which holds them too.
 *
 * Anything else answers 404 `not_found` and is logged with `route: null`, so a test can see the gap.
 *
 * Addresses come from the documentation ranges (203.0.113.0/24, 2001:db8::/32): nothing is ever contacted.
 */
import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { LOCATIONS, SERVER_TYPES, STORAGE_BOX_TYPES, VOLUME_EUR_PER_GB_MONTH } from "../../components/catalog/serverTypes";
import { fromPlain, toPlain, type Plain } from "./snapshot";

// ---------------------------------------------------------------------------------------------------------
// State: what the harness may inspect.
// ---------------------------------------------------------------------------------------------------------

export type ServerStatus = "initializing" | "starting" | "running" | "stopping" | "off" | "rebuilding" | "migrating";

export interface FakeServer {
  id: number;
  name: string;
  status: ServerStatus;
  created: string;
  serverType: string;
  /** The disk's size in GB: the type's at creation, and after a type change only when it upgraded the disk. */
  diskGb: number;
  location: string;
  /** The image the server was created (or rebuilt) from. */
  image: { id: number; name: string; architecture: "x86" | "arm" };
  /** Cloud-init user data exactly as the API received it; null when none was given. */
  userData: string | null;
  /** Ids of the SSH keys installed at creation. */
  sshKeys: number[];
  labels: Record<string, string>;
  protection: { delete: boolean; rebuild: boolean };
  /** Null while backups are disabled. */
  backupWindow: string | null;
  rescueEnabled: boolean;
  /** Primary IPs; null when the server was created without that family. */
  ipv4: { id: number; ip: string } | null;
  /** The server's /64, e.g. "2001:db8:0:3::/64"; the provider reports its ::1 as ipv6_address. */
  ipv6: { id: number; network: string } | null;
}

export type VolumeStatus = "creating" | "available";

export interface FakeVolume {
  id: number;
  name: string;
  size: number;
  location: string;
  status: VolumeStatus;
  created: string;
  /** "ext4", "xfs" or null (unformatted). */
  format: string | null;
  labels: Record<string, string>;
  protection: { delete: boolean };
  /** Id of the server it is attached to, or null. */
  server: number | null;
  /** Whether the last attach asked Hetzner to mount it. */
  automount: boolean;
  linuxDevice: string;
  /**
   * Files on the volume, by path, for scenarios to check that data stays with the volume (the API never shows
   * or touches them: they go only when the volume is deleted).
   */
  files: Map<string, string>;
}

export interface FakeFirewallRule {
  direction: "in" | "out";
  protocol: "tcp" | "udp" | "icmp" | "esp" | "gre";
  port: string | null;
  sourceIps: string[];
  destinationIps: string[];
  description: string | null;
}

export type FakeFirewallTarget = { type: "server"; server: number } | { type: "label_selector"; selector: string };

export interface FakeFirewall {
  id: number;
  name: string;
  created: string;
  labels: Record<string, string>;
  rules: FakeFirewallRule[];
  /** What it was applied to: servers directly, or label selectors (matching servers are computed). */
  appliedTo: FakeFirewallTarget[];
}

export interface FakeSshKey {
  id: number;
  name: string;
  created: string;
  publicKey: string;
  /** MD5 of the key blob, as colon-separated hex (Hetzner's format). */
  fingerprint: string;
  labels: Record<string, string>;
}

export interface FakeAction {
  id: number;
  command: string;
  status: "running" | "success" | "error";
  progress: number;
  started: string;
  finished: string | null;
  error: { code: string; message: string } | null;
  resources: { id: number; type: string }[];
}

export interface FakeStorageBoxAccess {
  reachableExternally: boolean;
  sambaEnabled: boolean;
  sshEnabled: boolean;
  webdavEnabled: boolean;
}

export interface FakeStorageBoxSubaccount {
  id: number;
  name: string;
  /** Hetzner's: the box's user and -sub<n>, e.g. u100001-sub1. */
  username: string;
  /** The directory it sees as its root, below the box's. */
  homeDirectory: string;
  description: string;
  labels: Record<string, string>;
  access: FakeStorageBoxAccess & { readonly: boolean };
  /** The password it was given (the API never shows it; kept for the scenarios to compare with a node's). */
  password: string;
  created: string;
}

export interface FakeStorageBox {
  id: number;
  name: string;
  /** "initializing" until its create action succeeds; Hetzner names its user and host only then. */
  status: "initializing" | "active";
  username: string | null;
  server: string | null;
  system: string | null;
  storageBoxType: string;
  location: string;
  access: FakeStorageBoxAccess & { zfsEnabled: boolean };
  labels: Record<string, string>;
  protection: { delete: boolean };
  password: string;
  created: string;
  subaccounts: Map<number, FakeStorageBoxSubaccount>;
}

export interface FakeHetznerState {
  servers: Map<number, FakeServer>;
  volumes: Map<number, FakeVolume>;
  firewalls: Map<number, FakeFirewall>;
  sshKeys: Map<number, FakeSshKey>;
  storageBoxes: Map<number, FakeStorageBox>;
  actions: Map<number, FakeAction>;
}

/** FakeHetznerCloud.snapshot(): its state as JSON data. */
export interface HetznerSnapshot {
  port: number;
  ids: Record<string, number>;
  nextIpv4Host: number;
  nextIpv6Net: number;
  state: Plain;
}

export interface FakeRequest {
  method: string;
  /** Path without the query, e.g. "/v1/servers/3". */
  path: string;
  /** The query string, with its "?", or "". */
  query: string;
  status: number;
  /** The route it matched, e.g. "GET /servers/{id}"; null for a path the fake does not serve. */
  route: string | null;
  /** The parsed JSON body of a POST or PUT. */
  body?: unknown;
  /** When it arrived, in ms since the epoch. */
  at: number;
}

export type PowerEvent = "on" | "off" | "reboot";

export interface FakeHetznerOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /**
   * How long an action runs at least, in ms (default 100). An action also reports `running` to the first
   * read after the response that started it, whatever the delay, so a client always polls it at least twice.
   */
  actionDelayMs?: number;
  /** The only bearer token accepted; by default any non-empty token is. */
  token?: string;
  /**
   * Called when a server is created (before its create action can succeed: the action stays `running`
   * until the returned promise settles, and fails if it rejects). The server object is the live state.
   */
  onServerCreated?: (server: FakeServer) => void | Promise<void>;
  /** Called when a server is deleted; its delete action waits for the returned promise likewise. */
  onServerDeleted?: (server: FakeServer) => void | Promise<void>;
  /**
   * Called when a power action completes: poweron ("on"), poweroff and shutdown ("off"), reboot and reset
   * ("reboot"), and change_type, which starts the server again ("on"). Not called for the start that
   * follows creation: onServerCreated covers that. `command` is the action's: a graceful shutdown
   * ("shutdown_server", an ACPI request) and a hard one ("stop_server", poweroff) both end in "off".
   */
  onServerPower?: (server: FakeServer, event: PowerEvent, command: string) => void;
}

/** A token of the length the provider insists on (exactly 64 characters). */
export const FAKE_HCLOUD_TOKEN = "localcloud".padEnd(64, "0");

// ---------------------------------------------------------------------------------------------------------
// The catalog: locations, datacenters, server types (the project's own table), images.
// ---------------------------------------------------------------------------------------------------------

interface LocationInfo {
  id: number;
  name: string;
  description: string;
  country: string;
  city: string;
  latitude: number;
  longitude: number;
  network_zone: string;
  datacenter: { id: number; name: string; description: string };
}

const LOCATION_INFO: Record<(typeof LOCATIONS)[number], LocationInfo> = {
  fsn1: {
    id: 1, name: "fsn1", description: "Falkenstein DC Park 1", country: "DE", city: "Falkenstein",
    latitude: 50.47612, longitude: 12.370071, network_zone: "eu-central",
    datacenter: { id: 4, name: "fsn1-dc14", description: "Falkenstein 1 virtual DC 14" },
  },
  nbg1: {
    id: 2, name: "nbg1", description: "Nuremberg DC Park 1", country: "DE", city: "Nuremberg",
    latitude: 49.452102, longitude: 11.076665, network_zone: "eu-central",
    datacenter: { id: 2, name: "nbg1-dc3", description: "Nuremberg 1 virtual DC 3" },
  },
  hel1: {
    id: 3, name: "hel1", description: "Helsinki DC Park 1", country: "FI", city: "Helsinki",
    latitude: 60.169855, longitude: 24.938379, network_zone: "eu-central",
    datacenter: { id: 3, name: "hel1-dc2", description: "Helsinki 1 virtual DC 2" },
  },
  ash: {
    id: 4, name: "ash", description: "Ashburn, VA", country: "US", city: "Ashburn, VA",
    latitude: 39.045753, longitude: -77.487442, network_zone: "us-east",
    datacenter: { id: 5, name: "ash-dc1", description: "Ashburn virtual DC 1" },
  },
  hil: {
    id: 5, name: "hil", description: "Hillsboro, OR", country: "US", city: "Hillsboro, OR",
    latitude: 45.54222, longitude: -122.95128, network_zone: "us-west",
    datacenter: { id: 6, name: "hil-dc1", description: "Hillsboro virtual DC 1" },
  },
  sin: {
    id: 6, name: "sin", description: "Singapore", country: "SG", city: "Singapore",
    latitude: 1.283333, longitude: 103.833333, network_zone: "ap-southeast",
    datacenter: { id: 7, name: "sin-dc1", description: "Singapore virtual DC 1" },
  },
};

const VAT = 1.19;
const HOURS_PER_MONTH = 730;
const money = (net: number) => ({ net: net.toFixed(10), gross: (net * VAT).toFixed(10) });

interface ServerTypeInfo {
  id: number;
  name: string;
  cores: number;
  memory: number;
  disk: number;
  architecture: "x86" | "arm";
  dedicated: boolean;
  locations: readonly string[];
  priceEurMonth: number;
}

const SERVER_TYPE_INFO: ServerTypeInfo[] = SERVER_TYPES.map((t, i) => ({
  id: 100 + i,
  name: t.name,
  cores: t.vcpus,
  memory: t.memoryGb,
  disk: t.diskGb,
  architecture: t.architecture,
  dedicated: t.dedicated,
  locations: t.locations,
  priceEurMonth: t.priceEurMonth,
}));

interface ImageInfo {
  id: number;
  name: string;
  description: string;
  osFlavor: string;
  osVersion: string;
  architecture: "x86" | "arm";
}

/** System images, one per architecture, as Hetzner lists them (names are shared across architectures). */
const IMAGES: ImageInfo[] = [
  ["ubuntu-24.04", "Ubuntu 24.04", "ubuntu", "24.04"],
  ["ubuntu-22.04", "Ubuntu 22.04", "ubuntu", "22.04"],
  ["debian-12", "Debian 12", "debian", "12"],
  ["debian-13", "Debian 13", "debian", "13"],
].flatMap(([name, description, osFlavor, osVersion], i) =>
  (["x86", "arm"] as const).map((architecture, j) => ({
    id: 200 + i * 2 + j,
    name,
    description,
    osFlavor,
    osVersion,
    architecture,
  })),
);

const IMAGE_CREATED = "2024-04-25T00:00:00+00:00";

/** Storage Box types: the project's catalogue (components/catalog/serverTypes.ts), in the API's shape. */
const STORAGE_BOX_TYPE_INFO = STORAGE_BOX_TYPES.map((t, i) => ({ id: 1300 + i, name: t.name, sizeBytes: t.capacityTb * 1024 ** 4, priceEurMonth: t.priceEurMonth }));

/**
 * The Storage Box password policy (Hetzner's Storage Box API docs, "Storage Boxes password policy", which the
 * provider's password attribute links to; as quoted by Xodus-CO/hcloud-mcp's create_storage_box): 12 to 128
 * characters from a-z A-Z ÄÖÜäöüß 0-9 and ^°!§$%/()=?+#-.,;:~*@{}_&, with at least one upper case letter, one
 * lower case letter, one digit and one special character.
 */
function storageBoxPasswordProblem(password: string): string | undefined {
  const special = "^°!§$%/()=?+#-.,;:~*@{}_&";
  if (password.length < 12 || password.length > 128) return "must be 12 to 128 characters long";
  for (const ch of password) {
    if (!/[a-zA-Z0-9ÄÖÜäöüß]/.test(ch) && !special.includes(ch)) return `must not contain '${ch}'`;
  }
  if (!/[A-ZÄÖÜ]/.test(password) || !/[a-zäöüß]/.test(password) || !/\d/.test(password) || ![...password].some((ch) => special.includes(ch))) {
    return "needs an upper case letter, a lower case letter, a digit and a special character";
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Errors and request bodies.
// ---------------------------------------------------------------------------------------------------------

/** An API error: `{"error":{"code","message","details"}}` with its HTTP status. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * Statuses of the generic error codes: https://docs.hetzner.cloud/ ("Errors" › "Error Codes"): json_error 400,
 * unauthorized 401, not_found 404, uniqueness_error 409, resource_unavailable 412, invalid_input 422,
 * service_error 422, locked 423, protected 423.
 */
const invalidInput = (field: string, message: string) =>
  new ApiError(422, "invalid_input", `invalid input in field '${field}': ${message}`, {
    fields: [{ name: field, messages: [message] }],
  });
const notFound = (what: string) => new ApiError(404, "not_found", `${what} not found`);
/** uniqueness_error, 409: the docs' example has details.fields naming the field. */
const notUnique = (field: string, message: string) =>
  new ApiError(409, "uniqueness_error", message, { fields: [{ name: field }] });
/** protected, 423 (docs' table): "The Action you are trying to start is protected for this resource". */
const isProtected = (what: string) => new ApiError(423, "protected", `${what} is protected`);

/** A JSON request body, read field by field with the types the API expects. */
class Body {
  constructor(private readonly raw: Record<string, unknown>) {}

  static of(value: unknown): Body {
    if (value === undefined || value === null) return new Body({});
    if (typeof value !== "object" || Array.isArray(value)) throw new ApiError(400, "json_error", "request body is not a JSON object");
    return new Body(value as Record<string, unknown>);
  }

  has(name: string): boolean {
    return this.raw[name] !== undefined && this.raw[name] !== null;
  }

  string(name: string): string | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw invalidInput(name, "must be a string");
    return v;
  }

  requiredString(name: string): string {
    const v = this.string(name);
    if (v === undefined || v === "") throw invalidInput(name, "is required");
    return v;
  }

  number(name: string): number | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v)) throw invalidInput(name, "must be an integer");
    return v;
  }

  boolean(name: string): boolean | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") throw invalidInput(name, "must be a boolean");
    return v;
  }

  /** An id-or-name field: a number, a numeric string or a name. */
  idOrName(name: string): number | string | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v === "number") return v;
    if (typeof v === "string") return /^\d+$/.test(v) ? Number(v) : v;
    throw invalidInput(name, "must be an ID or a name");
  }

  body(name: string): Body | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "object" || Array.isArray(v)) throw invalidInput(name, "must be an object");
    return new Body(v as Record<string, unknown>);
  }

  list(name: string): unknown[] {
    const v = this.raw[name];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw invalidInput(name, "must be a list");
    return v;
  }

  bodies(name: string): Body[] {
    return this.list(name).map((item) => {
      if (typeof item !== "object" || item === null || Array.isArray(item)) throw invalidInput(name, "must be a list of objects");
      return new Body(item as Record<string, unknown>);
    });
  }

  strings(name: string): string[] {
    return this.list(name).map((item) => {
      if (typeof item !== "string") throw invalidInput(name, "must be a list of strings");
      return item;
    });
  }

  labels(name = "labels"): Record<string, string> | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "object" || Array.isArray(v)) throw invalidInput(name, "must be an object");
    const labels: Record<string, string> = {};
    for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
      if (typeof value !== "string") throw invalidInput(name, `value of '${key}' must be a string`);
      if (!LABEL_KEY.test(key) || key.startsWith("hetzner.cloud/")) throw invalidInput(name, `'${key}' is not a valid label key`);
      if (value !== "" && !LABEL_VALUE.test(value)) throw invalidInput(name, `'${value}' is not a valid label value`);
      labels[key] = value;
    }
    return labels;
  }
}

/** Label rules from the docs ("Labels"): an optional DNS-subdomain prefix, a name of up to 63 characters. */
const LABEL_NAME = "[a-zA-Z0-9](?:[a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?";
const LABEL_KEY = new RegExp(`^(?:[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?/)?${LABEL_NAME}$`);
const LABEL_VALUE = new RegExp(`^${LABEL_NAME}$`);

/** A label selector (docs, "Label Selector"): k==v, k=v, k!=v, k, !k, k in (a,b), k notin (a,b), comma-joined. */
function labelSelector(selector: string): (labels: Record<string, string>) => boolean {
  const terms: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      terms.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  terms.push(current);
  const tests = terms.map((raw) => {
    const term = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = /^!\s*([^\s=!(),]+)$/.exec(term))) {
      const key = m[1];
      return (l: Record<string, string>) => !(key in l);
    }
    if ((m = /^([^\s=!(),]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const [, key, op, list] = m;
      const values = list.split(",").map((v) => v.trim());
      return op === "in"
        ? (l: Record<string, string>) => key in l && values.includes(l[key])
        : (l: Record<string, string>) => !(key in l && values.includes(l[key]));
    }
    if ((m = /^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(term))) {
      const [, key, op, value] = m;
      return op === "!=" ? (l: Record<string, string>) => l[key] !== value : (l: Record<string, string>) => l[key] === value;
    }
    if ((m = /^([^\s=!(),]+)$/.exec(term))) {
      const key = m[1];
      return (l: Record<string, string>) => key in l;
    }
    throw invalidInput("label_selector", `'${selector}' is not a valid label selector`);
  });
  return (labels) => tests.every((t) => t(labels));
}

/** Hetzner's SSH key fingerprint: MD5 of the key blob, colon-separated hex. */
function sshFingerprint(publicKey: string): string {
  const parts = publicKey.trim().split(/\s+/);
  const blob = parts.length >= 2 ? Buffer.from(parts[1], "base64") : Buffer.alloc(0);
  // The blob starts with the key type as an SSH string; a mismatch means it is not a public key.
  const typeLength = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (typeLength <= 0 || blob.subarray(4, 4 + typeLength).toString() !== parts[0]) {
    throw invalidInput("public_key", "invalid public key");
  }
  return (crypto.createHash("md5").update(blob).digest("hex").match(/../g) ?? []).join(":");
}

/** An IPv4 or IPv6 network in CIDR notation, as firewall rules take them. */
function isCidr(value: string): boolean {
  const [ip, bits, ...rest] = value.split("/");
  if (rest.length > 0 || bits === undefined || !/^\d+$/.test(bits)) return false;
  const isV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(ip) && ip.split(".").every((o) => Number(o) <= 255);
  const isV6 = !isV4 && ip.includes(":") && /^[0-9a-fA-F:.]+$/.test(ip);
  return (isV4 && Number(bits) <= 32) || (isV6 && Number(bits) <= 128);
}

/** Hostname rules for server names (docs, "Update a Server": valid hostnames as per RFC 1123). */
const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

// ---------------------------------------------------------------------------------------------------------
// Routing.
// ---------------------------------------------------------------------------------------------------------

interface Request {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Body;
}

interface Reply {
  status: number;
  body?: unknown;
}

type Handler = (req: Request) => Reply;

interface Route {
  method: string;
  pattern: string;
  segments: string[];
  handler: Handler;
}

/** Bookkeeping of a running action, next to its public FakeAction. */
interface ActionRun {
  notBefore: number;
  /** How many reads have shown it so far; starts at -1 as the response that creates it does not count. */
  seen: number;
  /** A hook the action waits for (onServerCreated, onServerDeleted). */
  gate: { settled: boolean; error?: string; done: Promise<void> };
  /** An action that must finish first (start_server after create_server). */
  after?: number;
  /** Applied when it succeeds; may throw to make it fail. */
  onSuccess?: () => void;
}

const now = () => new Date().toISOString();

export class FakeHetznerCloud {
  readonly state: FakeHetznerState = {
    servers: new Map(),
    volumes: new Map(),
    firewalls: new Map(),
    sshKeys: new Map(),
    storageBoxes: new Map(),
    actions: new Map(),
  };
  readonly requests: FakeRequest[] = [];

  private readonly host: string;
  private readonly port: number;
  private readonly actionDelayMs: number;
  private readonly routes: Route[] = [];
  /** The Hetzner API's (Storage Boxes), under /hetzner/v1. */
  private readonly hetznerRoutes: Route[] = [];
  private readonly runs = new Map<number, ActionRun>();
  private readonly ids = { server: 1000, volume: 2000, firewall: 3000, sshKey: 4000, action: 5000, primaryIp: 6000, storageBox: 7000, subaccount: 8000 };
  private nextIpv4Host = 10;
  private nextIpv6Net = 1;
  private server?: http.Server;
  private address?: AddressInfo;

  constructor(private readonly options: FakeHetznerOptions = {}) {
    this.host = options.host ?? "127.0.0.1";
    this.port = options.port ?? 0;
    this.actionDelayMs = options.actionDelayMs ?? 100;
    this.defineRoutes();
    this.defineStorageBoxRoutes();
  }

  /** The API base the provider takes as its endpoint, e.g. http://127.0.0.1:41234/v1. */
  get endpoint(): string {
    if (!this.address) throw new Error("FakeHetznerCloud is not started");
    const host = this.address.family === "IPv6" ? `[${this.address.address}]` : this.address.address;
    return `http://${host}:${this.address.port}/v1`;
  }

  /** The Hetzner API's base (Storage Boxes), which the provider takes from HETZNER_ENDPOINT. */
  get hetznerEndpoint(): string {
    return this.endpoint.replace(/\/v1$/, "/hetzner/v1");
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, this.host, () => resolve());
    });
    this.server = server;
    this.address = server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  }

  /** Requests for paths the fake does not serve: the gaps a test should see. */
  unservedRequests(): FakeRequest[] {
    return this.requests.filter((r) => r.route === null);
  }

  /** Finishes every running action now (waiting for the hooks they wait for), without anyone polling. */
  async settle(): Promise<void> {
    for (;;) {
      const running = [...this.state.actions.values()].filter((a) => a.status === "running");
      if (running.length === 0) return;
      for (const action of running) {
        const run = this.runs.get(action.id)!;
        await run.gate.done;
        if (run.after === undefined || this.state.actions.get(run.after)?.status !== "running") this.finish(action, run);
      }
    }
  }

  /**
   * What the fake holds, as JSON data (./snapshot.ts), for a fixture: the servers, volumes, firewalls, SSH keys and
   * Storage Boxes, the counters that give the next ids and addresses, and the port it listens on (a restored state
   * keeps its endpoint, which the stack's state records). Settle first: the actions' history is left out.
   */
  snapshot(): HetznerSnapshot {
    const { servers, volumes, firewalls, sshKeys, storageBoxes } = this.state;
    const state = toPlain({ servers, volumes, firewalls, sshKeys, storageBoxes });
    return { port: this.address?.port ?? this.port, ids: { ...this.ids }, nextIpv4Host: this.nextIpv4Host, nextIpv6Net: this.nextIpv6Net, state };
  }

  /** Puts a snapshot's state back (before start(); the port is the constructor's, see LocalCloud). */
  restore(snapshot: HetznerSnapshot): void {
    if (this.server) throw new Error("FakeHetznerCloud.restore: restore before start()");
    const restored = fromPlain<Omit<FakeHetznerState, "actions">>(snapshot.state);
    for (const key of ["servers", "volumes", "firewalls", "sshKeys", "storageBoxes"] as const) {
      this.state[key].clear();
      for (const [id, item] of restored[key] as Map<number, never>) (this.state[key] as Map<number, unknown>).set(id, item);
    }
    Object.assign(this.ids, snapshot.ids);
    this.nextIpv4Host = snapshot.nextIpv4Host;
    this.nextIpv6Net = snapshot.nextIpv6Net;
  }

  // -------------------------------------------------------------------------------------------------------
  // HTTP
  // -------------------------------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    const entry: FakeRequest = { method, path: url.pathname, query: url.search, status: 0, route: null, at: Date.now() };
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");

    let reply: Reply;
    try {
      let parsed: unknown = undefined;
      if (text.trim() !== "") {
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new ApiError(400, "json_error", "request body is not valid JSON");
        }
        entry.body = parsed;
      }
      this.authorize(req.headers.authorization);
      const match = url.pathname.startsWith("/v1/")
        ? this.match(this.routes, method, url.pathname.slice("/v1".length))
        : url.pathname.startsWith("/hetzner/v1/")
          ? this.match(this.hetznerRoutes, method, url.pathname.slice("/hetzner/v1".length))
          : undefined;
      if (!match) throw new ApiError(404, "not_found", `${method} ${url.pathname} is not served by the fake Hetzner Cloud API`);
      entry.route = `${match.route.method} ${match.route.pattern}`;
      reply = match.route.handler({ params: match.params, query: url.searchParams, body: Body.of(parsed) });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      reply = { status: err.status, body: { error: { code: err.code, message: err.message, details: err.details } } };
    }

    entry.status = reply.status;
    this.requests.push(entry);
    res.statusCode = reply.status;
    res.setHeader("RateLimit-Limit", "3600");
    res.setHeader("RateLimit-Remaining", "3599");
    res.setHeader("RateLimit-Reset", String(Math.floor(Date.now() / 1000) + 1));
    if (reply.body === undefined) {
      res.end();
    } else {
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify(reply.body));
    }
  }

  private authorize(header: string | undefined): void {
    const token = /^Bearer (\S+)$/.exec(header ?? "")?.[1];
    if (!token || (this.options.token !== undefined && token !== this.options.token)) {
      throw new ApiError(401, "unauthorized", "unable to authenticate");
    }
  }

  private route(method: string, pattern: string, handler: Handler, table = this.routes): void {
    table.push({ method, pattern, segments: pattern.split("/").filter(Boolean), handler });
  }

  private match(table: Route[], method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    const segments = path.split("/").filter(Boolean);
    for (const route of table) {
      if (route.method !== method || route.segments.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const ok = route.segments.every((s, i) => {
        if (s.startsWith("{")) {
          params[s.slice(1, -1)] = decodeURIComponent(segments[i]);
          return true;
        }
        return s === segments[i];
      });
      if (ok) return { route, params };
    }
    return undefined;
  }

  private defineRoutes(): void {
    // Catalog lookups: the provider asks for the server type by name, then the image by name and architecture.
    this.route("GET", "/server_types", ({ query }) => this.list("server_types", SERVER_TYPE_INFO.map((t) => this.serverTypeJson(t)), query));
    this.route("GET", "/server_types/{id}", ({ params }) => {
      const t = SERVER_TYPE_INFO.find((x) => x.id === Number(params.id));
      if (!t) throw notFound("server type");
      return { status: 200, body: { server_type: this.serverTypeJson(t) } };
    });
    this.route("GET", "/images", ({ query }) => this.listImages(query));
    this.route("GET", "/images/{id}", ({ params }) => {
      const image = IMAGES.find((x) => x.id === Number(params.id));
      if (!image) throw notFound("image");
      return { status: 200, body: { image: imageJson(image) } };
    });
    this.route("GET", "/locations", ({ query }) => this.list("locations", Object.values(LOCATION_INFO).map(locationJson), query));
    this.route("GET", "/locations/{id}", ({ params }) => {
      const loc = Object.values(LOCATION_INFO).find((x) => x.id === Number(params.id));
      if (!loc) throw notFound("location");
      return { status: 200, body: { location: locationJson(loc) } };
    });
    this.route("GET", "/datacenters", ({ query }) =>
      this.list("datacenters", Object.values(LOCATION_INFO).map((l) => this.datacenterJson(l)), query),
    );
    this.route("GET", "/datacenters/{id}", ({ params }) => {
      const loc = Object.values(LOCATION_INFO).find((x) => x.datacenter.id === Number(params.id));
      if (!loc) throw notFound("datacenter");
      return { status: 200, body: { datacenter: this.datacenterJson(loc) } };
    });
    this.route("GET", "/pricing", () => ({ status: 200, body: { pricing: pricingJson() } }));

    // Actions: hcloud-go's WaitFor polls GET /actions?id=..&id=..&sort=status&sort=id.
    this.route("GET", "/actions", ({ query }) => {
      const ids = query.getAll("id").map(Number);
      // Listing actions without ids was removed on 2025-01-30 (hcloud-go ActionClient.All's deprecation note).
      if (ids.length === 0) throw invalidInput("id", "is required");
      return this.listActions([...this.state.actions.values()].filter((a) => ids.includes(a.id)), query);
    });
    this.route("GET", "/actions/{id}", ({ params }) => ({ status: 200, body: { action: this.actionJson(this.getAction(params.id)) } }));
    for (const [resource, kind] of [
      ["servers", "server"],
      ["volumes", "volume"],
      ["firewalls", "firewall"],
    ] as const) {
      this.route("GET", `/${resource}/actions`, ({ query }) =>
        this.listActions([...this.state.actions.values()].filter((a) => a.resources.some((r) => r.type === kind)), query),
      );
      this.route("GET", `/${resource}/actions/{id}`, ({ params }) => ({ status: 200, body: { action: this.actionJson(this.getAction(params.id)) } }));
      this.route("GET", `/${resource}/{id}/actions`, ({ params, query }) => {
        const id = Number(params.id);
        return this.listActions(
          [...this.state.actions.values()].filter((a) => a.resources.some((r) => r.type === kind && r.id === id)),
          query,
        );
      });
      this.route("GET", `/${resource}/{id}/actions/{action}`, ({ params }) => ({
        status: 200,
        body: { action: this.actionJson(this.getAction(params.action)) },
      }));
    }

    // SSH keys.
    this.route("GET", "/ssh_keys", ({ query }) => {
      let keys = [...this.state.sshKeys.values()];
      const fingerprint = query.get("fingerprint");
      if (fingerprint) keys = keys.filter((k) => k.fingerprint === fingerprint);
      return this.list("ssh_keys", keys.map(sshKeyJson), query, { labels: true });
    });
    this.route("GET", "/ssh_keys/{id}", ({ params }) => ({ status: 200, body: { ssh_key: sshKeyJson(this.getSshKey(params.id)) } }));
    this.route("POST", "/ssh_keys", ({ body }) => this.createSshKey(body));
    this.route("PUT", "/ssh_keys/{id}", ({ params, body }) => {
      const key = this.getSshKey(params.id);
      const name = body.string("name");
      if (name !== undefined && name !== "" && name !== key.name) {
        this.checkUnique(this.state.sshKeys, name, "SSH key");
        key.name = name;
      }
      key.labels = body.labels() ?? key.labels;
      return { status: 200, body: { ssh_key: sshKeyJson(key) } };
    });
    this.route("DELETE", "/ssh_keys/{id}", ({ params }) => {
      this.state.sshKeys.delete(this.getSshKey(params.id).id);
      return { status: 204 };
    });

    // Firewalls.
    this.route("GET", "/firewalls", ({ query }) =>
      this.list("firewalls", [...this.state.firewalls.values()].map((f) => this.firewallJson(f)), query, { labels: true }),
    );
    this.route("GET", "/firewalls/{id}", ({ params }) => ({ status: 200, body: { firewall: this.firewallJson(this.getFirewall(params.id)) } }));
    this.route("POST", "/firewalls", ({ body }) => this.createFirewall(body));
    this.route("PUT", "/firewalls/{id}", ({ params, body }) => {
      const fw = this.getFirewall(params.id);
      const name = body.string("name");
      if (name !== undefined && name !== "" && name !== fw.name) {
        this.checkUnique(this.state.firewalls, name, "firewall");
        fw.name = name;
      }
      fw.labels = body.labels() ?? fw.labels;
      return { status: 200, body: { firewall: this.firewallJson(fw) } };
    });
    this.route("DELETE", "/firewalls/{id}", ({ params }) => {
      const fw = this.getFirewall(params.id);
      // resource_in_use, 422: "Firewall still applied to a resource" (docs, "Delete a Firewall", operation
      // specific errors). The provider removes it from its resources first (firewall/resource.go, Delete).
      if (fw.appliedTo.length > 0) throw new ApiError(422, "resource_in_use", `firewall with ID '${fw.id}' is still in use`);
      this.state.firewalls.delete(fw.id);
      return { status: 204 };
    });
    this.route("POST", "/firewalls/{id}/actions/set_rules", ({ params, body }) => {
      const fw = this.getFirewall(params.id);
      fw.rules = body.bodies("rules").map(firewallRule);
      const actions = [
        this.newAction("set_firewall_rules", [{ id: fw.id, type: "firewall" }]),
        ...this.serversOf(fw).map((s) => this.newAction("apply_firewall", [{ id: fw.id, type: "firewall" }, { id: s.id, type: "server" }])),
      ];
      return { status: 201, body: { actions: actions.map((a) => this.actionJson(a)) } };
    });
    this.route("POST", "/firewalls/{id}/actions/apply_to_resources", ({ params, body }) => {
      const fw = this.getFirewall(params.id);
      const targets = body.bodies("apply_to").map((b) => this.firewallTarget(b));
      for (const t of targets) {
        // firewall_already_applied (hcloud-go error.go: "Firewall was already applied on resource"); 422 like
        // the other operation-specific firewall errors in the docs.
        if (fw.appliedTo.some((a) => sameTarget(a, t))) {
          throw new ApiError(422, "firewall_already_applied", `firewall with ID '${fw.id}' is already applied`);
        }
      }
      fw.appliedTo.push(...targets);
      const actions = targets.map((t) => this.newAction("apply_firewall", [{ id: fw.id, type: "firewall" }, ...targetResources(t)]));
      return { status: 201, body: { actions: actions.map((a) => this.actionJson(a)) } };
    });
    this.route("POST", "/firewalls/{id}/actions/remove_from_resources", ({ params, body }) => {
      const fw = this.getFirewall(params.id);
      const targets = body.bodies("remove_from").map((b) => this.firewallTarget(b, false));
      // Removing what is not applied is no error: hcloud-go marks `firewall_already_removed` as no longer used
      // by the API (error.go, changelog 2025-08-04); the provider tolerates firewall_resource_not_found.
      fw.appliedTo = fw.appliedTo.filter((a) => !targets.some((t) => sameTarget(a, t)));
      const actions = targets.map((t) => this.newAction("remove_firewall", [{ id: fw.id, type: "firewall" }, ...targetResources(t)]));
      return { status: 201, body: { actions: actions.map((a) => this.actionJson(a)) } };
    });

    // Servers.
    this.route("GET", "/servers", ({ query }) => {
      let servers = [...this.state.servers.values()];
      const statuses = query.getAll("status");
      if (statuses.length > 0) servers = servers.filter((s) => statuses.includes(s.status));
      return this.list("servers", servers.map((s) => this.serverJson(s)), query, { labels: true });
    });
    this.route("GET", "/servers/{id}", ({ params }) => ({ status: 200, body: { server: this.serverJson(this.getServer(params.id)) } }));
    this.route("POST", "/servers", ({ body }) => this.createServer(body));
    this.route("PUT", "/servers/{id}", ({ params, body }) => {
      const server = this.getServer(params.id);
      const name = body.string("name");
      if (name !== undefined && name !== "" && name !== server.name) {
        if (!HOSTNAME.test(name)) throw invalidInput("name", "must be a valid hostname");
        this.checkUnique(this.state.servers, name, "server");
        server.name = name;
      }
      server.labels = body.labels() ?? server.labels;
      return { status: 200, body: { server: this.serverJson(server) } };
    });
    this.route("DELETE", "/servers/{id}", ({ params }) => this.deleteServer(this.getServer(params.id)));
    this.defineServerActions();

    // Volumes.
    this.route("GET", "/volumes", ({ query }) => {
      let volumes = [...this.state.volumes.values()];
      const statuses = query.getAll("status");
      if (statuses.length > 0) volumes = volumes.filter((v) => statuses.includes(v.status));
      return this.list("volumes", volumes.map(volumeJson), query, { labels: true });
    });
    this.route("GET", "/volumes/{id}", ({ params }) => ({ status: 200, body: { volume: volumeJson(this.getVolume(params.id)) } }));
    this.route("POST", "/volumes", ({ body }) => this.createVolume(body));
    this.route("PUT", "/volumes/{id}", ({ params, body }) => {
      const volume = this.getVolume(params.id);
      const name = body.string("name");
      if (name !== undefined && name !== "" && name !== volume.name) {
        this.checkUnique(this.state.volumes, name, "volume");
        volume.name = name;
      }
      volume.labels = body.labels() ?? volume.labels;
      return { status: 200, body: { volume: volumeJson(volume) } };
    });
    this.route("DELETE", "/volumes/{id}", ({ params }) => {
      const volume = this.getVolume(params.id);
      // Docs, "Delete a Volume": "The Volume must not be attached to a Server and it must not have delete
      // protection enabled." Protection answers `protected` (423, docs' error table).
      if (volume.protection.delete) throw isProtected(`volume with ID '${volume.id}'`);
      // An attached volume: the API answered service_error "volume with ID '…' is still attached to a server"
      // (hetznercloud/csi-driver#12, a real response logged in 2019); service_error is 422 in the docs' table.
      // The provider detaches first (volume/resource.go, resourceVolumeDelete).
      if (volume.server !== null) {
        throw new ApiError(422, "service_error", `volume with ID '${volume.id}' is still attached to a server`);
      }
      this.state.volumes.delete(volume.id);
      return { status: 204 };
    });
    this.route("POST", "/volumes/{id}/actions/attach", ({ params, body }) => {
      const volume = this.getVolume(params.id);
      const serverId = body.number("server");
      if (serverId === undefined) throw invalidInput("server", "is required");
      const server = this.state.servers.get(serverId);
      if (!server) throw invalidInput("server", `server with ID '${serverId}' not found`);
      this.attach(volume, server, body.boolean("automount") ?? false);
      const action = this.newAction("attach_volume", [{ id: volume.id, type: "volume" }, { id: server.id, type: "server" }]);
      return { status: 201, body: { action: this.actionJson(action) } };
    });
    this.route("POST", "/volumes/{id}/actions/detach", ({ params }) => {
      const volume = this.getVolume(params.id);
      const resources = [{ id: volume.id, type: "volume" }, ...(volume.server !== null ? [{ id: volume.server, type: "server" }] : [])];
      volume.server = null;
      const action = this.newAction("detach_volume", resources);
      return { status: 201, body: { action: this.actionJson(action) } };
    });
    this.route("POST", "/volumes/{id}/actions/change_protection", ({ params, body }) => {
      const volume = this.getVolume(params.id);
      volume.protection.delete = body.boolean("delete") ?? volume.protection.delete;
      const action = this.newAction("change_protection", [{ id: volume.id, type: "volume" }]);
      return { status: 201, body: { action: this.actionJson(action) } };
    });
    this.route("POST", "/volumes/{id}/actions/resize", ({ params, body }) => {
      const volume = this.getVolume(params.id);
      const size = body.number("size");
      // Docs, "Resize Volume": "Note that downsizing a Volume is not possible."
      if (size === undefined || size <= volume.size || size > 10240) throw invalidInput("size", "must be larger than the current size and at most 10240");
      volume.size = size;
      const action = this.newAction("resize_volume", [{ id: volume.id, type: "volume" }]);
      return { status: 201, body: { action: this.actionJson(action) } };
    });
  }

  /**
   * The Hetzner API's Storage Boxes and their sub-accounts: what hcloud-go's StorageBoxClient calls
   * (storage_box.go, storage_box_subaccount.go) for terraform-provider-hcloud's internal/storagebox and
   * internal/storageboxsubaccount, in the shapes of hcloud-go's schema/storage_box*.go.
   */
  private defineStorageBoxRoutes(): void {
    const route = (method: string, pattern: string, handler: Handler) => this.route(method, pattern, handler, this.hetznerRoutes);
    route("GET", "/storage_box_types", ({ query }) => this.list("storage_box_types", STORAGE_BOX_TYPE_INFO.map(storageBoxTypeJson), query));
    route("GET", "/storage_boxes", ({ query }) =>
      this.list("storage_boxes", [...this.state.storageBoxes.values()].map((b) => storageBoxJson(b)), query, { labels: true }),
    );
    route("GET", "/storage_boxes/{id}", ({ params }) => ({ status: 200, body: { storage_box: storageBoxJson(this.getStorageBox(params.id)) } }));
    route("POST", "/storage_boxes", ({ body }) => this.createStorageBox(body));
    route("PUT", "/storage_boxes/{id}", ({ params, body }) => {
      const box = this.getStorageBox(params.id);
      const name = body.string("name");
      if (name !== undefined && name !== "" && name !== box.name) {
        this.checkUnique(this.state.storageBoxes, name, "storage box");
        box.name = name;
      }
      box.labels = body.labels() ?? box.labels;
      return { status: 200, body: { storage_box: storageBoxJson(box) } };
    });
    route("DELETE", "/storage_boxes/{id}", ({ params }) => {
      const box = this.getStorageBox(params.id);
      // protected, 423 (docs' error table): delete protection refuses the deletion. The provider lifts it
      // first when Pulumi itself deletes the box (internal/storagebox/resource.go, Delete): what stops a prod
      // destroy is Pulumi's protect and the stack's deletion guard.
      if (box.protection.delete) throw isProtected(`storage box with ID '${box.id}'`);
      // Its sub-accounts and their directories go with it (Hetzner's Storage Box docs: a sub-account's
      // directory is the main user's, inside the box).
      this.state.storageBoxes.delete(box.id);
      const action = this.newAction("delete_storage_box", [{ id: box.id, type: "storage_box" }]);
      return { status: 201, body: { action: this.actionJson(action) } };
    });
    const boxAction = (command: string, actionCommand: string, apply: (box: FakeStorageBox, body: Body) => void) =>
      route("POST", `/storage_boxes/{id}/actions/${command}`, ({ params, body }) => {
        const box = this.getStorageBox(params.id);
        apply(box, body);
        const action = this.newAction(actionCommand, [{ id: box.id, type: "storage_box" }]);
        return { status: 201, body: { action: this.actionJson(action) } };
      });
    boxAction("change_protection", "change_protection", (box, body) => {
      box.protection.delete = body.boolean("delete") ?? box.protection.delete;
    });
    boxAction("update_access_settings", "update_access_settings", (box, body) => {
      box.access = { ...box.access, ...storageBoxAccess(body) };
    });
    boxAction("reset_password", "reset_password", (box, body) => {
      box.password = storageBoxPassword(body);
    });

    route("GET", "/storage_boxes/{id}/subaccounts", ({ params, query }) => {
      const box = this.getStorageBox(params.id);
      return this.list("subaccounts", [...box.subaccounts.values()].map((a) => subaccountJson(box, a)), query, { labels: true });
    });
    route("GET", "/storage_boxes/{id}/subaccounts/{sub}", ({ params }) => {
      const box = this.getStorageBox(params.id);
      return { status: 200, body: { subaccount: subaccountJson(box, this.getSubaccount(box, params.sub)) } };
    });
    route("POST", "/storage_boxes/{id}/subaccounts", ({ params, body }) => this.createSubaccount(this.getStorageBox(params.id), body));
    route("PUT", "/storage_boxes/{id}/subaccounts/{sub}", ({ params, body }) => {
      const box = this.getStorageBox(params.id);
      const account = this.getSubaccount(box, params.sub);
      const name = body.string("name");
      if (name !== undefined && name !== "") account.name = name;
      account.description = body.string("description") ?? account.description;
      account.labels = body.labels() ?? account.labels;
      return { status: 200, body: { subaccount: subaccountJson(box, account) } };
    });
    route("DELETE", "/storage_boxes/{id}/subaccounts/{sub}", ({ params }) => {
      const box = this.getStorageBox(params.id);
      const account = this.getSubaccount(box, params.sub);
      box.subaccounts.delete(account.id);
      const action = this.newAction("delete_subaccount", [{ id: box.id, type: "storage_box" }]);
      return { status: 201, body: { action: this.actionJson(action) } };
    });
    const subaccountAction = (command: string, apply: (account: FakeStorageBoxSubaccount, body: Body) => void) =>
      route("POST", `/storage_boxes/{id}/subaccounts/{sub}/actions/${command}`, ({ params, body }) => {
        const box = this.getStorageBox(params.id);
        const account = this.getSubaccount(box, params.sub);
        apply(account, body);
        const action = this.newAction(command, [{ id: box.id, type: "storage_box" }]);
        return { status: 201, body: { action: this.actionJson(action) } };
      });
    subaccountAction("update_access_settings", (account, body) => {
      account.access = { ...account.access, ...storageBoxAccess(body), readonly: body.boolean("readonly") ?? account.access.readonly };
    });
    subaccountAction("reset_subaccount_password", (account, body) => {
      account.password = storageBoxPassword(body);
    });
    subaccountAction("change_home_directory", (account, body) => {
      account.homeDirectory = body.requiredString("home_directory");
    });
  }

  private createStorageBox(body: Body): Reply {
    const name = body.requiredString("name");
    this.checkUnique(this.state.storageBoxes, name, "storage box");
    const typeRef = body.idOrName("storage_box_type");
    const type = STORAGE_BOX_TYPE_INFO.find((t) => t.id === typeRef || t.name === typeRef);
    if (!type) throw invalidInput("storage_box_type", `storage box type '${String(typeRef)}' not found`);
    const locationRef = body.idOrName("location");
    const location = Object.values(LOCATION_INFO).find((l) => l.id === locationRef || l.name === locationRef);
    if (!location) throw invalidInput("location", `location '${String(locationRef)}' not found`);
    const id = ++this.ids.storageBox;
    const access = body.body("access_settings");
    const box: FakeStorageBox = {
      id,
      name,
      status: "initializing",
      username: null,
      server: null,
      system: null,
      storageBoxType: type.name,
      location: location.name,
      // Hetzner's defaults for what the request leaves out: everything off (the provider's schema defaults).
      access: {
        reachableExternally: false,
        sambaEnabled: false,
        sshEnabled: false,
        webdavEnabled: false,
        zfsEnabled: false,
        ...(access ? storageBoxAccess(access) : {}),
        ...(access?.boolean("zfs_enabled") !== undefined ? { zfsEnabled: access.boolean("zfs_enabled")! } : {}),
      },
      labels: body.labels() ?? {},
      protection: { delete: false },
      password: storageBoxPassword(body),
      created: now(),
      subaccounts: new Map(),
    };
    this.state.storageBoxes.set(id, box);
    // The create response shows the box initializing, with no user, host or system yet (hcloud-go
    // storage_box_test.go, TestStorageBoxClientCreate); they exist once the create action has succeeded.
    const action = this.newAction("create_storage_box", [{ id, type: "storage_box" }], {
      onSuccess: () => {
        box.status = "active";
        box.username = `u${100000 + id}`;
        box.server = `${box.username}.your-storagebox.de`;
        box.system = `${location.name.toUpperCase()}-BX${id % 1000}`;
      },
    });
    return { status: 201, body: { storage_box: storageBoxJson(box), action: this.actionJson(action) } };
  }

  private createSubaccount(box: FakeStorageBox, body: Body): Reply {
    // locked, 423: "For a single storage box, only a single subaccount can be created simultaneously, all others
    // fail with `locked` error" (terraform-provider-hcloud internal/storageboxsubaccount/resource.go, Create,
    // which retries on it).
    const creating = [...this.state.actions.values()].some(
      (a) => a.command === "create_subaccount" && a.status === "running" && a.resources.some((r) => r.type === "storage_box" && r.id === box.id),
    );
    if (creating) throw new ApiError(423, "locked", `storage box with ID '${box.id}' is locked`);
    const homeDirectory = body.requiredString("home_directory");
    const id = ++this.ids.subaccount;
    const access = body.body("access_settings");
    const user = box.username ?? `u${100000 + box.id}`;
    const account: FakeStorageBoxSubaccount = {
      id,
      name: body.string("name") ?? "",
      username: `${user}-sub${box.subaccounts.size + 1}`,
      homeDirectory,
      description: body.string("description") ?? "",
      labels: body.labels() ?? {},
      access: {
        reachableExternally: false,
        sambaEnabled: false,
        sshEnabled: false,
        webdavEnabled: false,
        readonly: false,
        ...(access ? storageBoxAccess(access) : {}),
        ...(access?.boolean("readonly") !== undefined ? { readonly: access.boolean("readonly")! } : {}),
      },
      password: storageBoxPassword(body),
      created: now(),
    };
    box.subaccounts.set(id, account);
    const action = this.newAction("create_subaccount", [{ id: box.id, type: "storage_box" }]);
    // The create response names the sub-account by its ids only (hcloud-go schema StorageBoxSubaccountCreateResponse).
    return { status: 201, body: { subaccount: { id, storage_box: box.id }, action: this.actionJson(action) } };
  }

  private getStorageBox(id: string): FakeStorageBox {
    const box = this.state.storageBoxes.get(Number(id));
    if (!box) throw notFound(`storage box with ID '${id}'`);
    return box;
  }

  private getSubaccount(box: FakeStorageBox, id: string): FakeStorageBoxSubaccount {
    const account = box.subaccounts.get(Number(id));
    if (!account) throw notFound(`subaccount with ID '${id}'`);
    return account;
  }

  private defineServerActions(): void {
    const power = (command: string, actionCommand: string, event: PowerEvent, during: ServerStatus, after: ServerStatus) =>
      this.route("POST", `/servers/{id}/actions/${command}`, ({ params }) => {
        const server = this.getServer(params.id);
        server.status = during;
        const action = this.newAction(actionCommand, [{ id: server.id, type: "server" }], {
          onSuccess: () => {
            if (!this.state.servers.has(server.id)) return;
            server.status = after;
            this.options.onServerPower?.(server, event, actionCommand);
          },
        });
        return { status: 201, body: { action: this.actionJson(action) } };
      });
    power("poweron", "start_server", "on", "starting", "running");
    power("poweroff", "stop_server", "off", "stopping", "off");
    power("shutdown", "shutdown_server", "off", "stopping", "off");
    power("reboot", "reboot_server", "reboot", "running", "running");
    power("reset", "reset_server", "reboot", "running", "running");

    const simple = (command: string, actionCommand: string, apply: (server: FakeServer, body: Body) => void) =>
      this.route("POST", `/servers/{id}/actions/${command}`, ({ params, body }) => {
        const server = this.getServer(params.id);
        apply(server, body);
        const action = this.newAction(actionCommand, [{ id: server.id, type: "server" }]);
        return { status: 201, body: { action: this.actionJson(action) } };
      });
    simple("enable_backup", "enable_backup", (s) => {
      s.backupWindow = "22-02";
    });
    simple("disable_backup", "disable_backup", (s) => {
      s.backupWindow = null;
    });
    simple("change_protection", "change_protection", (s, body) => {
      const del = body.boolean("delete");
      const rebuild = body.boolean("rebuild");
      s.protection = { delete: del ?? s.protection.delete, rebuild: rebuild ?? s.protection.rebuild };
    });
    simple("disable_rescue", "disable_rescue", (s) => {
      s.rescueEnabled = false;
    });

    this.route("POST", "/servers/{id}/actions/enable_rescue", ({ params }) => {
      const server = this.getServer(params.id);
      server.rescueEnabled = true;
      const action = this.newAction("enable_rescue", [{ id: server.id, type: "server" }]);
      return { status: 201, body: { action: this.actionJson(action), root_password: crypto.randomBytes(12).toString("base64url") } };
    });

    this.route("POST", "/servers/{id}/actions/change_type", ({ params, body }) => {
      const server = this.getServer(params.id);
      // server_not_stopped, 422: "The action requires a stopped server" (docs, "Change the Type of a Server",
      // operation specific errors: "Server must be powered off for this command to succeed"). The provider
      // powers the server off and waits before it asks (server/resource.go, resourceServerUpdate).
      if (server.status !== "off") throw new ApiError(422, "server_not_stopped", "server must be stopped before changing type");
      const ref = body.idOrName("server_type");
      const type = SERVER_TYPE_INFO.find((t) => t.id === ref || t.name === ref);
      if (!type) throw invalidInput("server_type", `server type '${String(ref)}' not found`);
      const current = SERVER_TYPE_INFO.find((t) => t.name === server.serverType)!;
      // invalid_server_type, 422 (same table): "The server type does not fit for the given server".
      if (type.architecture !== current.architecture || !type.locations.includes(server.location)) {
        throw new ApiError(422, "invalid_server_type", `server type '${type.name}' does not fit this server`);
      }
      // A disk never shrinks: "upgrade_disk: If false, do not upgrade the disk (this allows downgrading the
      // Server type later)" (docs, "Change the Type of a Server"); a type whose disk is smaller than the server's
      // upgraded one does not fit (invalid_server_type, same table).
      if (type.disk < server.diskGb) {
        throw new ApiError(422, "invalid_server_type", `server type '${type.name}' has a ${type.disk} GB disk, smaller than the server's ${server.diskGb} GB`);
      }
      const upgradeDisk = body.boolean("upgrade_disk") ?? false;
      server.status = "migrating";
      const action = this.newAction("change_server_type", [{ id: server.id, type: "server" }], {
        // Docs: change_type "copies the content of its disk, and starts it again".
        onSuccess: () => {
          if (!this.state.servers.has(server.id)) return;
          server.serverType = type.name;
          if (upgradeDisk) server.diskGb = type.disk;
          server.status = "running";
          this.options.onServerPower?.(server, "on", "change_server_type");
        },
      });
      return { status: 201, body: { action: this.actionJson(action) } };
    });

    this.route("POST", "/servers/{id}/actions/rebuild", ({ params, body }) => {
      const server = this.getServer(params.id);
      // protected, 423: rebuild protection refuses a rebuild (docs' error table; the server's
      // protection.rebuild "prevents the Server from being rebuilt").
      if (server.protection.rebuild) throw isProtected(`server with ID '${server.id}'`);
      const image = this.findImage(body.idOrName("image"), server.image.architecture);
      server.image = { id: image.id, name: image.name, architecture: image.architecture };
      server.status = "rebuilding";
      const action = this.newAction("rebuild_server", [{ id: server.id, type: "server" }], {
        onSuccess: () => {
          if (!this.state.servers.has(server.id)) return;
          server.status = "running";
          this.options.onServerPower?.(server, "reboot", "rebuild_server");
        },
      });
      return { status: 201, body: { action: this.actionJson(action), root_password: null } };
    });
  }

  // -------------------------------------------------------------------------------------------------------
  // Resources
  // -------------------------------------------------------------------------------------------------------

  private createSshKey(body: Body): Reply {
    const name = body.requiredString("name");
    const publicKey = body.requiredString("public_key");
    this.checkUnique(this.state.sshKeys, name, "SSH key");
    const fingerprint = sshFingerprint(publicKey);
    // uniqueness_error with the docs' own example: "SSH key with the same fingerprint already exists".
    if ([...this.state.sshKeys.values()].some((k) => k.fingerprint === fingerprint)) {
      throw notUnique("public_key", "SSH key with the same fingerprint already exists");
    }
    const key: FakeSshKey = { id: ++this.ids.sshKey, name, created: now(), publicKey, fingerprint, labels: body.labels() ?? {} };
    this.state.sshKeys.set(key.id, key);
    return { status: 201, body: { ssh_key: sshKeyJson(key) } };
  }

  private createFirewall(body: Body): Reply {
    const name = body.requiredString("name");
    this.checkUnique(this.state.firewalls, name, "firewall");
    const rules = body.bodies("rules").map(firewallRule);
    const targets = body.bodies("apply_to").map((b) => this.firewallTarget(b));
    const fw: FakeFirewall = { id: ++this.ids.firewall, name, created: now(), labels: body.labels() ?? {}, rules, appliedTo: targets };
    this.state.firewalls.set(fw.id, fw);
    const actions = targets.map((t) => this.newAction("apply_firewall", [{ id: fw.id, type: "firewall" }, ...targetResources(t)]));
    return { status: 201, body: { firewall: this.firewallJson(fw), actions: actions.map((a) => this.actionJson(a)) } };
  }

  private createServer(body: Body): Reply {
    const name = body.requiredString("name");
    if (!HOSTNAME.test(name)) throw invalidInput("name", "must be a valid hostname");
    this.checkUnique(this.state.servers, name, "server");

    const typeRef = body.idOrName("server_type");
    if (typeRef === undefined) throw invalidInput("server_type", "is required");
    const type = SERVER_TYPE_INFO.find((t) => t.id === typeRef || t.name === typeRef);
    if (!type) throw invalidInput("server_type", `server type '${String(typeRef)}' not found`);
    const image = this.findImage(body.idOrName("image"), type.architecture);

    let location: LocationInfo | undefined;
    const datacenter = body.string("datacenter");
    const locationRef = body.idOrName("location");
    if (locationRef !== undefined) {
      location = Object.values(LOCATION_INFO).find((l) => l.id === locationRef || l.name === locationRef);
      if (!location) throw invalidInput("location", `location '${String(locationRef)}' not found`);
    } else if (datacenter !== undefined) {
      location = Object.values(LOCATION_INFO).find((l) => l.datacenter.name === datacenter);
      if (!location) throw invalidInput("datacenter", `datacenter '${datacenter}' not found`);
    } else {
      location = LOCATION_INFO.fsn1;
    }
    // resource_unavailable, 412: "The requested resource is currently unavailable (e.g. not available for
    // order)" (docs' error table): a server type is only sold where its `locations` list it.
    if (!type.locations.includes(location.name)) {
      throw new ApiError(412, "resource_unavailable", `server type ${type.name} is not available in ${location.name}`);
    }

    const sshKeys = body.list("ssh_keys").map((ref) => {
      const key =
        typeof ref === "number"
          ? this.state.sshKeys.get(ref)
          : [...this.state.sshKeys.values()].find((k) => k.name === ref || String(k.id) === ref);
      if (!key) throw invalidInput("ssh_keys", `SSH key '${String(ref)}' not found`);
      return key.id;
    });
    const firewallIds = body.bodies("firewalls").map((f) => {
      const id = f.number("firewall");
      if (id === undefined || !this.state.firewalls.has(id)) throw invalidInput("firewalls", `firewall '${String(id)}' not found`);
      return id;
    });
    const volumes = body.list("volumes").map((ref) => {
      const volume = typeof ref === "number" ? this.state.volumes.get(ref) : undefined;
      if (!volume) throw invalidInput("volumes", `volume '${String(ref)}' not found`);
      return volume;
    });
    // Private networks and placement groups are not modelled: refuse them rather than pretend.
    if (body.list("networks").length > 0) throw invalidInput("networks", "networks are not supported by the fake Hetzner Cloud API");
    if (body.has("placement_group")) throw invalidInput("placement_group", "placement groups are not supported by the fake Hetzner Cloud API");

    const publicNet = body.body("public_net");
    const enableIpv4 = publicNet?.boolean("enable_ipv4") ?? true;
    const enableIpv6 = publicNet?.boolean("enable_ipv6") ?? true;
    if (publicNet?.has("ipv4") || publicNet?.has("ipv6")) {
      throw invalidInput("public_net", "existing primary IPs are not supported by the fake Hetzner Cloud API");
    }
    const startAfterCreate = body.boolean("start_after_create") ?? true;
    for (const volume of volumes) {
      if (volume.location !== location.name) throw invalidInput("volumes", `volume ${volume.id} is in another location`);
      if (volume.server !== null) throw volumeAlreadyAttached(volume);
    }

    const server: FakeServer = {
      id: ++this.ids.server,
      name,
      status: "initializing",
      created: now(),
      serverType: type.name,
      diskGb: type.disk,
      location: location.name,
      image: { id: image.id, name: image.name, architecture: image.architecture },
      userData: body.string("user_data") ?? null,
      sshKeys,
      labels: body.labels() ?? {},
      protection: { delete: false, rebuild: false },
      backupWindow: null,
      rescueEnabled: false,
      ipv4: enableIpv4 ? { id: ++this.ids.primaryIp, ip: this.allocateIpv4() } : null,
      ipv6: enableIpv6 ? { id: ++this.ids.primaryIp, network: this.allocateIpv6() } : null,
    };
    this.state.servers.set(server.id, server);
    // Firewalls given at creation are applied from the start: the server is never reachable unfiltered.
    for (const id of firewallIds) this.state.firewalls.get(id)!.appliedTo.push({ type: "server", server: server.id });
    const automount = body.boolean("automount") ?? false;
    for (const volume of volumes) this.attach(volume, server, automount);

    const resources = [{ id: server.id, type: "server" }];
    const create = this.newAction("create_server", resources, {
      gate: () => this.options.onServerCreated?.(server),
      onSuccess: () => {
        if (this.state.servers.get(server.id) === server && server.status === "initializing") {
          server.status = startAfterCreate ? "starting" : "off";
        }
      },
    });
    const next = startAfterCreate
      ? [
          this.newAction("start_server", resources, {
            after: create.id,
            onSuccess: () => {
              if (this.state.servers.get(server.id) === server && server.status === "starting") server.status = "running";
            },
          }),
        ]
      : [];
    for (const volume of volumes) {
      next.push(this.newAction("attach_volume", [{ id: volume.id, type: "volume" }, ...resources], { after: create.id }));
    }
    return {
      status: 201,
      body: {
        server: this.serverJson(server),
        action: this.actionJson(create),
        next_actions: next.map((a) => this.actionJson(a)),
        // Hetzner mails no root password when SSH keys are given.
        root_password: sshKeys.length > 0 ? null : crypto.randomBytes(12).toString("base64url"),
      },
    };
  }

  private deleteServer(server: FakeServer): Reply {
    // protected, 423 (docs' error table): delete protection refuses the deletion.
    if (server.protection.delete) throw isProtected(`server with ID '${server.id}'`);
    // Docs, "Delete a Server": "Any resources attached to the server (like Volumes, Primary IPs, Floating IPs,
    // Firewalls, Placement Groups) are detached while the server is deleted."
    for (const volume of this.state.volumes.values()) if (volume.server === server.id) volume.server = null;
    for (const fw of this.state.firewalls.values()) {
      fw.appliedTo = fw.appliedTo.filter((t) => !(t.type === "server" && t.server === server.id));
    }
    this.state.servers.delete(server.id);
    const action = this.newAction("delete_server", [{ id: server.id, type: "server" }], {
      gate: () => this.options.onServerDeleted?.(server),
    });
    return { status: 200, body: { action: this.actionJson(action) } };
  }

  private createVolume(body: Body): Reply {
    const name = body.requiredString("name");
    this.checkUnique(this.state.volumes, name, "volume");
    const size = body.number("size");
    // Docs, "Create a Volume": size in GB, 10 at least (MIN_VOLUME_GB in the project's catalog).
    if (size === undefined || size < 10 || size > 10240) throw invalidInput("size", "must be between 10 and 10240");
    const format = body.string("format") ?? null;
    if (format !== null && format !== "ext4" && format !== "xfs") throw invalidInput("format", "must be ext4 or xfs");
    const serverId = body.number("server");
    const server = serverId === undefined ? undefined : this.state.servers.get(serverId);
    if (serverId !== undefined && !server) throw invalidInput("server", `server with ID '${serverId}' not found`);
    const locationRef = body.idOrName("location");
    let location: string;
    if (locationRef !== undefined) {
      const loc = Object.values(LOCATION_INFO).find((l) => l.id === locationRef || l.name === locationRef);
      if (!loc) throw invalidInput("location", `location '${String(locationRef)}' not found`);
      if (server && server.location !== loc.name) throw invalidInput("location", "server is in another location");
      location = loc.name;
    } else if (server) {
      location = server.location;
    } else {
      throw invalidInput("location", "location or server is required");
    }

    const id = ++this.ids.volume;
    const volume: FakeVolume = {
      id,
      name,
      size,
      location,
      status: "creating",
      created: now(),
      format,
      labels: body.labels() ?? {},
      protection: { delete: false },
      server: null,
      automount: false,
      linuxDevice: `/dev/disk/by-id/scsi-0HC_Volume_${id}`,
      files: new Map(),
    };
    this.state.volumes.set(id, volume);
    const create = this.newAction("create_volume", [{ id, type: "volume" }], {
      onSuccess: () => {
        volume.status = "available";
      },
    });
    const next: FakeAction[] = [];
    if (server) {
      this.attach(volume, server, body.boolean("automount") ?? false);
      next.push(this.newAction("attach_volume", [{ id, type: "volume" }, { id: server.id, type: "server" }], { after: create.id }));
    }
    return {
      status: 201,
      body: { volume: volumeJson(volume), action: this.actionJson(create), next_actions: next.map((a) => this.actionJson(a)) },
    };
  }

  private attach(volume: FakeVolume, server: FakeServer, automount: boolean): void {
    // volume_already_attached (hcloud-go error.go: "Volume is already attached to a server, detach first";
    // hetznercloud/csi-driver internal/volsrv/volume.go checks for it on attach).
    if (volume.server !== null) throw volumeAlreadyAttached(volume);
    // Docs, "Attach Volume to a Server": "Works only if the Server is in the same Location as the Volume."
    if (volume.location !== server.location) throw invalidInput("server", "server and volume must be in the same location");
    volume.server = server.id;
    volume.automount = automount;
  }

  // -------------------------------------------------------------------------------------------------------
  // Actions
  // -------------------------------------------------------------------------------------------------------

  private newAction(
    command: string,
    resources: { id: number; type: string }[],
    opts: { gate?: () => void | Promise<void>; after?: number; onSuccess?: () => void } = {},
  ): FakeAction {
    const action: FakeAction = {
      id: ++this.ids.action,
      command,
      status: "running",
      progress: 0,
      started: now(),
      finished: null,
      error: null,
      resources,
    };
    const gate: ActionRun["gate"] = { settled: false, done: Promise.resolve() };
    const hook = opts.gate;
    gate.done = Promise.resolve()
      .then(() => hook?.())
      .then(
        () => {
          gate.settled = true;
        },
        (err: unknown) => {
          gate.settled = true;
          gate.error = err instanceof Error ? err.message : String(err);
        },
      );
    this.state.actions.set(action.id, action);
    this.runs.set(action.id, { notBefore: Date.now() + this.actionDelayMs, seen: -1, gate, after: opts.after, onSuccess: opts.onSuccess });
    return action;
  }

  private getAction(id: string): FakeAction {
    const action = this.state.actions.get(Number(id));
    if (!action) throw notFound("action");
    return action;
  }

  /** The JSON of an action as a response shows it; showing it is what lets a running action finish. */
  private actionJson(action: FakeAction): Record<string, unknown> {
    const run = this.runs.get(action.id)!;
    if (
      action.status === "running" &&
      run.seen > 0 &&
      Date.now() >= run.notBefore &&
      run.gate.settled &&
      (run.after === undefined || this.state.actions.get(run.after)?.status !== "running")
    ) {
      this.finish(action, run);
    }
    run.seen++;
    if (action.status === "running") {
      action.progress = Math.min(90, Math.round(((Date.now() - (run.notBefore - this.actionDelayMs)) / Math.max(1, this.actionDelayMs)) * 90));
    }
    return { ...action, resources: action.resources.map((r) => ({ ...r })), error: action.error && { ...action.error } };
  }

  private finish(action: FakeAction, run: ActionRun): void {
    let error = run.gate.error;
    const before = run.after === undefined ? undefined : this.state.actions.get(run.after);
    if (!error && before?.status === "error") error = `action ${before.id} (${before.command}) failed`;
    if (!error) {
      try {
        run.onSuccess?.();
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
    }
    action.status = error ? "error" : "success";
    action.progress = 100;
    action.finished = now();
    action.error = error ? { code: "action_failed", message: error } : null;
  }

  // -------------------------------------------------------------------------------------------------------
  // Lookups and JSON
  // -------------------------------------------------------------------------------------------------------

  private getServer(id: string): FakeServer {
    const server = this.state.servers.get(Number(id));
    if (!server) throw notFound(`server with ID '${id}'`);
    return server;
  }

  private getVolume(id: string): FakeVolume {
    const volume = this.state.volumes.get(Number(id));
    if (!volume) throw notFound(`volume with ID '${id}'`);
    return volume;
  }

  private getFirewall(id: string): FakeFirewall {
    const fw = this.state.firewalls.get(Number(id));
    if (!fw) throw notFound(`firewall with ID '${id}'`);
    return fw;
  }

  private getSshKey(id: string): FakeSshKey {
    const key = this.state.sshKeys.get(Number(id));
    if (!key) throw notFound(`SSH key with ID '${id}'`);
    return key;
  }

  /** uniqueness_error, 409 (docs' error table): names are unique per project and resource kind. */
  private checkUnique(map: Map<number, { name: string }>, name: string, kind: string): void {
    if ([...map.values()].some((r) => r.name === name)) throw notUnique("name", `${kind} name is already used`);
  }

  private findImage(ref: number | string | undefined, architecture: "x86" | "arm"): ImageInfo {
    if (ref === undefined) throw invalidInput("image", "is required");
    const image =
      typeof ref === "number" ? IMAGES.find((i) => i.id === ref) : IMAGES.find((i) => i.name === ref && i.architecture === architecture);
    if (!image) throw invalidInput("image", `image '${String(ref)}' not found`);
    if (image.architecture !== architecture) throw invalidInput("image", `image '${image.name}' is for ${image.architecture}`);
    return image;
  }

  private firewallTarget(b: Body, mustExist = true): FakeFirewallTarget {
    const type = b.string("type");
    if (type === "server") {
      const id = b.body("server")?.number("id");
      // firewall_resource_not_found, 422: "The resource the Firewall should be attached to was not found"
      // (docs, "Create a Firewall", operation specific errors).
      if (id === undefined || (mustExist && !this.state.servers.has(id))) {
        throw new ApiError(422, "firewall_resource_not_found", `server with ID '${String(id)}' not found`);
      }
      return { type: "server", server: id };
    }
    if (type === "label_selector") {
      const selector = b.body("label_selector")?.string("selector");
      if (!selector) throw invalidInput("label_selector", "is required");
      labelSelector(selector);
      return { type: "label_selector", selector };
    }
    throw invalidInput("type", "must be server or label_selector");
  }

  /** Servers a firewall applies to: directly, or through a label selector. */
  private serversOf(fw: FakeFirewall): FakeServer[] {
    return [...this.state.servers.values()].filter((s) => this.firewallsOf(s).includes(fw.id));
  }

  private firewallsOf(server: FakeServer): number[] {
    return [...this.state.firewalls.values()]
      .filter((fw) =>
        fw.appliedTo.some((t) => (t.type === "server" ? t.server === server.id : labelSelector(t.selector)(server.labels))),
      )
      .map((fw) => fw.id);
  }

  private allocateIpv4(): string {
    const used = new Set([...this.state.servers.values()].map((s) => s.ipv4?.ip));
    for (let i = 0; i < 245; i++) {
      const host = ((this.nextIpv4Host - 10 + i) % 245) + 10;
      const ip = `203.0.113.${host}`;
      if (!used.has(ip)) {
        this.nextIpv4Host = host + 1;
        return ip;
      }
    }
    throw new ApiError(412, "resource_unavailable", "no IPv4 address left in 203.0.113.0/24");
  }

  private allocateIpv6(): string {
    return `2001:db8:0:${(this.nextIpv6Net++).toString(16)}::/64`;
  }

  private serverJson(s: FakeServer): Record<string, unknown> {
    const type = SERVER_TYPE_INFO.find((t) => t.name === s.serverType)!;
    const loc = LOCATION_INFO[s.location as keyof typeof LOCATION_INFO];
    const image = IMAGES.find((i) => i.id === s.image.id)!;
    return {
      id: s.id,
      name: s.name,
      status: s.status,
      created: s.created,
      public_net: {
        ipv4: s.ipv4 && { id: s.ipv4.id, ip: s.ipv4.ip, blocked: false, dns_ptr: `static.${s.ipv4.ip.split(".").reverse().join(".")}.clients.your-server.de` },
        ipv6: s.ipv6 && { id: s.ipv6.id, ip: s.ipv6.network, blocked: false, dns_ptr: [] },
        floating_ips: [],
        firewalls: this.firewallsOf(s).map((id) => ({ id, status: "applied" })),
      },
      private_net: [],
      server_type: this.serverTypeJson(type),
      datacenter: this.datacenterJson(loc),
      location: locationJson(loc),
      image: imageJson(image),
      iso: null,
      rescue_enabled: s.rescueEnabled,
      locked: false,
      backup_window: s.backupWindow,
      outgoing_traffic: 0,
      ingoing_traffic: 0,
      included_traffic: includedTraffic(type),
      protection: { ...s.protection },
      labels: { ...s.labels },
      volumes: [...this.state.volumes.values()].filter((v) => v.server === s.id).map((v) => v.id),
      load_balancers: [],
      primary_disk_size: s.diskGb,
      placement_group: null,
    };
  }

  private firewallJson(fw: FakeFirewall): Record<string, unknown> {
    return {
      id: fw.id,
      name: fw.name,
      labels: { ...fw.labels },
      created: fw.created,
      rules: fw.rules.map((r) => ({
        direction: r.direction,
        source_ips: [...r.sourceIps],
        destination_ips: [...r.destinationIps],
        protocol: r.protocol,
        port: r.port,
        description: r.description,
      })),
      applied_to: fw.appliedTo.map((t) =>
        t.type === "server"
          ? { type: "server", server: { id: t.server } }
          : {
              type: "label_selector",
              label_selector: { selector: t.selector },
              applied_to_resources: [...this.state.servers.values()]
                .filter((s) => labelSelector(t.selector)(s.labels))
                .map((s) => ({ type: "server", server: { id: s.id } })),
            },
      ),
    };
  }

  private serverTypeJson(t: ServerTypeInfo): Record<string, unknown> {
    return {
      id: t.id,
      name: t.name,
      description: t.name.toUpperCase(),
      category: t.dedicated ? "general_purpose" : t.architecture === "arm" ? "cost_optimized" : "regular_purpose",
      cores: t.cores,
      memory: t.memory,
      disk: t.disk,
      storage_type: "local",
      cpu_type: t.dedicated ? "dedicated" : "shared",
      architecture: t.architecture,
      included_traffic: includedTraffic(t),
      prices: t.locations.map((name) => ({
        location: name,
        price_hourly: money(t.priceEurMonth / HOURS_PER_MONTH),
        price_monthly: money(t.priceEurMonth),
        included_traffic: includedTraffic(t),
        price_per_tb_traffic: money(1),
      })),
      deprecated: false,
      deprecation: null,
      locations: t.locations.map((name) => {
        const loc = LOCATION_INFO[name as keyof typeof LOCATION_INFO];
        return { id: loc.id, name: loc.name, deprecation: null, available: true, recommended: false };
      }),
    };
  }

  private datacenterJson(loc: LocationInfo): Record<string, unknown> {
    const here = SERVER_TYPE_INFO.filter((t) => t.locations.includes(loc.name)).map((t) => t.id);
    return {
      id: loc.datacenter.id,
      name: loc.datacenter.name,
      description: loc.datacenter.description,
      location: locationJson(loc),
      server_types: { supported: here, available: here, available_for_migration: here },
    };
  }

  private listImages(query: URLSearchParams): Reply {
    let images = IMAGES;
    const name = query.get("name");
    const architectures = query.getAll("architecture");
    const types = query.getAll("type");
    const statuses = query.getAll("status");
    if (name) images = images.filter((i) => i.name === name);
    if (architectures.length > 0) images = images.filter((i) => architectures.includes(i.architecture));
    if (types.length > 0 && !types.includes("system")) images = [];
    if (statuses.length > 0 && !statuses.includes("available")) images = [];
    if (query.has("bound_to")) images = [];
    return this.list("images", images.map(imageJson), query, { name: false });
  }

  private listActions(actions: FakeAction[], query: URLSearchParams): Reply {
    const statuses = query.getAll("status");
    const json = actions.map((a) => this.actionJson(a));
    return this.list("actions", statuses.length > 0 ? json.filter((a) => statuses.includes(String(a.status))) : json, query, { name: false });
  }

  /**
   * A list answer: the `name` and `label_selector` filters (when `labelsOf` is given), `sort`, and the
   * pagination of the docs ("Pagination": page from 1, per_page default 25, at most 50) in meta.pagination.
   */
  private list(
    key: string,
    items: Record<string, unknown>[],
    query: URLSearchParams,
    filters: { name?: boolean; labels?: boolean } = {},
  ): Reply {
    let result = items;
    const name = query.get("name");
    if ((filters.name ?? true) && name) result = result.filter((i) => i.name === name);
    const selector = query.get("label_selector");
    if (selector && filters.labels) {
      const matches = labelSelector(selector);
      result = result.filter((i) => matches(i.labels as Record<string, string>));
    }
    const sorts = query.getAll("sort").map((s) => {
      const [field, dir] = s.split(":");
      return { field, desc: dir === "desc" };
    });
    result = [...result].sort((a, b) => {
      for (const { field, desc } of [...sorts, { field: "id", desc: false }]) {
        const x = a[field] as string | number | null | undefined;
        const y = b[field] as string | number | null | undefined;
        if (x === y) continue;
        const cmp = x === null || x === undefined ? -1 : y === null || y === undefined ? 1 : x < y ? -1 : 1;
        return desc ? -cmp : cmp;
      }
      return 0;
    });
    const perPageRaw = Number(query.get("per_page") ?? 25);
    const perPage = Number.isInteger(perPageRaw) && perPageRaw > 0 ? Math.min(perPageRaw, 50) : 25;
    const page = Math.max(1, Number(query.get("page") ?? 1) || 1);
    const lastPage = Math.max(1, Math.ceil(result.length / perPage));
    return {
      status: 200,
      body: {
        [key]: result.slice((page - 1) * perPage, page * perPage),
        meta: {
          pagination: {
            page,
            per_page: perPage,
            previous_page: page > 1 ? page - 1 : null,
            next_page: page < lastPage ? page + 1 : null,
            last_page: lastPage,
            total_entries: result.length,
          },
        },
      },
    };
  }
}

const volumeAlreadyAttached = (volume: FakeVolume) =>
  // 422 like the other operation-specific errors of the docs (the attach endpoint lists none of its own).
  new ApiError(422, "volume_already_attached", `volume with ID '${volume.id}' is already attached to server ${String(volume.server)}`);

function firewallRule(b: Body): FakeFirewallRule {
  const direction = b.string("direction");
  if (direction !== "in" && direction !== "out") throw invalidInput("rules", "direction must be in or out");
  const protocol = b.string("protocol");
  if (protocol !== "tcp" && protocol !== "udp" && protocol !== "icmp" && protocol !== "esp" && protocol !== "gre") {
    throw invalidInput("rules", "protocol must be tcp, udp, icmp, esp or gre");
  }
  const port = b.string("port") ?? null;
  if ((protocol === "tcp" || protocol === "udp") !== (port !== null)) {
    throw invalidInput("rules", "a port is required for tcp and udp, and not allowed otherwise");
  }
  if (port !== null && !/^(\d{1,5}(-\d{1,5})?|any)$/.test(port)) throw invalidInput("rules", `'${port}' is not a port or range`);
  const sourceIps = b.strings("source_ips");
  const destinationIps = b.strings("destination_ips");
  for (const ip of [...sourceIps, ...destinationIps]) if (!isCidr(ip)) throw invalidInput("rules", `'${ip}' is not a network in CIDR notation`);
  if (direction === "in" && sourceIps.length === 0) throw invalidInput("rules", "source_ips are required for inbound rules");
  if (direction === "out" && destinationIps.length === 0) throw invalidInput("rules", "destination_ips are required for outbound rules");
  return { direction, protocol, port, sourceIps, destinationIps, description: b.string("description") ?? null };
}

const sameTarget = (a: FakeFirewallTarget, b: FakeFirewallTarget) =>
  a.type === "server" ? b.type === "server" && a.server === b.server : b.type === "label_selector" && a.selector === b.selector;

const targetResources = (t: FakeFirewallTarget) => (t.type === "server" ? [{ id: t.server, type: "server" }] : []);

/** 20 TB, in bytes, as the EU locations include (the fake does not vary it by location). */
const includedTraffic = (_t: ServerTypeInfo) => 20 * 1024 ** 4;

function locationJson(l: LocationInfo): Record<string, unknown> {
  return {
    id: l.id,
    name: l.name,
    description: l.description,
    country: l.country,
    city: l.city,
    latitude: l.latitude,
    longitude: l.longitude,
    network_zone: l.network_zone,
  };
}

function imageJson(i: ImageInfo): Record<string, unknown> {
  return {
    id: i.id,
    type: "system",
    status: "available",
    name: i.name,
    description: i.description,
    image_size: null,
    disk_size: 5,
    created: IMAGE_CREATED,
    created_from: null,
    bound_to: null,
    os_flavor: i.osFlavor,
    os_version: i.osVersion,
    rapid_deploy: true,
    protection: { delete: false },
    deprecated: null,
    deleted: null,
    labels: {},
    architecture: i.architecture,
  };
}

function sshKeyJson(k: FakeSshKey): Record<string, unknown> {
  return { id: k.id, name: k.name, fingerprint: k.fingerprint, public_key: k.publicKey, labels: { ...k.labels }, created: k.created };
}

function volumeJson(v: FakeVolume): Record<string, unknown> {
  return {
    id: v.id,
    name: v.name,
    server: v.server,
    status: v.status,
    location: locationJson(LOCATION_INFO[v.location as keyof typeof LOCATION_INFO]),
    size: v.size,
    format: v.format,
    protection: { ...v.protection },
    labels: { ...v.labels },
    linux_device: v.linuxDevice,
    created: v.created,
  };
}

/** Access settings a request sets (the rest stay as they are). */
function storageBoxAccess(b: Body): Partial<FakeStorageBoxAccess> {
  const set: Partial<FakeStorageBoxAccess> = {};
  const flag = (field: string, key: keyof FakeStorageBoxAccess) => {
    const v = b.boolean(field);
    if (v !== undefined) set[key] = v;
  };
  flag("reachable_externally", "reachableExternally");
  flag("samba_enabled", "sambaEnabled");
  flag("ssh_enabled", "sshEnabled");
  flag("webdav_enabled", "webdavEnabled");
  return set;
}

/** A request's password, refused unless it meets the Storage Box password policy. */
function storageBoxPassword(b: Body): string {
  const password = b.requiredString("password");
  const problem = storageBoxPasswordProblem(password);
  if (problem) throw invalidInput("password", problem);
  return password;
}

function storageBoxTypeJson(t: (typeof STORAGE_BOX_TYPE_INFO)[number]): Record<string, unknown> {
  return {
    id: t.id,
    name: t.name,
    description: t.name.toUpperCase(),
    snapshot_limit: 10,
    automatic_snapshot_limit: 10,
    subaccounts_limit: 100,
    size: t.sizeBytes,
    prices: ["fsn1", "nbg1", "hel1"].map((location) => ({
      location,
      price_hourly: money(t.priceEurMonth / HOURS_PER_MONTH),
      price_monthly: money(t.priceEurMonth),
      setup_fee: money(0),
    })),
    deprecation: null,
  };
}

function storageBoxJson(b: FakeStorageBox): Record<string, unknown> {
  const type = STORAGE_BOX_TYPE_INFO.find((t) => t.name === b.storageBoxType)!;
  return {
    id: b.id,
    username: b.username,
    status: b.status,
    name: b.name,
    storage_box_type: storageBoxTypeJson(type),
    location: locationJson(LOCATION_INFO[b.location as keyof typeof LOCATION_INFO]),
    access_settings: {
      reachable_externally: b.access.reachableExternally,
      samba_enabled: b.access.sambaEnabled,
      ssh_enabled: b.access.sshEnabled,
      webdav_enabled: b.access.webdavEnabled,
      zfs_enabled: b.access.zfsEnabled,
    },
    server: b.server,
    system: b.system,
    stats: { size: 0, size_data: 0, size_snapshots: 0 },
    labels: { ...b.labels },
    protection: { ...b.protection },
    snapshot_plan: null,
    created: b.created,
  };
}

function subaccountJson(box: FakeStorageBox, a: FakeStorageBoxSubaccount): Record<string, unknown> {
  return {
    id: a.id,
    name: a.name,
    username: a.username,
    home_directory: a.homeDirectory,
    // A sub-account logs in on its box's host (hcloud-go storage_box_subaccount_test.go: u516715-sub1 on u516715.your-storagebox.de).
    server: box.server ?? `u${100000 + box.id}.your-storagebox.de`,
    access_settings: {
      reachable_externally: a.access.reachableExternally,
      readonly: a.access.readonly,
      samba_enabled: a.access.sambaEnabled,
      ssh_enabled: a.access.sshEnabled,
      webdav_enabled: a.access.webdavEnabled,
    },
    description: a.description,
    labels: { ...a.labels },
    created: a.created,
    storage_box: box.id,
  };
}

function pricingJson(): Record<string, unknown> {
  return {
    currency: "EUR",
    vat_rate: ((VAT - 1) * 100).toFixed(2),
    image: { price_per_gb_month: money(0.011) },
    floating_ip: { price_monthly: money(3) },
    floating_ips: [],
    primary_ips: [],
    traffic: { price_per_tb: money(1) },
    server_backup: { percentage: "20.00" },
    server_types: SERVER_TYPE_INFO.map((t) => ({
      id: t.id,
      name: t.name,
      prices: t.locations.map((location) => ({
        location,
        price_hourly: money(t.priceEurMonth / HOURS_PER_MONTH),
        price_monthly: money(t.priceEurMonth),
        included_traffic: includedTraffic(t),
        price_per_tb_traffic: money(1),
      })),
    })),
    load_balancer_types: [],
    volume: { price_per_gb_month: money(VOLUME_EUR_PER_GB_MONTH) },
  };
}
