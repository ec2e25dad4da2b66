/**
 * "Private by default" as policy: each rule is a plain function over one resource's inputs (or the stack's
 * outputs) that returns its violations, one message each, naming the resource and what to change. The
 * CrossGuard pack (index.ts) feeds them what the engine sends; the tests feed them what the program declares
 * under mocks. Nothing here starts a policy server, so this module is safe to import anywhere.
 */
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { sourceRangeProblems } from "../components/config/cidr";

/** A resource as the rules see it: its inputs, and the paths of those that are secrets ("envs[2]"). */
export interface PolicyResource {
  type: string;
  name: string;
  props: Record<string, unknown>;
  secretProps?: string[];
}

/** A stack's outputs and the paths of those that are secrets ("rootSshPrivateKey", "litellm.masterKey"). */
export interface StackOutputs {
  outputs: Record<string, unknown>;
  secretOutputs: string[];
}

interface RuleInfo {
  name: string;
  description: string;
  enforcementLevel: "mandatory";
}

export interface ResourceRule extends RuleInfo {
  /** The resource types the rule reads; it has nothing to say about any other. */
  types: readonly string[];
  check(resource: PolicyResource): string[];
}

export interface StackRule extends RuleInfo {
  check(stack: StackOutputs): string[];
}

export const SERVER = "hcloud:index/server:Server";
export const FIREWALL = "hcloud:index/firewall:Firewall";
export const CONTAINER = "docker:index/container:Container";
export const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";

// ---------------------------------------------------------------------------------------------------------
// Secrets: which paths of a value are secret
// ---------------------------------------------------------------------------------------------------------

/** True when `path` is secret itself or lies inside a secret ("envs" covers "envs[3]"). */
export function isSecretAt(secretPaths: readonly string[] | undefined, path: string): boolean {
  return (secretPaths ?? []).some(
    (s) => s === "" || s === path || path.startsWith(`${s}.`) || path.startsWith(`${s}[`),
  );
}

/**
 * The secret paths of a value in the engine's wire form, where a secret is `{ <sig key>: <secret sig>,
 * value }`. Paths read like the harness's: `a.b`, `a[0]`.
 */
export function secretPathsInWire(value: unknown, at = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretPathsInWire(v, `${at}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  const obj = value as Record<string, unknown>;
  if (obj[specialSigKey] === specialSecretSig) return [at];
  return Object.entries(obj).flatMap(([k, v]) => secretPathsInWire(v, at ? `${at}.${k}` : k));
}

/**
 * A value only a deployment knows (an address, an image id), as the pack hands it to the rules during a preview.
 * A rule never reads such a value as if it were absent: it checks what is known and leaves the rest to `up`,
 * where every value is known and every rule checks it all.
 */
export const UNKNOWN: unique symbol = Symbol.for("ai-platform.policy.unknown");
const isUnknown = (value: unknown): boolean => value === UNKNOWN;

/** Where `withSecretPaths` leaves a resource's secret paths on the properties it returns. */
export const SECRET_PATHS = Symbol.for("ai-platform.policy.secretPaths");

type Deserialize = (struct: { toJavaScript(): unknown }, proxySecrets: boolean) => Record<string, unknown>;

/**
 * Wraps @pulumi/policy's property deserializer so that the plain properties it hands to validations still
 * say which paths were secret: the SDK unwraps secrets before a validation sees them (deserialize.js,
 * `proxySecrets` false), so without this no rule could tell a secret env from a plaintext one.
 */
export function withSecretPaths(deserialize: Deserialize): Deserialize {
  return (struct, proxySecrets) => {
    const props = deserialize(struct, proxySecrets);
    Object.defineProperty(props, SECRET_PATHS, { value: secretPathsInWire(struct.toJavaScript()), enumerable: false });
    return props;
  };
}

/** The secret paths `withSecretPaths` recorded on `props` (read through the SDK's proxies), if any. */
export function secretPathsOf(props: object): string[] | undefined {
  const paths = (props as Record<symbol, unknown>)[SECRET_PATHS];
  return Array.isArray(paths) ? paths.map(String) : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Names that hold credentials
// ---------------------------------------------------------------------------------------------------------

/** Words that make a name a credential's: `LITELLM_MASTER_KEY`, `rootSshPrivateKey`, `GF_SECURITY_ADMIN_PASSWORD`. */
const CREDENTIAL_WORDS = new Set([
  "KEY", "APIKEY", "AUTHKEY", "TOKEN", "SECRET", "SECRETS", "PASSWORD", "PASSWD", "PASS", "PASSPHRASE", "SALT",
  "CREDENTIAL", "CREDENTIALS", "DSN",
]);
/** Word sequences that carry a credential inside a URL or connection string. */
const CREDENTIAL_PHRASES = ["DATABASE_URL", "DB_URL", "POSTGRES_URL", "REDIS_URL", "CONNECTION_STRING"];
/** A public key is meant to be shared. */
const SHAREABLE_WORDS = new Set(["PUBLIC"]);
/** A last word that makes the name point at a credential rather than hold one: `POSTGRES_PASSWORD_FILE`, `KEY_ID`. */
const REFERENCE_WORDS = new Set(["FILE", "PATH", "ID", "NAME"]);

/** `masterKey` -> MASTER KEY, `QDRANT__SERVICE__API_KEY` -> QDRANT SERVICE API KEY. */
function words(name: string): string[] {
  return (name.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g) ?? []).map((w) => w.toUpperCase());
}

/** True when a variable or output named `name` would hold a credential. */
export function looksLikeCredential(name: string): boolean {
  const w = words(name);
  if (w.length === 0 || w.some((x) => SHAREABLE_WORDS.has(x)) || REFERENCE_WORDS.has(w[w.length - 1])) return false;
  const joined = `_${w.join("_")}_`;
  return w.some((x) => CREDENTIAL_WORDS.has(x)) || CREDENTIAL_PHRASES.some((p) => joined.includes(`_${p}_`));
}

// ---------------------------------------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------------------------------------

const record = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
/** An array's known elements; nothing for a value that is not an array (or not known yet). */
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value.filter((v) => !isUnknown(v)) : []);

const serverHasFirewall: ResourceRule = {
  name: "server-has-firewall",
  description: "Every Hetzner server is created behind at least one Cloud Firewall (firewallIds is not empty).",
  enforcementLevel: "mandatory",
  types: [SERVER],
  check(r) {
    // Only the list's length is read: during a preview its elements (the firewalls' ids) are not known yet.
    const ids = r.props.firewallIds;
    if (isUnknown(ids) || (Array.isArray(ids) && ids.length > 0)) return [];
    return [
      `server "${r.name}" has no firewall: without firewallIds every port it opens answers on its public address; ` +
        "attach the node's PublicFirewall",
    ];
  },
};

/** Ports the public internet may reach, and then only from named ranges (a CDN's), never from everywhere. */
const PUBLIC_WEB_PORTS = new Set(["80", "443"]);

const firewallNoPublicTcp: ResourceRule = {
  name: "firewall-no-public-tcp",
  description:
    "No Hetzner firewall rule lets TCP in from the whole internet (0.0.0.0/0, ::/0, a union of ranges that covers " +
    "either, or any range wider than a CDN's: /12 for IPv4, /32 for IPv6), and none lets TCP in at all except " +
    "ports 80 and 443 from named source ranges: admin interfaces and AI endpoints are reached over the tailnet.",
  enforcementLevel: "mandatory",
  types: [FIREWALL],
  check(r) {
    const problems: string[] = [];
    for (const rule of list(r.props.rules).map(record)) {
      if (rule.direction !== "in" || String(rule.protocol).toLowerCase() !== "tcp") continue;
      const port = typeof rule.port === "string" && rule.port !== "" ? rule.port : "any";
      const tooWide = sourceRangeProblems(list(rule.sourceIps).filter((ip): ip is string => typeof ip === "string"));
      const reasons: string[] = [];
      if (!PUBLIC_WEB_PORTS.has(port)) reasons.push(`TCP ${port} may not be opened at all (only 80 and 443 may)`);
      if (tooWide.length > 0) reasons.push(`its sources are too wide: ${tooWide.join("; ")}`);
      if (reasons.length > 0) {
        problems.push(
          `firewall "${r.name}" lets TCP ${port} in: ${reasons.join("; ")}. Reach services over the tailnet, ` +
            "and open 80/443 only to a CDN's address ranges",
        );
      }
    }
    return problems;
  },
};

/** Tags that move to a new image on every release. */
const MOVING_TAGS = new Set(["latest", "stable", "main", "master", "nightly", "edge"]);
const DIGEST = /@sha256:[0-9a-f]{64}$/;
/** A Docker image id (what a RemoteImage's imageId is): content-addressed, so pinned. */
const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;

/**
 * Why an image reference is not pinned, or undefined when it is: a sha256 digest, or else a version tag. A
 * digest that is not sha256:<64 hex> pins nothing (the pull fails on it), so then the tag must pin.
 */
export function unpinnedImage(ref: unknown): string | undefined {
  if (typeof ref !== "string" || ref.trim() === "") return "names no image";
  if (DIGEST.test(ref) || IMAGE_ID.test(ref)) return undefined;
  const named = ref.includes("@") ? ref.slice(0, ref.indexOf("@")) : ref;
  const lastSegment = named.slice(named.lastIndexOf("/") + 1);
  const colon = lastSegment.indexOf(":");
  if (colon < 0) return `runs "${ref}" with no tag, which Docker reads as :latest`;
  const tag = lastSegment.slice(colon + 1);
  if (MOVING_TAGS.has(tag.toLowerCase())) return `runs "${ref}", whose tag :${tag} moves with every release`;
  return undefined;
}

const imagesPinned: ResourceRule = {
  name: "container-image-pinned",
  description:
    "Every container image (and every pulled image) is pinned by a version tag that is not latest, or by a " +
    "digest (@sha256:...), so that a preview shows each upgrade and a redeploy never pulls an unreviewed release.",
  enforcementLevel: "mandatory",
  types: [CONTAINER, REMOTE_IMAGE],
  check(r) {
    const isContainer = r.type === CONTAINER;
    const ref = isContainer ? r.props.image : r.props.name;
    // A container's image is its RemoteImage's id, known after the pull: the RemoteImage's name is checked then.
    if (isUnknown(ref)) return [];
    const problem = unpinnedImage(ref);
    if (problem === undefined) return [];
    return [
      `${isContainer ? "container" : "image"} "${r.name}" ${problem}: pin a version tag from ` +
        "components/catalog/images.ts or a digest (@sha256:...)",
    ];
  },
};

const RESTART_POLICIES = new Set(["unless-stopped", "always", "on-failure"]);

const containerLimits: ResourceRule = {
  name: "container-memory-and-restart",
  description:
    "Every container has a memory limit (memory > 0, MiB), so one runaway service cannot take the node's RAM, " +
    'and a restart policy ("unless-stopped", "always" or "on-failure"), so it comes back after a crash or a reboot.',
  enforcementLevel: "mandatory",
  types: [CONTAINER],
  check(r) {
    const problems: string[] = [];
    const memory = r.props.memory;
    if (!isUnknown(memory) && (typeof memory !== "number" || !(memory > 0))) {
      problems.push(
        `container "${r.name}" has no memory limit (memory is ${JSON.stringify(memory ?? null)}): set memory in MiB ` +
          "from the node's capacity plan",
      );
    }
    const restart = r.props.restart;
    if (!isUnknown(restart) && (typeof restart !== "string" || !RESTART_POLICIES.has(restart))) {
      problems.push(
        `container "${r.name}" has restart policy ${JSON.stringify(restart ?? "no")}: set "unless-stopped", ` +
          '"always" or "on-failure"',
      );
    }
    return problems;
  },
};

const ALL_ADDRESSES = new Set(["", "0.0.0.0", "::", "[::]", "::0", "0:0:0:0:0:0:0:0"]);

const portsBound: ResourceRule = {
  name: "container-ports-bound",
  description:
    "Every published container port names its host address (the node's tailnet address or loopback): none is " +
    "published on 0.0.0.0, :: or without an ip, which would answer on the public interface.",
  enforcementLevel: "mandatory",
  types: [CONTAINER],
  check(r) {
    const problems: string[] = [];
    for (const port of list(r.props.ports).map(record)) {
      // An address known only after deploy (the node's tailnet address) is checked at `up`; a port with no
      // address at all is known to answer everywhere, preview or not.
      if (isUnknown(port.ip)) continue;
      const ip = typeof port.ip === "string" ? port.ip.trim() : "";
      if (!ALL_ADDRESSES.has(ip)) continue;
      const hostPort = typeof port.external === "number" ? port.external : typeof port.internal === "number" ? port.internal : undefined;
      const protocol = typeof port.protocol === "string" ? port.protocol : "tcp";
      const published = `${typeof hostPort === "number" ? hostPort : "?"}/${protocol}`;
      problems.push(
        `container "${r.name}" publishes ${published} on ${ip === "" ? "every address (no ip)" : ip}: bind it to ` +
          "the node's tailnet address or 127.0.0.1",
      );
    }
    return problems;
  },
};

const credentialEnvsSecret: ResourceRule = {
  name: "container-credentials-secret",
  description:
    "A container environment variable whose name says it holds a credential (...KEY, ...TOKEN, ...SECRET, " +
    "...PASSWORD, ...SALT, DATABASE_URL, ...) is passed as a Pulumi secret, so it is encrypted in the state and " +
    "masked in output.",
  enforcementLevel: "mandatory",
  types: [CONTAINER],
  check(r) {
    const problems: string[] = [];
    // A variable whose value is only known after deploy is still known to be secret or not: its name is what
    // is missing, so it is checked at `up`; a plain literal is checked now.
    list(r.props.envs).forEach((env, i) => {
      if (typeof env !== "string") return;
      const name = env.split("=", 1)[0];
      if (looksLikeCredential(name) && !isSecretAt(r.secretProps, `envs[${i}]`)) {
        problems.push(
          `container "${r.name}" sets ${name} in plain text: pass it as a Pulumi secret (pulumi.secret or a ` +
            "@pulumi/random value)",
        );
      }
    });
    return problems;
  },
};

/** Every output path whose own name looks like a credential's, with its value. */
function credentialOutputs(value: unknown, at: string): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => credentialOutputs(v, `${at}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => {
    const path = at ? `${at}.${key}` : key;
    // An output a deployment has yet to compute carries no secret mark at preview: it is judged at `up`.
    const judged = looksLikeCredential(key) && v !== undefined && !isUnknown(v);
    return [...(judged ? [path] : []), ...credentialOutputs(v, path)];
  });
}

const credentialOutputsSecret: StackRule = {
  name: "stack-credential-outputs-secret",
  description:
    "A stack output whose name says it holds a credential (a key, token, secret, password, ...) is a secret " +
    "output, so `pulumi stack output` and StackReference readers never see it in plain text by accident.",
  enforcementLevel: "mandatory",
  check({ outputs, secretOutputs }) {
    return credentialOutputs(outputs, "")
      .filter((path) => !isSecretAt(secretOutputs, path))
      .map((path) => `stack output "${path}" looks like a credential but is not secret: wrap it in pulumi.secret`);
  },
};

export const RESOURCE_RULES: readonly ResourceRule[] = [
  serverHasFirewall,
  firewallNoPublicTcp,
  imagesPinned,
  containerLimits,
  portsBound,
  credentialEnvsSecret,
];

export const STACK_RULES: readonly StackRule[] = [credentialOutputsSecret];
