/**
 * A stateful stand-in for the Tailscale API v2 on loopback, for the "local cloud" harness: the real
 * pulumi-resource-tailscale provider (terraform-provider-tailscale v0.29.2 with tailscale.com/client/tailscale/v2
 * v2.9.0, bundled as @pulumi/tailscale 0.29.1) talks to it through `tailscale:baseUrl` or TAILSCALE_BASE_URL.
 *
 * What it serves is what that provider calls for the resources this project declares (components/tailnet.ts):
 *   POST   /api/v2/tailnet/{tailnet}/keys              TailnetKey create
 *   GET    /api/v2/tailnet/{tailnet}/keys[/{id}]       TailnetKey read (refresh); list
 *   DELETE /api/v2/tailnet/{tailnet}/keys/{id}         TailnetKey delete
 *   GET    /api/v2/tailnet/{tailnet}/devices           getDevice: `?hostname=` (or `?name=`) filter, polled every second
 *   GET    /api/v2/device/{id}                         DeviceKey and DeviceTags read (nodeId or legacy numeric id)
 *   DELETE /api/v2/device/{id}
 *   POST   /api/v2/device/{id}/key|tags|authorized     DeviceKey, DeviceTags (create, update, delete), DeviceAuthorization
 *   GET    /api/v2/tailnet/{tailnet}/acl               Acl read: `Accept: application/hujson` gives the raw text
 *   POST   /api/v2/tailnet/{tailnet}/acl               Acl create/update: HuJSON body, `If-Match` optional
 *   POST   /api/v2/tailnet/{tailnet}/acl/validate
 *   POST   /api/v2/oauth/token                         client-credentials exchange, when the provider has an OAuth client
 *
 * Where the real API refuses, this refuses the same way; each refusal cites where its behaviour (and, when known,
 * its wording) comes from. Wording marked "unverified" is this file's own: the behaviour is documented, the exact
 * message is not. Sources:
 *   [api]      Tailscale API docs, https://tailscale.com/api (the older publicapi/*.md of tailscale/tailscale)
 *   [client]   tailscale-client-go-v2 v2.9.0 (client.go, keys.go, devices.go, policyfile.go, oauth.go)
 *   [provider] terraform-provider-tailscale v0.29.2 (resource_*.go, data_source_device.go)
 *   [kb1068]   https://tailscale.com/kb/1068/tags   [kb1098] https://tailscale.com/kb/1098/machine-names
 *
 * Nodes join with {@link FakeTailscale.join}, which mirrors what the control plane does with an auth key. Nothing
 * here deletes a device on its own: a deleted server's device stays until someone deletes it, as on a real tailnet.
 */
import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { parse as parseJsonc, printParseErrorCode, type ParseError } from "jsonc-parser";
import { canReach, runPolicyTests } from "../plan/tailnetEvaluator";
import type { TailnetPolicy } from "../../components/render/tailnetPolicy";
import { fromPlain, toPlain, type Plain } from "./snapshot";

// ---------------------------------------------------------------------------------------------------------------
// Types

export interface FakeTailscaleOptions {
  /** Address to listen on. Default "127.0.0.1": loopback only. */
  host?: string;
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** The tailnet's name as the API path accepts it besides "-" (e.g. "example.com"). Default: only "-". */
  tailnet?: string;
  /** The tailnet DNS name devices are named under. Default "tail1234.ts.net". */
  tailnetDnsName?: string;
  /**
   * The policy file the tailnet starts with (HuJSON). Default {@link DEFAULT_POLICY}, which, like the real default,
   * defines no tagOwners: tagged keys and tags are refused until a policy defines them.
   */
  initialPolicy?: string;
  /** The clock. Default the system clock; {@link FakeTailscale.advance} moves it forward either way. */
  now?: () => Date;
  /** Login of the API key's owner: the `user` of keys and devices. Default "deployer@example.com". */
  user?: string;
  /**
   * Whether the tailnet requires device approval (https://tailscale.com/kb/1099). Default false, as on a new
   * tailnet: then every device is authorized; with it, only devices joined with a pre-authorized key are.
   */
  deviceApproval?: boolean;
}

/** An auth key as the fake keeps it. `key` is the secret a node joins with. */
export interface AuthKey {
  id: string;
  key: string;
  description: string;
  created: Date;
  expires: Date;
  expirySeconds: number;
  reusable: boolean;
  ephemeral: boolean;
  preauthorized: boolean;
  tags: string[];
  userId: string;
  /** nodeIds of the devices that joined with this key, in order. A single-use key is spent by the first. */
  usedBy: string[];
  /** When it was deleted through the API (or {@link FakeTailscale.revokeKey}); a deleted key stays, invalid. */
  revoked?: Date;
}

/** A device (node) on the tailnet. */
export interface Device {
  /** Legacy numeric id, as a string. */
  id: string;
  /** The preferred id, e.g. "n3xAmPl3CNTRL". */
  nodeId: string;
  /** The OS hostname the node reported. */
  hostname: string;
  /** The machine name: the hostname, made unique with -1, -2... ([kb1098]). */
  machineName: string;
  /** MagicDNS name: `<machineName>.<tailnetDnsName>`. */
  name: string;
  user: string;
  /** Tailscale IPv4 (from 100.64.0.0/10) then IPv6 (fd7a:115c:a1e0::/48). */
  addresses: string[];
  tags: string[];
  authorized: boolean;
  keyExpiryDisabled: boolean;
  isEphemeral: boolean;
  os: string;
  clientVersion: string;
  created: Date;
  lastSeen: Date;
  /** When the node key expires (ignored while keyExpiryDisabled). */
  expires: Date;
  connectedToControl: boolean;
  machineKey: string;
  nodeKey: string;
  tailnetLockKey: string;
  /** The auth key it joined with. */
  authKeyId: string;
}

/** Everything the fake holds; tests may read it (and, to set up a case, change it). */
export interface FakeTailnetState {
  /** By key id. */
  keys: Map<string, AuthKey>;
  /** By nodeId, in join order. */
  devices: Map<string, Device>;
  /** The policy file, exactly as last posted (HuJSON). */
  policy: string;
  /** True while the policy is the untouched default (what `If-Match: "ts-default"` tests). */
  policyIsDefault: boolean;
}

/** FakeTailscale.snapshot(): its state as JSON data. */
export interface TailscaleSnapshot {
  port: number;
  nextDeviceNumber: number;
  nextNumericId: number;
  offsetMs: number;
  state: Plain;
}

/** One request the fake answered. */
export interface RequestRecord {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The query string, without "?" ("" when none). */
  query: string;
  status: number;
  /** The error message sent, for a refusal. */
  message?: string;
  /** How the request authenticated: an API key as Basic user, a Bearer token, or nothing usable. */
  auth: "basic" | "bearer" | "none";
  /** The request's Accept, Content-Type and If-Match headers, when sent. */
  accept?: string;
  contentType?: string;
  ifMatch?: string;
}

/** Why a join was refused. */
export type JoinFailure = "unknown-key" | "revoked" | "expired" | "used" | "tags-not-permitted" | "invalid-hostname";

/** A node could not join: {@link JoinError.reason} says why. */
export class JoinError extends Error {
  constructor(
    readonly reason: JoinFailure,
    message: string,
  ) {
    super(message);
    this.name = "JoinError";
  }
}

/** An API error body as the real API sends it ([client] APIError): a message and, for policy tests, data. */
export interface ApiErrorBody {
  message: string;
  data?: { user: string; errors: string[] }[];
}

// ---------------------------------------------------------------------------------------------------------------
// The policy file

/**
 * The policy a new tailnet starts with, in substance: everything may reach everything, members may SSH to their
 * own devices after a check, and no tags are defined (tagOwners is only an example in a comment). Written for this
 * file, after the real default shown in the admin console and [api] "Get policy file".
 */
export const DEFAULT_POLICY = `// Default policy of a new tailnet (local stand-in): unrestricted connections, no tags.
{
  // "groups": { "group:example": ["alice@example.com"] },

  // Tags must be defined here, with their owners, before a key or a device can carry them.
  // "tagOwners": { "tag:example": ["autogroup:admin"] },

  "acls": [
    // Everything may reach everything.
    {"action": "accept", "src": ["*"], "dst": ["*:*"]},
  ],

  "ssh": [
    // Members may SSH to their own devices, after a check.
    {"action": "check", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["autogroup:nonroot", "root"]},
  ],
}
`;

// Field names the policy parser knows ([client] policyfile.go ACL and its entry types, plus sshTests). The real
// parser rejects other fields: `json: unknown field "grants"` is what an old provider, which checked with the
// same struct, said of a field it did not know (terraform-provider-tailscale#331). Go's decoder matches names
// without regard to case, hence the lowercase lists.
const TOP_LEVEL_FIELDS = [
  "acls", "autoapprovers", "groups", "hosts", "tagowners", "derpmap", "tests", "sshtests", "ssh", "nodeattrs",
  "disableipv4", "onecgnatroute", "randomizeclientport", "grants", "ipsets", "postures", "defaultsrcposture",
  "attrconfig",
];
const ENTRY_FIELDS: Record<string, string[]> = {
  acls: ["action", "ports", "users", "src", "dst", "proto", "srcposture"],
  grants: ["src", "dst", "ip", "app", "srcposture", "via"],
  ssh: ["action", "users", "src", "dst", "checkperiod", "recorder", "enforcerecorder", "acceptenv", "srcposture"],
  tests: ["user", "allow", "deny", "src", "accept", "proto", "srcpostureattrs"],
  sshtests: ["src", "dst", "accept", "check", "deny"],
};

/** A refusal of a policy: status and body as the real API sends them. */
export interface PolicyRefusal {
  status: number;
  body: ApiErrorBody;
}

/** The policy as the project's evaluator reads it, or why it cannot be accepted. */
export type PolicyCheck = { ok: true; policy: TailnetPolicy } | { ok: false; refusal: PolicyRefusal };

/**
 * Parses and checks a policy file the way the control plane does before it accepts one: it must parse as HuJSON,
 * use only known fields, define (in tagOwners) every tag it uses, and pass its own `tests` and `sshTests`.
 * The tests run on the project's own evaluator (components/plan/tailnetAccess.ts), which models grants, SSH rules,
 * users, groups, tags, "*", autogroup:member and autogroup:tagged; legacy `acls` are read as grants here.
 */
export function checkPolicy(text: string): PolicyCheck {
  const refuse = (message: string, data?: ApiErrorBody["data"]): PolicyCheck => ({
    ok: false,
    refusal: { status: 400, body: data === undefined ? { message } : { message, data } },
  });

  const errors: ParseError[] = [];
  const raw: unknown = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  // A policy that does not parse is refused with 400 ([api] "Update policy file": "errors are returned for
  // incorrectly defined ACLs"). Wording unverified: the real message is Go's HuJSON parser error.
  if (errors.length > 0) {
    const first = errors[0];
    const { line, column } = lineAndColumn(text, first.offset);
    return refuse(`parsing policy file: ${printParseErrorCode(first.error)} at line ${line}, column ${column}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return refuse("parsing policy file: the policy must be a JSON object");
  }
  const file = raw as Record<string, unknown>;

  for (const key of Object.keys(file)) {
    if (!TOP_LEVEL_FIELDS.includes(key.toLowerCase())) return refuse(`json: unknown field ${JSON.stringify(key)}`);
  }
  const field = (name: string): unknown => {
    const key = Object.keys(file).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : file[key];
  };
  const entries = (name: string): Record<string, unknown>[] | string => {
    const value = field(name);
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) return `json: cannot unmarshal ${typeof value} into field ${name} of type array`;
    for (const entry of value as unknown[]) {
      if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
        return `json: cannot unmarshal a non-object into an entry of ${name}`;
      }
      for (const key of Object.keys(entry)) {
        if (!ENTRY_FIELDS[name.toLowerCase()].includes(key.toLowerCase())) {
          return `json: unknown field ${JSON.stringify(key)}`;
        }
      }
    }
    return value as Record<string, unknown>[];
  };
  const record = (name: string): Record<string, string[]> | string => {
    const value = field(name);
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value)) return `json: cannot unmarshal into field ${name} of type object`;
    for (const [key, list] of Object.entries(value)) {
      if (!isStringArray(list)) return `json: cannot unmarshal ${name}[${JSON.stringify(key)}]: want an array of strings`;
    }
    return value as Record<string, string[]>;
  };

  const acls = entries("acls");
  const grants = entries("grants");
  const ssh = entries("ssh");
  const tests = entries("tests");
  const sshTests = entries("sshTests");
  const groups = record("groups");
  const tagOwners = record("tagOwners");
  for (const value of [acls, grants, ssh, tests, sshTests, groups, tagOwners]) {
    if (typeof value === "string") return refuse(value);
  }

  const get = (entry: Record<string, unknown>, name: string): unknown => {
    const key = Object.keys(entry).find((k) => k.toLowerCase() === name);
    return key === undefined ? undefined : entry[key];
  };
  const strings = (entry: Record<string, unknown>, name: string): string[] => {
    const value = get(entry, name);
    return isStringArray(value) ? value : [];
  };
  const str = (entry: Record<string, unknown>, name: string): string | undefined => {
    const value = get(entry, name);
    return typeof value === "string" ? value : undefined;
  };

  const policy: TailnetPolicy = {
    groups: groups as Record<string, string[]>,
    tagOwners: tagOwners as Record<string, string[]>,
    grants: (grants as Record<string, unknown>[]).map((g) => ({ src: strings(g, "src"), dst: strings(g, "dst"), ip: strings(g, "ip") })),
    ssh: (ssh as Record<string, unknown>[]).map((r) => ({
      action: str(r, "action") === "check" ? "check" : "accept",
      src: strings(r, "src"),
      dst: strings(r, "dst"),
      users: strings(r, "users"),
    })),
    tests: (tests as Record<string, unknown>[]).map((t) => ({
      src: str(t, "src") ?? str(t, "user") ?? "",
      proto: str(t, "proto"),
      accept: [...strings(t, "accept"), ...strings(t, "allow")],
      deny: strings(t, "deny"),
    })),
    sshTests: (sshTests as Record<string, unknown>[]).map((t) => ({
      src: str(t, "src") ?? "",
      dst: strings(t, "dst"),
      accept: strings(t, "accept"),
      check: strings(t, "check"),
      deny: strings(t, "deny"),
    })),
  };
  // Legacy ACL entries read as grants: {"src": S, "dst": ["host:ports"]} is {"src": S, "dst": [host], "ip": [ports]}.
  for (const acl of acls as Record<string, unknown>[]) {
    if ((str(acl, "action") ?? "accept") !== "accept") continue;
    const src = [...strings(acl, "src"), ...strings(acl, "users")];
    const proto = str(acl, "proto");
    for (const dst of [...strings(acl, "dst"), ...strings(acl, "ports")]) {
      const colon = dst.lastIndexOf(":");
      if (colon <= 0) continue;
      const ports = dst.slice(colon + 1);
      policy.grants.push({ src, dst: [dst.slice(0, colon)], ip: [proto ? `${proto}:${ports}` : ports] });
    }
  }

  // Every tag the policy uses must be defined in tagOwners: the control plane refuses a policy that names an
  // undefined tag with `src=tag not found: "tag:x"` (terraform-provider-tailscale#380, quoting the API).
  const defined = new Set(Object.keys(policy.tagOwners));
  const hostOf = (target: string): string => (target.lastIndexOf(":") > target.indexOf(":") ? target.slice(0, target.lastIndexOf(":")) : target);
  const uses: [string, string[]][] = [
    ["tagOwners", Object.values(policy.tagOwners).flat()],
    ["src", [...policy.grants.flatMap((g) => g.src), ...policy.ssh.flatMap((r) => r.src), ...policy.tests.map((t) => t.src), ...policy.sshTests.map((t) => t.src)]],
    [
      "dst",
      [
        ...policy.grants.flatMap((g) => g.dst),
        ...policy.ssh.flatMap((r) => r.dst),
        ...policy.tests.flatMap((t) => [...(t.accept ?? []), ...(t.deny ?? [])].map(hostOf)),
        ...policy.sshTests.flatMap((t) => t.dst),
      ],
    ],
  ];
  for (const [where, selectors] of uses) {
    const missing = selectors.find((s) => s.startsWith("tag:") && !defined.has(s));
    if (missing !== undefined) return refuse(`${where}=tag not found: ${JSON.stringify(missing)}`);
  }

  // The control plane runs the policy's tests before it accepts it ([api] "Update policy file": "errors are
  // returned for ... ACLs with failing tests"), answering {"message": "test(s) failed", "data": [{"user", "errors"}]}
  // with errors such as `address "user2@example.com:400": want: Accept, got: Drop` ([api], same section).
  // Status 400 is this file's assumption (the docs show the body only).
  const data: { user: string; errors: string[] }[] = [];
  for (const test of policy.tests) {
    const failures: string[] = [];
    const proto = test.proto ?? "tcp";
    for (const [want, targets] of [["Accept", test.accept ?? []], ["Drop", test.deny ?? []]] as const) {
      for (const target of targets) {
        let got: string;
        try {
          got = canReach(policy, test.src, target, undefined, proto) ? "Accept" : "Drop";
        } catch {
          failures.push(`address ${JSON.stringify(target)}: cannot parse as host:port`);
          continue;
        }
        if (got !== want) failures.push(`address ${JSON.stringify(target)}: want: ${want}, got: ${got}`);
      }
    }
    if (failures.length > 0) data.push({ user: test.src, errors: failures });
  }
  for (const test of policy.sshTests) {
    // SSH tests through the project's evaluator, one at a time; its messages name the host, the login and the rule.
    const report = runPolicyTests({ ...policy, tests: [], sshTests: [test] });
    if (report.failures.length > 0) data.push({ user: test.src, errors: report.failures });
  }
  if (data.length > 0) return refuse("test(s) failed", data);

  return { ok: true, policy };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** The policy as JSON: comments and trailing commas dropped, as the API answers `Accept: application/json`. */
function policyAsJson(text: string): string {
  return JSON.stringify(parseJsonc(text, [], { allowTrailingComma: true }) ?? {}, null, 2);
}

// ---------------------------------------------------------------------------------------------------------------
// The fake

/** Default lifetime of an auth key when the request names none: 90 days ([api] "Create auth key"). */
const DEFAULT_KEY_EXPIRY_SECONDS = 90 * 24 * 3600;
/** Default node key lifetime of a new tailnet: 180 days (https://tailscale.com/kb/1028/key-expiry). */
const NODE_KEY_LIFETIME_MS = 180 * 24 * 3600 * 1000;
/** The Tailscale client version the fake nodes report. */
const CLIENT_VERSION = "1.98.3";

export class FakeTailscale {
  readonly state: FakeTailnetState;
  readonly requests: RequestRecord[] = [];

  private readonly host: string;
  private readonly requestedPort: number;
  private readonly tailnet: string | undefined;
  private readonly tailnetDnsName: string;
  private readonly clock: () => Date;
  private readonly user: string;
  private readonly userId = "uLocalCloud1CNTRL";
  private readonly deviceApproval: boolean;
  private offsetMs = 0;
  private nextDeviceNumber = 1;
  private nextNumericId = 1_000_000_000_001;
  private readonly tokens = new Set<string>();
  private server: http.Server | undefined;
  private port = 0;

  constructor(options: FakeTailscaleOptions = {}) {
    this.host = options.host ?? "127.0.0.1";
    this.requestedPort = options.port ?? 0;
    this.tailnet = options.tailnet;
    this.tailnetDnsName = options.tailnetDnsName ?? "tail1234.ts.net";
    this.clock = options.now ?? (() => new Date());
    this.user = options.user ?? "deployer@example.com";
    this.deviceApproval = options.deviceApproval ?? false;
    const initial = options.initialPolicy ?? DEFAULT_POLICY;
    const check = checkPolicy(initial);
    if (!check.ok) throw new Error(`initialPolicy is not a policy the API would accept: ${JSON.stringify(check.refusal.body)}`);
    this.state = {
      keys: new Map(),
      devices: new Map(),
      policy: initial,
      policyIsDefault: options.initialPolicy === undefined,
    };
  }

  /** Starts listening; resolves once the port is bound. */
  async start(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.send(req, res, 500, { message: `fake tailscale: ${String(err)}` });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.requestedPort, this.host, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Stops listening and drops open connections. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** e.g. "http://127.0.0.1:40123": the value for `tailscale:baseUrl` / TAILSCALE_BASE_URL. */
  get baseUrl(): string {
    if (!this.server) throw new Error("FakeTailscale: start() it first");
    const host = this.host.includes(":") ? `[${this.host}]` : this.host;
    return `http://${host}:${this.port}`;
  }

  /** The fake's current time. */
  now(): Date {
    return new Date(this.clock().getTime() + this.offsetMs);
  }

  /** Moves the fake's clock forward (keys and node keys expire by it). */
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  /** Makes a key expire now, as if its lifetime had run out. */
  expireKey(id: string): void {
    this.mustGetKey(id).expires = this.now();
  }

  /** Revokes a key, as DELETE .../keys/{id} does. */
  revokeKey(id: string): void {
    this.mustGetKey(id).revoked = this.now();
  }

  /** The key whose secret is `secret`, if any. */
  keyBySecret(secret: string): AuthKey | undefined {
    return [...this.state.keys.values()].find((k) => k.key === secret);
  }

  /** The devices whose OS hostname is `hostname`, in join order. */
  devicesByHostname(hostname: string): Device[] {
    return [...this.state.devices.values()].filter((d) => d.hostname === hostname);
  }

  /**
   * What the fake holds, as JSON data (./snapshot.ts), for a fixture: keys, devices, the policy, the counters that
   * give the next device ids and addresses, the clock's offset and the port it listens on (a restored tailnet keeps
   * its base URL, which the stack's state records).
   */
  snapshot(): TailscaleSnapshot {
    return {
      port: this.port || this.requestedPort,
      nextDeviceNumber: this.nextDeviceNumber,
      nextNumericId: this.nextNumericId,
      offsetMs: this.offsetMs,
      state: toPlain(this.state),
    };
  }

  /** Puts a snapshot's state back (before start(); the port is the constructor's, see LocalCloud). */
  restore(snapshot: TailscaleSnapshot): void {
    if (this.server) throw new Error("FakeTailscale.restore: restore before start()");
    const restored = fromPlain<FakeTailnetState>(snapshot.state);
    this.state.keys = restored.keys;
    this.state.devices = restored.devices;
    this.state.policy = restored.policy;
    this.state.policyIsDefault = restored.policyIsDefault;
    this.nextDeviceNumber = snapshot.nextDeviceNumber;
    this.nextNumericId = snapshot.nextNumericId;
    this.offsetMs = snapshot.offsetMs;
  }

  /** The policy's current ETag (without quotes). */
  policyEtag(): string {
    return crypto.createHash("sha256").update(this.state.policy).digest("hex");
  }

  /**
   * A node joins the tailnet with an auth key, as `tailscale up --auth-key=... --hostname=...` does.
   * Refused (JoinError) when the key is unknown, revoked, expired, or single-use and already used; a single-use
   * key is spent by the first join ([api] key attributes: "reusable auth keys can be used multiple times").
   * The device carries the key's tags, is authorized when the key is pre-authorized (or the tailnet does not
   * require approval), and gets the machine name `<hostname>` or, when another device has it, `<hostname>-1`,
   * `-2`... ([kb1098]: "if a device already on the network has the same name, the new machine will get a name
   * like <hostname>-1"). Its OS hostname stays as reported, so two devices may share a hostname.
   */
  join(authKey: string, hostname: string, options: { os?: string; clientVersion?: string } = {}): Device {
    const key = this.keyBySecret(authKey);
    const now = this.now();
    // tailscaled reports a key the control plane does not accept as "invalid key: API key ... not valid"
    // (tailscale/tailscale#9715, for a reused single-use key); the reason says which check failed.
    const invalid = (reason: JoinFailure, why: string) =>
      new JoinError(reason, `invalid key: API key ${redact(authKey)} not valid: ${why}`);
    if (key === undefined) throw invalid("unknown-key", "no such key in this tailnet");
    if (key.revoked !== undefined) throw invalid("revoked", `key ${key.id} was revoked at ${iso(key.revoked)}`);
    if (now.getTime() >= key.expires.getTime()) throw invalid("expired", `key ${key.id} expired at ${iso(key.expires)}`);
    if (!key.reusable && key.usedBy.length > 0) {
      throw invalid("used", `single-use key ${key.id} was already used by ${key.usedBy[0]}`);
    }
    // The key's tags must still be defined when it is used (the same check as at creation; unverified for joins).
    const undefinedTags = this.tagsNotPermitted(key.tags);
    if (undefinedTags.length > 0) throw new JoinError("tags-not-permitted", tagsMessage(undefinedTags));
    const base = machineNameOf(hostname);
    if (base === "") throw new JoinError("invalid-hostname", `hostname ${JSON.stringify(hostname)} gives no usable machine name`);

    const taken = new Set([...this.state.devices.values()].map((d) => d.machineName));
    let machineName = base;
    for (let n = 1; taken.has(machineName); n++) machineName = `${base}-${n}`;

    const number = this.nextDeviceNumber++;
    const device: Device = {
      id: String(this.nextNumericId++),
      nodeId: `n${randomToken(10)}CNTRL`,
      hostname,
      machineName,
      name: `${machineName}.${this.tailnetDnsName}`,
      user: this.user,
      addresses: [tailnetIpv4(number), `fd7a:115c:a1e0::${number.toString(16)}`],
      tags: [...key.tags],
      authorized: key.preauthorized || !this.deviceApproval,
      // "When tags are first applied, the tagged device will have key expiry disabled by default"
      // ([kb1068] Key expiry); a user's device keeps the tailnet's expiry.
      keyExpiryDisabled: key.tags.length > 0,
      isEphemeral: key.ephemeral,
      os: options.os ?? "linux",
      clientVersion: options.clientVersion ?? CLIENT_VERSION,
      created: now,
      lastSeen: now,
      expires: new Date(now.getTime() + NODE_KEY_LIFETIME_MS),
      connectedToControl: true,
      machineKey: `mkey:${crypto.randomBytes(32).toString("hex")}`,
      nodeKey: `nodekey:${crypto.randomBytes(32).toString("hex")}`,
      tailnetLockKey: `tlpub:${crypto.randomBytes(32).toString("hex")}`,
      authKeyId: key.id,
    };
    key.usedBy.push(device.nodeId);
    this.state.devices.set(device.nodeId, device);
    return device;
  }

  // -------------------------------------------------------------------------------------------------------------
  // HTTP

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    const parts = url.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
    const method = req.method ?? "GET";
    const body = await readBody(req);

    if (parts[0] !== "api" || parts[1] !== "v2") return this.notFound(req, res);
    const rest = parts.slice(2);

    // The OAuth client-credentials exchange ([client] oauth.go: TokenURL is baseURL + "/api/v2/oauth/token").
    if (rest.length === 2 && rest[0] === "oauth" && rest[1] === "token" && method === "POST") {
      return this.oauthToken(req, res, body);
    }

    // Every other call needs credentials: an API key as Basic auth user ([client] buildRequest: SetBasicAuth(APIKey, ""))
    // or a Bearer token (an OAuth access token, or an API key). Refusal wording unverified.
    if (!this.authorized(req.headers.authorization)) {
      return this.send(req, res, 401, { message: "API token invalid" });
    }

    if (rest[0] === "tailnet" && rest.length >= 3) {
      const tailnet = rest[1];
      if (tailnet !== "-" && tailnet !== this.tailnet) {
        // Unverified wording: a tailnet the credentials do not belong to.
        return this.send(req, res, 404, { message: `tailnet ${JSON.stringify(tailnet)} not found` });
      }
      const [resource, id, extra] = rest.slice(2);
      if (resource === "keys") {
        if (id === undefined && method === "GET") return this.listKeys(req, res);
        if (id === undefined && method === "POST") return this.createKey(req, res, body);
        if (id !== undefined && extra === undefined && method === "GET") return this.getKey(req, res, id);
        if (id !== undefined && extra === undefined && method === "DELETE") return this.deleteKey(req, res, id);
      }
      if (resource === "devices" && id === undefined && method === "GET") return this.listDevices(req, res, url.searchParams);
      if (resource === "acl") {
        if (id === undefined && method === "GET") return this.getPolicy(req, res, url.searchParams);
        if (id === undefined && method === "POST") return this.setPolicy(req, res, body);
        if (id === "validate" && extra === undefined && method === "POST") return this.validatePolicy(req, res, body);
      }
    }

    if (rest[0] === "device" && rest.length >= 2) {
      const device = this.findDevice(rest[1]);
      const action = rest[2];
      if (rest.length > 3 || (action !== undefined && !["key", "tags", "authorized"].includes(action))) {
        return this.notFound(req, res);
      }
      if (action === undefined && !["GET", "DELETE"].includes(method)) return this.notFound(req, res);
      if (action !== undefined && method !== "POST") return this.notFound(req, res);
      // The real API's answer for a device it cannot manage (tailscale/tailscale#13186).
      if (device === undefined) return this.send(req, res, 404, { message: "no manageable device matching this ID found" });
      if (action === undefined && method === "GET") return this.send(req, res, 200, this.deviceJson(device, url.searchParams.get("fields") === "all"));
      if (action === undefined && method === "DELETE") {
        this.state.devices.delete(device.nodeId);
        return this.send(req, res, 200, undefined);
      }
      const json = parseJsonBody(body);
      if (json === undefined) return this.send(req, res, 400, { message: "invalid JSON body" });
      if (action === "key") return this.setDeviceKey(req, res, device, json);
      if (action === "tags") return this.setDeviceTags(req, res, device, json);
      return this.setDeviceAuthorized(req, res, device, json);
    }

    return this.notFound(req, res);
  }

  private authorized(header: string | undefined): boolean {
    if (header === undefined) return false;
    const [scheme, value] = header.split(" ", 2);
    if (scheme === "Basic" && value !== undefined) {
      const user = Buffer.from(value, "base64").toString("utf8").split(":")[0];
      return user.length > 0;
    }
    if (scheme === "Bearer" && value !== undefined) return value.length > 0;
    return false;
  }

  private oauthToken(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    // golang.org/x/oauth2 clientcredentials sends the client id and secret as Basic auth first, in the form body
    // if that fails; grant_type=client_credentials in a form body either way.
    const form = new URLSearchParams(body);
    let clientId = form.get("client_id") ?? "";
    let clientSecret = form.get("client_secret") ?? "";
    const header = req.headers.authorization;
    if (header?.startsWith("Basic ")) {
      const [id, secret] = Buffer.from(header.slice(6), "base64").toString("utf8").split(":");
      clientId = decodeURIComponent(id ?? "");
      clientSecret = decodeURIComponent(secret ?? "");
    }
    if (form.get("grant_type") !== "client_credentials" || clientId === "" || clientSecret === "") {
      // RFC 6749 section 5.2 error body.
      return this.send(req, res, 401, { error: "invalid_client", message: "invalid client credentials" });
    }
    const token = `tskey-api-${randomToken(12)}CNTRL-${randomToken(24)}`;
    this.tokens.add(token);
    this.send(req, res, 200, { access_token: token, token_type: "Bearer", expires_in: 3600, scope: form.get("scope") ?? "all" });
  }

  // --- keys

  private keyJson(key: AuthKey, withSecret: boolean): Record<string, unknown> {
    const now = this.now();
    const invalid =
      key.revoked !== undefined || now.getTime() >= key.expires.getTime() || (!key.reusable && key.usedBy.length > 0);
    return {
      id: key.id,
      keyType: "auth",
      ...(withSecret ? { key: key.key } : {}),
      description: key.description,
      // Seconds, a number: the provider stores it as the key's `expiry` ([provider] resource_tailnet_key.go Create).
      expirySeconds: key.expirySeconds,
      created: iso(key.created),
      expires: iso(key.expires),
      ...(key.revoked !== undefined ? { revoked: iso(key.revoked) } : {}),
      // Revoked, expired and used single-use keys read back with "invalid": true ([api] "Get key"; the provider
      // treats an invalid single-use key as used, [provider] shouldRecreateIfInvalid).
      invalid,
      capabilities: {
        devices: {
          create: { reusable: key.reusable, ephemeral: key.ephemeral, preauthorized: key.preauthorized, tags: [...key.tags] },
        },
      },
      userId: key.userId,
    };
  }

  private listKeys(req: http.IncomingMessage, res: http.ServerResponse): void {
    // "Returns a list of active auth keys" ([api] "List tailnet keys").
    const active = [...this.state.keys.values()].filter((k) => !this.keyJson(k, false).invalid);
    this.send(req, res, 200, { keys: active.map((k) => this.keyJson(k, false)) });
  }

  private createKey(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const json = parseJsonBody(body);
    const caps = (json?.capabilities as { devices?: { create?: Record<string, unknown> } } | undefined) ?? undefined;
    // "A capabilities object is required and must contain devices" ([api] "Create auth key"). Wording unverified.
    if (json === undefined || caps === undefined || typeof caps !== "object" || caps.devices === undefined) {
      return this.send(req, res, 400, { message: "capabilities.devices is required" });
    }
    const create = caps.devices.create ?? {};
    const tags = create.tags ?? [];
    if (!isStringArray(tags)) return this.send(req, res, 400, { message: "capabilities.devices.create.tags must be a list of tags" });
    // Tags must be defined in the policy's tagOwners; otherwise 400 "requested tags [tag:x] are invalid or not
    // permitted" ([api] "Update device tags" shows this message; for keys: pulumi/pulumi-tailscale#613,
    // masterpointio/terraform-aws-tailscale#9, both from POST .../keys). With an API key of an Admin, any defined
    // tag is permitted ([kb1068] requirements); the OAuth rule that key tags match the client's is not modelled.
    const refused = this.tagsNotPermitted(tags);
    if (refused.length > 0) return this.send(req, res, 400, { message: tagsMessage(refused) });
    const expirySeconds = typeof json.expirySeconds === "number" && json.expirySeconds > 0 ? json.expirySeconds : DEFAULT_KEY_EXPIRY_SECONDS;
    const description = typeof json.description === "string" ? json.description : "";
    const now = this.now();
    const id = `k${randomToken(10)}CNTRL`;
    const key: AuthKey = {
      id,
      key: `tskey-auth-${id}-${randomToken(32)}`,
      description,
      created: now,
      expires: new Date(now.getTime() + expirySeconds * 1000),
      expirySeconds,
      reusable: create.reusable === true,
      ephemeral: create.ephemeral === true,
      preauthorized: create.preauthorized === true,
      tags: [...tags],
      userId: this.userId,
      usedBy: [],
    };
    this.state.keys.set(id, key);
    // The secret is in this answer only ([api] "Create auth key": "the key value, which will only be returned once").
    this.send(req, res, 200, this.keyJson(key, true));
  }

  private getKey(req: http.IncomingMessage, res: http.ServerResponse, id: string): void {
    const key = this.state.keys.get(id);
    // Unverified wording; the provider only looks at the status (IsNotFound).
    if (key === undefined) return this.send(req, res, 404, { message: "key not found" });
    this.send(req, res, 200, this.keyJson(key, false));
  }

  private deleteKey(req: http.IncomingMessage, res: http.ServerResponse, id: string): void {
    const key = this.state.keys.get(id);
    // A deleted key stays readable as revoked and invalid ([api] "Get key": "a revoked (deleted) or expired key
    // will have an invalid field set to true"); deleting it again is a 404, which the provider ignores
    // ([provider] Delete: "Single-use keys may no longer be here"). The second-delete status is unverified.
    if (key === undefined || key.revoked !== undefined) return this.send(req, res, 404, { message: "key not found" });
    key.revoked = this.now();
    this.send(req, res, 200, undefined);
  }

  // --- devices

  private findDevice(id: string): Device | undefined {
    // nodeId preferred; the legacy numeric id works too ([api] Device: "A device's numeric id value can also be used").
    return this.state.devices.get(id) ?? [...this.state.devices.values()].find((d) => d.id === id);
  }

  private deviceJson(device: Device, allFields: boolean): Record<string, unknown> {
    return {
      addresses: [...device.addresses],
      id: device.id,
      nodeId: device.nodeId,
      user: device.user,
      name: device.name,
      hostname: device.hostname,
      clientVersion: device.clientVersion,
      updateAvailable: false,
      os: device.os,
      created: iso(device.created),
      connectedToControl: device.connectedToControl,
      lastSeen: iso(device.lastSeen),
      keyExpiryDisabled: device.keyExpiryDisabled,
      expires: iso(device.expires),
      authorized: device.authorized,
      isExternal: false,
      isEphemeral: device.isEphemeral,
      machineKey: device.machineKey,
      nodeKey: device.nodeKey,
      blocksIncomingConnections: false,
      tags: [...device.tags],
      tailnetLockError: "",
      tailnetLockKey: device.tailnetLockKey,
      // Only with fields=all ([api] "List tailnet devices": default omits routes and clientConnectivity).
      ...(allFields
        ? {
            advertisedRoutes: [],
            enabledRoutes: [],
            clientConnectivity: {
              endpoints: [],
              mappingVariesByDestIP: false,
              latency: {},
              clientSupports: { hairPinning: false, ipv6: true, pcp: false, pmp: false, udp: true, upnp: false },
            },
          }
        : {}),
    };
  }

  private listDevices(req: http.IncomingMessage, res: http.ServerResponse, query: URLSearchParams): void {
    // Every query parameter but `fields` filters on the device attribute of that name; a device matches when the
    // attribute equals one of the values given (for a list attribute such as tags: contains one). getDevice sends
    // `?hostname=<hostname>` (or `?name=`) and takes the first device listed ([provider] data_source_device.go,
    // [client] devices.go WithFilter). An attribute the fake does not know filters everything out.
    let devices = [...this.state.devices.values()];
    const filters = new Map<string, string[]>();
    for (const [name, value] of query) {
      if (name === "fields") continue;
      filters.set(name, [...(filters.get(name) ?? []), value]);
    }
    for (const [name, values] of filters) {
      devices = devices.filter((device) => {
        const attribute = this.deviceJson(device, true)[name];
        const scalar = (v: unknown) => (typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : undefined);
        if (Array.isArray(attribute)) return attribute.some((a) => values.includes(scalar(a) ?? ""));
        const value = scalar(attribute);
        return value !== undefined && values.includes(value);
      });
    }
    const all = query.get("fields") === "all";
    this.send(req, res, 200, { devices: devices.map((d) => this.deviceJson(d, all)) });
  }

  private setDeviceKey(req: http.IncomingMessage, res: http.ServerResponse, device: Device, json: Record<string, unknown>): void {
    // "Empty value will not change the key expiry" ([api] "Update device key").
    if (typeof json.keyExpiryDisabled === "boolean") device.keyExpiryDisabled = json.keyExpiryDisabled;
    this.send(req, res, 200, {});
  }

  private setDeviceTags(req: http.IncomingMessage, res: http.ServerResponse, device: Device, json: Record<string, unknown>): void {
    const tags = json.tags;
    if (!isStringArray(tags)) return this.send(req, res, 400, { message: "tags must be a list of tags" });
    // Tags not defined in tagOwners: 400 "requested tags [tag:madeup tag:wrongexample] are invalid or not
    // permitted" ([api] "Update device tags", verbatim).
    const refused = this.tagsNotPermitted(tags);
    if (refused.length > 0) return this.send(req, res, 400, { message: tagsMessage(refused) });
    // "You cannot remove all tags from a device. A device with a tag-based identity must have at least one tag."
    // ([kb1068] Limitations; [provider] resource_device_tags.go Delete: "Tags cannot be removed without
    // reauthorizing the device as a user"). So DeviceTags' delete, which sets [], is refused for a tagged device.
    // Wording unverified.
    if (tags.length === 0 && device.tags.length > 0) {
      return this.send(req, res, 400, {
        message: "cannot remove all tags from a tagged device: a device with a tag-based identity must have at least one tag",
      });
    }
    device.tags = [...new Set(tags)];
    this.send(req, res, 200, {});
  }

  private setDeviceAuthorized(req: http.IncomingMessage, res: http.ServerResponse, device: Device, json: Record<string, unknown>): void {
    if (typeof json.authorized !== "boolean") return this.send(req, res, 400, { message: "authorized must be true or false" });
    device.authorized = json.authorized;
    this.send(req, res, 200, {});
  }

  private tagsNotPermitted(tags: string[]): string[] {
    const check = checkPolicy(this.state.policy);
    const defined = new Set(check.ok ? Object.keys(check.policy.tagOwners) : []);
    return tags.filter((tag) => !/^tag:[A-Za-z0-9][A-Za-z0-9-]*$/.test(tag) || !defined.has(tag));
  }

  // --- policy file

  private getPolicy(req: http.IncomingMessage, res: http.ServerResponse, query: URLSearchParams): void {
    const etag = `"${this.policyEtag()}"`;
    if (query.get("details") === "1") {
      return this.send(req, res, 200, { acl: Buffer.from(this.state.policy).toString("base64"), warnings: [], errors: null }, { ETag: etag });
    }
    // "Response is encoded as JSON if application/json is requested, otherwise HuJSON will be returned", with an
    // ETag header ([api] "Get policy file"). The provider's Acl read asks for application/hujson ([client] Raw).
    if (wantsJson(req)) return this.sendText(req, res, 200, policyAsJson(this.state.policy), "application/json", { ETag: etag });
    this.sendText(req, res, 200, this.state.policy, "application/hujson", { ETag: etag });
  }

  private setPolicy(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    // If-Match: the current ETag, or "ts-default" to replace only the untouched default; a mismatch is
    // 412 "precondition failed, invalid old hash" ([api] "Update policy file"; the message as quoted in
    // pulumi/pulumi-tailscale#98). The provider sends "ts-default" unless overwriteExistingContent is true.
    const ifMatch = req.headers["if-match"];
    if (typeof ifMatch === "string" && ifMatch !== "" && ifMatch !== "*") {
      const wanted = ifMatch.trim().replace(/^W\//, "").replace(/^"|"$/g, "");
      const matches = wanted === "ts-default" ? this.state.policyIsDefault : wanted === this.policyEtag();
      if (!matches) return this.send(req, res, 412, { message: "precondition failed, invalid old hash" });
    }
    // An empty policy resets the tailnet to its default ([provider] resource_acl.go Delete: "Setting the ACL to an
    // empty string resets its value to the default").
    if (body.trim() === "") {
      this.state.policy = DEFAULT_POLICY;
      this.state.policyIsDefault = true;
    } else {
      const check = checkPolicy(body);
      if (!check.ok) return this.send(req, res, check.refusal.status, check.refusal.body);
      // Stored as posted: a later read gives back the same text, comments and all.
      this.state.policy = body;
      this.state.policyIsDefault = false;
    }
    // "On success, returns the updated ACL in JSON or HuJSON according to the Accept header" ([api]).
    const etag = { ETag: `"${this.policyEtag()}"` };
    if (wantsJson(req)) return this.sendText(req, res, 200, policyAsJson(this.state.policy), "application/json", etag);
    this.sendText(req, res, 200, this.state.policy, "application/hujson", etag);
  }

  private validatePolicy(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    // 200 even when the policy or its tests fail: the body carries the message ([api] "Validate and test policy
    // file"). A JSON array body is a list of tests to run against the current policy.
    const parsed: unknown = parseJsonc(body, [], { allowTrailingComma: true });
    let check: PolicyCheck;
    if (Array.isArray(parsed)) {
      const current = parseJsonc(this.state.policy, [], { allowTrailingComma: true }) as Record<string, unknown>;
      check = checkPolicy(JSON.stringify({ ...current, tests: parsed }));
    } else {
      check = checkPolicy(body);
    }
    this.send(req, res, 200, check.ok ? {} : check.refusal.body);
  }

  // --- plumbing

  private notFound(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.send(req, res, 404, { message: "not found" });
  }

  private send(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = body === undefined ? "" : JSON.stringify(body);
    this.sendText(req, res, status, text, "application/json", headers, body);
  }

  private sendText(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    status: number,
    text: string,
    contentType: string,
    headers: Record<string, string> = {},
    body?: unknown,
  ): void {
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    const message = status >= 400 && body && typeof body === "object" ? (body as { message?: unknown }).message : undefined;
    const scheme = req.headers.authorization?.split(" ")[0];
    const { accept, "content-type": requestContentType, "if-match": ifMatch } = req.headers;
    this.requests.push({
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.search.replace(/^\?/, ""),
      status,
      ...(typeof message === "string" ? { message } : {}),
      auth: scheme === "Basic" ? "basic" : scheme === "Bearer" ? "bearer" : "none",
      ...(accept !== undefined ? { accept } : {}),
      ...(requestContentType !== undefined ? { contentType: requestContentType } : {}),
      ...(typeof ifMatch === "string" ? { ifMatch } : {}),
    });
    if (res.headersSent) return;
    res.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private mustGetKey(id: string): AuthKey {
    const key = this.state.keys.get(id);
    if (key === undefined) throw new Error(`FakeTailscale: no key ${id}`);
    return key;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseJsonBody(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body === "" ? "{}" : body);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function wantsJson(req: http.IncomingMessage): boolean {
  return (req.headers.accept ?? "").split(",").some((type) => type.trim().startsWith("application/json"));
}

/** Go formats a []string as "[a b]"; the API's tag refusals do too. */
function tagsMessage(tags: string[]): string {
  return `requested tags [${tags.join(" ")}] are invalid or not permitted`;
}

/** RFC 3339 with whole seconds, as the API writes times. */
function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomToken(length: number): string {
  const bytes = crypto.randomBytes(length);
  return [...bytes].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join("");
}

function redact(secret: string): string {
  return secret.length > 20 ? `${secret.slice(0, 20)}...` : secret;
}

/**
 * The machine name a hostname gives ([kb1098]: "John's-iPhone-6S.local" becomes "johns-iphone-6s"): lowercase,
 * the first DNS label only, apostrophes dropped, anything else outside [a-z0-9-] a dash, dashes collapsed.
 */
export function machineNameOf(hostname: string): string {
  return hostname
    .split(".")[0]
    .toLowerCase()
    .replace(/['’]/g, "")
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 63);
}

/** The n-th IPv4 address of 100.64.0.0/10 (n from 1), skipping 100.100.100.100, which is Tailscale's own resolver. */
function tailnetIpv4(n: number): string {
  let index = n;
  const quad100 = (100 - 64) * 65536 + 100 * 256 + 100;
  if (index >= quad100) index++;
  if (index >= 1 << 22) throw new Error("FakeTailscale: 100.64.0.0/10 is full");
  return `100.${64 + (index >> 16)}.${(index >> 8) & 255}.${index & 255}`;
}
