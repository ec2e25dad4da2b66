// The tailnet policy as typed data, and its HuJSON text.
//
// Managing `tailscale.Acl` overwrites the tailnet's whole policy, and the control plane runs the policy's
// `tests` and `sshTests` before it accepts a change. So the policy carries its own tests: every access this
// module opens is asserted as an accept, and every access it must keep closed (Ollama, cross-environment,
// users beyond LiteLLM and Qdrant) as a deny. A widened grant then fails at `pulumi up`, not in production.

/** The service ports the policy names. Each may be overridden per stack; defaults are in {@link PORTS}. */
export interface Ports {
  /** LiteLLM's OpenAI-compatible API and its /metrics. */
  litellm: number;
  /** Qdrant REST (and /metrics, /healthz). */
  qdrant: number;
  /** Qdrant gRPC. */
  qdrantGrpc: number;
  grafana: number;
  prometheus: number;
  alertmanager: number;
  /** Coolify's UI. */
  coolify: number;
  nodeExporter: number;
  cadvisor: number;
  /** The inference node's blackbox exporter: probes Ollama from inside its Docker network. */
  blackbox: number;
  /** Ollama: unauthenticated, so no grant may ever include it. */
  ollama: number;
}

/** Default ports of the platform's services (each service's upstream default). */
export const PORTS: Readonly<Ports> = Object.freeze({
  litellm: 4000,
  qdrant: 6333,
  qdrantGrpc: 6334,
  grafana: 3000,
  prometheus: 9090,
  alertmanager: 9093,
  coolify: 8000,
  nodeExporter: 9100,
  cadvisor: 8080,
  blackbox: 9115,
  ollama: 11434,
});

/**
 * Tailscale SSH answers on port 22 of the node's tailnet address. An `ssh` rule alone is not enough: the grants
 * must also let the source reach port 22, so this port appears in the deployers' and admins' grants.
 * It is not part of {@link Ports} because Tailscale SSH cannot be moved.
 */
export const TAILSCALE_SSH_PORT = 22;

/** The two roles of an environment's nodes. */
export type NodeRole = "inference" | "operations";

/** Every node role, in the order the policy lists them. */
export const NODE_ROLES: readonly NodeRole[] = ["inference", "operations"];

/** What the policy is built from. */
export interface TailnetPolicySpec {
  /** Name prefix of every tag, e.g. "ai". Lowercase letters, digits and dashes. */
  prefix: string;
  /** The environments the policy covers, e.g. ["dev", "prod"]; each gets its own tags. */
  environments: string[];
  /**
   * Identities with full access: user e-mails or "group:..." names (autogroup:admin is always included).
   * A "group:..." name must be known to the control plane already (for example synced from the identity
   * provider): this policy replaces the whole file and defines only its own user group.
   */
  admins: string[];
  /**
   * Identities that run `pulumi up` (a laptop user e-mail or a CI tag such as "tag:ai-deployer"); they reach
   * nodes by Tailscale SSH as root. A deployer tag gets its own `tagOwners` entry, owned by the admins.
   */
  deployers: string[];
  /** Members (user e-mails) of the user group: they reach LiteLLM and Qdrant of every environment, nothing else. */
  users: string[];
  /** Ports, each defaulted from {@link PORTS}. */
  ports?: Partial<Ports>;
  /**
   * A concrete member of `users` used as `src` of the user group's tests (a test needs a user, not a group).
   * Default: the first of `users` that is neither an admin nor a deployer. Without one, those tests are left out.
   */
  exampleUser?: string;
  /**
   * A concrete admin e-mail used as `src` of the admins' tests. Default: the first e-mail in `admins`.
   * Without one (only groups, or only autogroup:admin), those tests are left out.
   */
  exampleAdmin?: string;
}

/** A note rendered as a `//` line above its entry; it never becomes a field of the policy file. */
export interface Commented {
  comment?: string;
}

/** A network-layer grant: every `src` may reach every `dst` on every `ip` entry ("tcp:4000", "4000", "*"). */
export interface TailnetGrant extends Commented {
  src: string[];
  dst: string[];
  ip: string[];
}

/** A Tailscale SSH rule: `src` may log in to `dst` as any of `users`. */
export interface TailnetSshRule extends Commented {
  action: "accept" | "check";
  src: string[];
  dst: string[];
  users: string[];
}

/** A network test the control plane runs: `src` must reach each `accept` and none of `deny` ("tag:x:port"). */
export interface TailnetTest extends Commented {
  src: string;
  /** Protocol of the probes; the control plane's default is TCP. */
  proto?: string;
  accept?: string[];
  deny?: string[];
}

/** An SSH test: on each `dst` host, `src` may log in as each `accept` user, after a check as each `check` user, never as a `deny` user. */
export interface TailnetSshTest extends Commented {
  src: string;
  dst: string[];
  accept?: string[];
  check?: string[];
  deny?: string[];
}

/** The tailnet policy file, with Tailscale's field names. */
export interface TailnetPolicy {
  groups: Record<string, string[]>;
  tagOwners: Record<string, string[]>;
  grants: TailnetGrant[];
  ssh: TailnetSshRule[];
  tests: TailnetTest[];
  sshTests: TailnetSshTest[];
}

/** The tag of one environment's node, e.g. nodeTag("ai", "dev", "inference") is "tag:ai-dev-inference". */
export function nodeTag(prefix: string, env: string, role: NodeRole): string {
  return `tag:${prefix}-${env}-${role}`;
}

/** The group whose members reach LiteLLM and Qdrant, e.g. "group:ai-users". */
export function userGroup(prefix: string): string {
  return `group:${prefix}-users`;
}

/** Every port defaulted from {@link PORTS} with `??`, so a stack overrides only what it names. */
export function resolvePorts(ports?: Partial<Ports>): Ports {
  const resolved = { ...PORTS };
  for (const name of Object.keys(PORTS) as (keyof Ports)[]) {
    resolved[name] = ports?.[name] ?? PORTS[name];
  }
  return resolved;
}

/** A user identity (an e-mail, or "name@github" style), as opposed to a group, tag or autogroup. */
export function isUserIdentity(identity: string): boolean {
  return /^[^\s@:]+@[^\s@:]+$/.test(identity);
}

const NAME_PART = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * Builds the policy: grants for admins, deployers, users and each environment's operations node; SSH rules
 * for deployers and admins; and tests that assert every accept and every deny the design relies on.
 * Throws an Error naming the field and the bad value when the spec cannot make a valid policy.
 */
export function buildTailnetPolicy(spec: TailnetPolicySpec): TailnetPolicy {
  const ports = resolvePorts(spec.ports);
  validate(spec, ports);

  const prefix = spec.prefix;
  const envs = sortedUnique(spec.environments);
  const admins = sortedUnique(spec.admins.filter((a) => a !== "autogroup:admin"));
  const deployers = sortedUnique(spec.deployers);
  const users = sortedUnique(spec.users);
  const group = userGroup(prefix);

  const tags = (role: NodeRole): string[] => envs.map((env) => nodeTag(prefix, env, role));
  const inferenceTags = tags("inference");
  const allNodeTags = envs.flatMap((env) => NODE_ROLES.map((role) => nodeTag(prefix, env, role)));

  // Port sets, each sorted so the output does not depend on the order of PORTS.
  const ollama = ports.ollama;
  const everyPort = sortedPorts([...(Object.keys(ports) as (keyof Ports)[]).map((name) => ports[name]), TAILSCALE_SSH_PORT]);
  // Admins get explicit ports rather than "*": "*" would include Ollama, which has no authentication.
  const adminPorts = everyPort.filter((p) => p !== ollama);
  const userPorts = sortedPorts([ports.litellm, ports.qdrant, ports.qdrantGrpc]);
  // What Prometheus on the operations node scrapes or probes on the inference node.
  const scrapePorts = sortedPorts([ports.nodeExporter, ports.cadvisor, ports.litellm, ports.qdrant, ports.blackbox]);
  const ownExporterPorts = sortedPorts([ports.nodeExporter, ports.cadvisor]);

  const adminSources = ["autogroup:admin", ...admins];
  const owners = ["autogroup:admin", ...admins];

  const groups: Record<string, string[]> = { [group]: users };

  const tagOwners: Record<string, string[]> = {};
  // Deployers own the node tags because they mint the nodes' tagged auth keys.
  for (const tag of allNodeTags) tagOwners[tag] = uniqueInOrder([...owners, ...deployers]);
  for (const deployer of deployers.filter((d) => d.startsWith("tag:"))) tagOwners[deployer] = owners;

  const grants: TailnetGrant[] = [
    {
      comment: "Admins: every service port and Tailscale SSH on every node; never Ollama.",
      src: adminSources,
      dst: allNodeTags,
      ip: adminPorts.map(tcp),
    },
  ];
  if (deployers.length > 0) {
    grants.push({
      comment: "Deployers (`pulumi up`): Tailscale SSH to every node, which carries the Docker provider and commands.",
      src: deployers,
      dst: allNodeTags,
      ip: [tcp(TAILSCALE_SSH_PORT)],
    });
  }
  if (users.length > 0) {
    grants.push({
      comment: "Users: LiteLLM and Qdrant on the inference nodes, nothing else.",
      src: [group],
      dst: inferenceTags,
      ip: userPorts.map(tcp),
    });
  }
  for (const env of envs) {
    const operations = nodeTag(prefix, env, "operations");
    grants.push(
      {
        comment: `${env} operations node: scrapes and probes its own environment's inference node only.`,
        src: [operations],
        dst: [nodeTag(prefix, env, "inference")],
        ip: scrapePorts.map(tcp),
      },
      {
        comment: `${env} operations node: its own exporters, when scraped by its tailnet name.`,
        src: [operations],
        dst: [operations],
        ip: ownExporterPorts.map(tcp),
      },
    );
  }

  // Both rules "accept": `pulumi up` is non-interactive, and a "check" rule for an identity that is also a
  // deployer would make the outcome depend on rule precedence. autogroup:admin is left out of SSH on purpose:
  // only explicitly named admins get root.
  const ssh: TailnetSshRule[] = [];
  if (deployers.length > 0) {
    ssh.push({ comment: "Deployers: root on every node.", action: "accept", src: deployers, dst: allNodeTags, users: ["root"] });
  }
  if (admins.length > 0) {
    ssh.push({ comment: "Named admins: root on every node.", action: "accept", src: admins, dst: allNodeTags, users: ["root"] });
  }

  const exampleAdmin = spec.exampleAdmin ?? admins.find(isUserIdentity);
  const exampleUser = spec.exampleUser ?? users.find((u) => !admins.includes(u) && !deployers.includes(u));
  const at = (hosts: string[], portList: number[]): string[] => hosts.flatMap((h) => portList.map((p) => `${h}:${p}`));

  const tests: TailnetTest[] = [];
  if (exampleAdmin !== undefined) {
    tests.push({
      comment: "Admins reach every port but Ollama on every node.",
      src: exampleAdmin,
      accept: at(allNodeTags, adminPorts),
      deny: at(allNodeTags, [ollama]),
    });
  }
  for (const deployer of deployers) {
    tests.push({
      comment: "Deployers reach Tailscale SSH on every node, never Ollama.",
      src: deployer,
      accept: at(allNodeTags, [TAILSCALE_SSH_PORT]),
      deny: at(inferenceTags, [ollama]),
    });
  }
  if (exampleUser !== undefined) {
    tests.push({
      comment: "Users reach LiteLLM and Qdrant only: no Ollama, no SSH, no exporters, nothing on the operations nodes.",
      src: exampleUser,
      accept: at(inferenceTags, userPorts),
      deny: [...at(inferenceTags, without(everyPort, userPorts)), ...at(tags("operations"), everyPort)],
    });
  }
  for (const env of envs) {
    const inference = nodeTag(prefix, env, "inference");
    const operations = nodeTag(prefix, env, "operations");
    const otherEnvTags = allNodeTags.filter((t) => t !== inference && t !== operations);
    tests.push(
      {
        comment: `${env} operations node: its inference node's metrics ports and its own exporters; nothing else, nothing in another environment.`,
        src: operations,
        accept: [...at([inference], scrapePorts), ...at([operations], ownExporterPorts)],
        deny: [
          ...at([inference], without(everyPort, scrapePorts)),
          ...at([operations], without(everyPort, ownExporterPorts)),
          ...at(otherEnvTags, everyPort),
        ],
      },
      {
        comment: `${env} inference node: reaches no other node.`,
        src: inference,
        deny: at([operations, ...otherEnvTags], everyPort),
      },
    );
  }

  const sshTests: TailnetSshTest[] = deployers.map((deployer) => ({
    comment: "Deployers log in as root on every node.",
    src: deployer,
    dst: allNodeTags,
    accept: ["root"],
  }));
  if (exampleAdmin !== undefined && admins.includes(exampleAdmin)) {
    sshTests.push({ comment: "Named admins log in as root on every node.", src: exampleAdmin, dst: allNodeTags, accept: ["root"] });
  }
  if (exampleUser !== undefined) {
    sshTests.push({ comment: "Users never get a shell.", src: exampleUser, dst: allNodeTags, deny: ["root"] });
  }

  return { groups, tagOwners, grants, ssh, tests, sshTests };
}

/**
 * Serializes the policy as HuJSON: 2-space JSON with a leading "generated" comment and each entry's `comment`
 * as a `//` line. Key order is fixed here, not taken from the object, so equal policies give equal text.
 */
export function renderTailnetPolicy(policy: TailnetPolicy): string {
  const sections: [string, string][] = [
    ["groups", renderRecord(policy.groups)],
    ["tagOwners", renderRecord(policy.tagOwners)],
    ["grants", renderEntries(policy.grants, (g) => ({ src: g.src, dst: g.dst, ip: g.ip }))],
    ["ssh", renderEntries(policy.ssh, (r) => ({ action: r.action, src: r.src, dst: r.dst, users: r.users }))],
    ["tests", renderEntries(policy.tests, (t) => ({ src: t.src, proto: t.proto, accept: t.accept, deny: t.deny }))],
    [
      "sshTests",
      renderEntries(policy.sshTests, (t) => ({ src: t.src, dst: t.dst, accept: t.accept, check: t.check, deny: t.deny })),
    ],
  ];
  const body = sections.map(([key, value]) => `  ${JSON.stringify(key)}: ${value}`).join(",\n");
  return `// Generated by components/render/tailnetPolicy.ts: change the spec, not this file.\n{\n${body}\n}\n`;
}

function renderRecord(record: Record<string, string[]>): string {
  const sorted: Record<string, string[]> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key];
  return indent(JSON.stringify(sorted, null, 2), "  ");
}

/** An array whose items are preceded by their comment; `fields` fixes the key order and drops `comment`. */
function renderEntries<T extends Commented>(entries: T[], fields: (entry: T) => object): string {
  if (entries.length === 0) return "[]";
  const items = entries.map((entry) => {
    const note = entry.comment === undefined ? "" : `    // ${entry.comment}\n`;
    // JSON.stringify drops the undefined optional fields.
    return `${note}    ${indent(JSON.stringify(fields(entry), null, 2), "    ")}`;
  });
  return `[\n${items.join(",\n")}\n  ]`;
}

function indent(text: string, pad: string): string {
  return text.split("\n").join(`\n${pad}`);
}

function validate(spec: TailnetPolicySpec, ports: Ports): void {
  const fail = (message: string): never => {
    throw new Error(`tailnet policy: ${message}`);
  };
  if (!NAME_PART.test(spec.prefix)) {
    fail(`prefix is "${spec.prefix}": use lowercase letters, digits and single dashes (it becomes part of every tag)`);
  }
  if (spec.environments.length === 0) fail("environments is empty: name at least one, e.g. [\"dev\", \"prod\"]");
  for (const env of spec.environments) {
    if (!NAME_PART.test(env)) fail(`environments has "${env}": use lowercase letters, digits and single dashes`);
  }
  for (const admin of spec.admins) {
    if (!isUserIdentity(admin) && !admin.startsWith("group:") && admin !== "autogroup:admin") {
      fail(`admins has "${admin}": use a user e-mail or a "group:..." name`);
    }
  }
  for (const deployer of spec.deployers) {
    if (!isUserIdentity(deployer) && !/^tag:[a-z0-9]+(-[a-z0-9]+)*$/.test(deployer)) {
      fail(`deployers has "${deployer}": use a user e-mail or a tag such as "tag:${spec.prefix}-deployer"`);
    }
  }
  for (const user of spec.users) {
    // Tailscale groups hold users only: a group or tag cannot be a member.
    if (!isUserIdentity(user)) fail(`users has "${user}": group members must be user e-mails`);
  }
  if (spec.exampleUser !== undefined) {
    if (!spec.users.includes(spec.exampleUser)) fail(`exampleUser "${spec.exampleUser}" is not one of users`);
    if (spec.admins.includes(spec.exampleUser) || spec.deployers.includes(spec.exampleUser)) {
      fail(`exampleUser "${spec.exampleUser}" is also an admin or deployer, so the user group's deny tests would fail`);
    }
  }
  if (spec.exampleAdmin !== undefined && !isUserIdentity(spec.exampleAdmin)) {
    fail(`exampleAdmin is "${spec.exampleAdmin}": a test needs a user e-mail`);
  }
  const seen = new Map<number, string>();
  for (const [name, port] of Object.entries(ports) as [keyof Ports, number][]) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`ports.${name} is ${port}: use a TCP port, 1 to 65535`);
    if (port === TAILSCALE_SSH_PORT) fail(`ports.${name} is ${port}, which Tailscale SSH uses`);
    const other = seen.get(port);
    // A shared port would let a grant for the other service open Ollama, or blur what a grant means.
    if (other !== undefined) fail(`ports.${name} and ports.${other} are both ${port}: each service needs its own port`);
    seen.set(port, name);
  }
}

function tcp(port: number): string {
  return `tcp:${port}`;
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

function uniqueInOrder(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function sortedPorts(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

function without(values: readonly number[], removed: readonly number[]): number[] {
  return values.filter((v) => !removed.includes(v));
}
