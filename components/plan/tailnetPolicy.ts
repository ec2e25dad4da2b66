// The tailnet policy as typed data: who may reach what, worked out from the services catalog.
//
// Managing `tailscale.Acl` overwrites the tailnet's whole policy, and the control plane runs the policy's
// `tests` and `sshTests` before it accepts a change. So the policy carries its own tests: every access this
// module opens is asserted as an accept, and every access it must keep closed (Ollama, cross-environment,
// users beyond LiteLLM and Qdrant) as a deny. A widened grant then fails at `pulumi up`, not in production.
import { isUserIdentity, nodeTag, TAG_PATTERN, userGroup } from "../catalog/identities";
import { catalogPorts, NODE_ROLES, NodeRole, port, Reacher, Role, ROLES, ServicePort, WORKER } from "../catalog/services";
import { ENVIRONMENTS, type Settings } from "../config";
import type { TailnetGrant, TailnetPolicy, TailnetSshRule, TailnetSshTest, TailnetTest } from "../render/tailnetPolicy";

/** Tailscale SSH cannot be moved: port 22 of the node's tailnet address. */
export const TAILSCALE_SSH_PORT = port("ssh");

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
   * Each environment's deployers, keyed by environment: identities that run `pulumi up` there (a laptop user
   * e-mail or a CI tag such as "tag:ai-dev-deployer"). They reach that environment's nodes, and no other's, by
   * Tailscale SSH as root. A deployer tag gets its own `tagOwners` entry, owned by the admins. No identity
   * may deploy two environments.
   */
  deployers: Record<string, string[]>;
  /** Members (user e-mails) of the user group: they reach LiteLLM and Qdrant of every environment, nothing else. */
  users: string[];
  /**
   * Each environment's external backends, keyed by environment: machines on the tailnet the platform does not
   * manage (tagged by an admin), each reached on its one port by that environment's LiteLLM node and by nothing
   * else of the platform. Default none.
   */
  backends?: Record<string, PolicyBackend[]>;
  /**
   * The environments that have extra inference nodes (workers), which all carry the environment's worker tag:
   * its LiteLLM node reaches their Ollama, its operations node their exporters, its deployers and the admins
   * their Tailscale SSH. Default none: an environment without workers has no worker tag in the policy.
   */
  workers?: string[];
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

/** A backend as the policy sees it: a tagged machine and the one port its server listens on. */
export interface PolicyBackend {
  name: string;
  tag: string;
  port: number;
}

/** The policy a stack's settings ask for: one policy for every environment, so each stack renders the same. */
export function stackPolicySpec(
  settings: Pick<Settings, "namePrefix" | "tailnet" | "backends"> & Partial<Pick<Settings, "workers">>,
): TailnetPolicySpec {
  const workers = ENVIRONMENTS.filter((env) => (settings.workers?.[env] ?? []).length > 0);
  return {
    prefix: settings.namePrefix,
    environments: [...ENVIRONMENTS],
    admins: settings.tailnet.admins,
    deployers: { ...settings.tailnet.deployers },
    users: settings.tailnet.users,
    backends: Object.fromEntries(
      ENVIRONMENTS.map((env) => [env, settings.backends[env].map(({ name, tag, port }) => ({ name, tag, port }))]),
    ),
    ...(workers.length > 0 ? { workers } : {}),
  };
}

/** Everything the policy's parts are worked out from: the spec, normalised, and the port sets per role. */
interface PolicyContext {
  envs: string[];
  admins: string[];
  /** The deployers of an environment, sorted. */
  deployersOf: (env: string) => string[];
  /** Every environment's deployers, sorted. */
  deployers: string[];
  users: string[];
  group: string;
  /** The external backends of an environment, by tag: the ports its LiteLLM node reaches on each, ascending. */
  backendsOf: (env: string) => Map<string, number[]>;
  /** The node tags of one environment, one per role, and its worker tag when it has workers. */
  envTags: (env: string) => string[];
  /** The node tags of a role, one per environment. */
  tags: (role: Role) => string[];
  /** The worker tag of an environment that has workers. */
  workerTag: (env: string) => string | undefined;
  /** The worker tags of every environment that has workers. */
  workerTags: string[];
  /** The Qdrant peers' tags (inference and worker) of every environment whose Qdrant is a cluster (it has workers). */
  clusterTags: string[];
  allNodeTags: string[];
  ollama: number;
  /** Every port the policy speaks of: what someone may reach, and what must stay closed. */
  everyPort: number[];
  /** The ports published on a role's tailnet address that an audience may reach, ascending. */
  reachable: (who: Reacher, role: NodeRole) => number[];
}

/** How long a named admin's Tailscale SSH check lasts before the control plane asks again. */
export const ADMIN_SSH_CHECK_PERIOD = "12h";

/**
 * A user in no list of the policy: the `src` of the tests that someone merely on the tailnet reaches nothing
 * and logs in nowhere, when the spec names no member of the user group to stand for "a user".
 */
export const OUTSIDER = "nobody@example.com";

/**
 * Builds the policy: grants for admins, deployers, users and each environment's operations node; SSH rules
 * for each environment's deployers and for admins; and tests that assert every accept and every deny the
 * design relies on.
 * Throws an Error naming the field and the bad value when the spec cannot make a valid policy.
 */
export function buildTailnetPolicy(spec: TailnetPolicySpec): TailnetPolicy {
  validate(spec);
  const envs = sortedUnique(spec.environments);
  const withWorkers = new Set(spec.workers ?? []);
  // Qdrant's peer-to-peer port is spoken of only where some environment's Qdrant is a cluster (has workers).
  const catalog = catalogPorts(withWorkers.size > 0);
  const workerTag = (env: string) => (withWorkers.has(env) ? nodeTag(spec.prefix, env, WORKER) : undefined);
  const envTags = (env: string) => [...ROLES.map((role) => nodeTag(spec.prefix, env, role)), ...optional(workerTag(env))];
  const ctx: PolicyContext = {
    envs,
    admins: sortedUnique(spec.admins.filter((a) => a !== "autogroup:admin")),
    deployersOf: (env) => sortedUnique(spec.deployers[env] ?? []),
    deployers: sortedUnique(envs.flatMap((env) => spec.deployers[env] ?? [])),
    users: sortedUnique(spec.users),
    group: userGroup(spec.prefix),
    backendsOf: (env) => {
      const byTag = new Map<string, number[]>();
      for (const b of spec.backends?.[env] ?? []) byTag.set(b.tag, sortedPorts([...(byTag.get(b.tag) ?? []), b.port]));
      return new Map([...byTag].sort(([a], [b]) => a.localeCompare(b)));
    },
    tags: (role) => envs.map((env) => nodeTag(spec.prefix, env, role)),
    envTags,
    workerTag,
    workerTags: envs.flatMap((env) => optional(workerTag(env))),
    clusterTags: envs.flatMap((env) => (withWorkers.has(env) ? [nodeTag(spec.prefix, env, "inference"), nodeTag(spec.prefix, env, WORKER)] : [])),
    allNodeTags: envs.flatMap(envTags),
    ollama: port("ollama"),
    everyPort: sortedPorts(catalog.filter((p) => p.reach.length > 0 || p.neverGranted).map((p) => p.port)),
    reachable: (who, role) => sortedPorts(catalog.filter((p) => reaches(p, who, role)).map((p) => p.port)),
  };
  const owners = ["autogroup:admin", ...ctx.admins];
  const tagOwners: Record<string, string[]> = {};
  // An environment's deployers own its node tags (its workers' too), and no other's: they mint its nodes' tagged auth keys.
  for (const env of envs) {
    for (const tag of ctx.envTags(env)) tagOwners[tag] = uniqueInOrder([...owners, ...ctx.deployersOf(env)]);
  }
  for (const deployer of ctx.deployers.filter((d) => d.startsWith("tag:"))) tagOwners[deployer] = owners;
  // A backend machine is the team's own, tagged by an admin.
  for (const env of envs) for (const tag of ctx.backendsOf(env).keys()) tagOwners[tag] = owners;

  return {
    groups: { [ctx.group]: ctx.users },
    tagOwners,
    grants: buildGrants(ctx),
    ssh: buildSshRules(ctx),
    ...buildTests(ctx, spec),
  };
}

function reaches(p: ServicePort, who: Reacher, role: NodeRole): boolean {
  // A port without authentication (Ollama) lists only a node in `reach`, never a person.
  return p.publishedOn.includes(role) && p.reach.includes(who);
}

function buildGrants(ctx: PolicyContext): TailnetGrant[] {
  // Admins get explicit ports rather than "*": "*" would include Ollama, which has no authentication.
  const grants: TailnetGrant[] = ROLES.map((role) => ({
    comment: `Admins: every service port and Tailscale SSH on the ${role} nodes; never Ollama.`,
    src: ["autogroup:admin", ...ctx.admins],
    dst: ctx.tags(role),
    ip: ctx.reachable("admins", role).map(tcp),
  }));
  if (ctx.workerTags.length > 0) {
    grants.push({
      comment: "Admins: Qdrant, the exporters and Tailscale SSH on the extra inference nodes; never Ollama, never Qdrant's peer port.",
      src: ["autogroup:admin", ...ctx.admins],
      dst: ctx.workerTags,
      ip: ctx.reachable("admins", WORKER).map(tcp),
    });
  }
  for (const env of ctx.envs.filter((e) => ctx.deployersOf(e).length > 0)) {
    grants.push({
      comment: `${env} deployers (\`pulumi up\`): Tailscale SSH to ${env}'s nodes only, which carries the Docker provider and commands.`,
      src: ctx.deployersOf(env),
      dst: ctx.envTags(env),
      ip: [tcp(TAILSCALE_SSH_PORT)],
    });
  }
  if (ctx.users.length > 0) {
    for (const role of ROLES.filter((r) => ctx.reachable("users", r).length > 0)) {
      grants.push({
        comment: "Users: LiteLLM and Qdrant on the inference nodes, nothing else.",
        src: [ctx.group],
        dst: ctx.tags(role),
        ip: ctx.reachable("users", role).map(tcp),
      });
    }
    if (ctx.workerTags.length > 0) {
      grants.push({
        comment: "Users: Qdrant on the extra inference nodes (each peer answers for the whole cluster), nothing else.",
        src: [ctx.group],
        dst: ctx.workerTags,
        ip: ctx.reachable("users", WORKER).map(tcp),
      });
    }
  }
  for (const [index, env] of ctx.envs.entries()) {
    const operations = ctx.tags("operations")[index];
    grants.push(
      {
        comment: `${env} operations node: scrapes and probes its own environment's inference node only.`,
        src: [operations],
        dst: [ctx.tags("inference")[index]],
        ip: ctx.reachable("monitoring", "inference").map(tcp),
      },
      {
        comment: `${env} operations node: its own exporters, when scraped by its tailnet name.`,
        src: [operations],
        dst: [operations],
        ip: ctx.reachable("monitoring", "operations").map(tcp),
      },
    );
    const worker = ctx.workerTag(env);
    if (worker !== undefined) {
      grants.push(
        {
          comment: `${env} LiteLLM node: Ollama on ${env}'s extra inference nodes; nothing else reaches it.`,
          src: [ctx.tags("inference")[index]],
          dst: [worker],
          ip: ctx.reachable("litellm", WORKER).map(tcp),
        },
        {
          comment: `${env} operations node: scrapes the exporters and Qdrant of ${env}'s extra inference nodes.`,
          src: [operations],
          dst: [worker],
          ip: ctx.reachable("monitoring", WORKER).map(tcp),
        },
        {
          comment: `${env} Qdrant peers: the inference node and the extra inference nodes replicate over Qdrant's peer-to-peer port, which has no authentication; nothing else reaches it.`,
          src: [ctx.tags("inference")[index], worker],
          dst: [ctx.tags("inference")[index], worker],
          ip: ctx.reachable("qdrantPeers", WORKER).map(tcp),
        },
      );
    }
    for (const [tag, ports] of ctx.backendsOf(env)) {
      grants.push({
        comment: `${env} LiteLLM node: its external backend ${tag}, on the port its server listens on; nothing else of the platform reaches it.`,
        src: [ctx.tags("inference")[index]],
        dst: [tag],
        ip: ports.map(tcp),
      });
    }
  }
  return grants;
}

function buildSshRules(ctx: PolicyContext): TailnetSshRule[] {
  // Deployers "accept": `pulumi up` is non-interactive, and a tagged runner cannot answer a check. Named admins
  // log in interactively, so they "check": the control plane asks them to sign in again every 12 hours. The
  // first matching rule decides, so an admin who also deploys an environment is let in there without a check,
  // as its pipeline is. autogroup:admin is left out of SSH on purpose: only explicitly named admins get root.
  const ssh: TailnetSshRule[] = ctx.envs
    .filter((env) => ctx.deployersOf(env).length > 0)
    .map((env) => ({
      comment: `${env} deployers: root on ${env}'s nodes only.`,
      action: "accept",
      src: ctx.deployersOf(env),
      dst: ctx.envTags(env),
      users: ["root"],
    }));
  if (ctx.admins.length > 0) {
    ssh.push({
      comment: `Named admins: root on every node, after signing in again every ${ADMIN_SSH_CHECK_PERIOD}.`,
      action: "check",
      checkPeriod: ADMIN_SSH_CHECK_PERIOD,
      src: ctx.admins,
      dst: ctx.allNodeTags,
      users: ["root"],
    });
  }
  return ssh;
}

const at = (hosts: string[], portList: number[]): string[] => hosts.flatMap((h) => portList.map((p) => `${h}:${p}`));

function buildTests(ctx: PolicyContext, spec: TailnetPolicySpec): { tests: TailnetTest[]; sshTests: TailnetSshTest[] } {
  const exampleAdmin = spec.exampleAdmin ?? ctx.admins.find(isUserIdentity);
  const exampleUser = spec.exampleUser ?? ctx.users.find((u) => !ctx.admins.includes(u) && !ctx.deployers.includes(u));
  const { allNodeTags, everyPort, ollama } = ctx;
  const inferenceTags = ctx.tags("inference");
  const userPorts = ctx.reachable("users", "inference");
  const userWorkerPorts = ctx.reachable("users", WORKER);
  // Qdrant's peer-to-peer port on the nodes of the environments whose Qdrant is a cluster: no person reaches it.
  const peerPorts = at(ctx.clusterTags, ctx.reachable("qdrantPeers", WORKER));

  const tests: TailnetTest[] = [];
  if (exampleAdmin !== undefined) {
    tests.push({
      comment: "Admins reach every port but Ollama on every node.",
      src: exampleAdmin,
      accept: [...ROLES.flatMap((role) => at(ctx.tags(role), ctx.reachable("admins", role))), ...at(ctx.workerTags, ctx.reachable("admins", WORKER))],
      deny: [...at(allNodeTags, [ollama]), ...peerPorts],
    });
  }
  for (const env of ctx.envs) {
    const elsewhere = allNodeTags.filter((tag) => !ctx.envTags(env).includes(tag));
    for (const deployer of ctx.deployersOf(env)) {
      tests.push({
        comment: `${env} deployers reach Tailscale SSH on ${env}'s nodes, nothing in another environment, never Ollama.`,
        src: deployer,
        accept: at(ctx.envTags(env), [TAILSCALE_SSH_PORT]),
        deny: [...at(inferenceTags, [ollama]), ...at(optional(ctx.workerTag(env)), [ollama]), ...at(elsewhere, [TAILSCALE_SSH_PORT])],
      });
    }
  }
  if (exampleUser !== undefined) {
    tests.push({
      comment: "Users reach LiteLLM and Qdrant only: no Ollama, no SSH, no exporters, nothing on the operations nodes.",
      src: exampleUser,
      accept: [...at(inferenceTags, userPorts), ...at(ctx.workerTags, userWorkerPorts)],
      deny: [...at(inferenceTags, without(everyPort, userPorts)), ...at(ctx.tags("operations"), everyPort), ...at(ctx.workerTags, without(everyPort, userWorkerPorts))],
    });
  } else {
    tests.push({ comment: "Someone in no list of this policy reaches no port of any node.", src: OUTSIDER, deny: at(allNodeTags, everyPort) });
  }
  const everyBackend = ctx.envs.flatMap((env) => [...ctx.backendsOf(env)].flatMap(([tag, ports]) => at([tag], ports)));
  if (everyBackend.length > 0) {
    tests.push({
      comment: "Users, and anyone in no list of this policy, never reach an external backend: only LiteLLM does.",
      src: exampleUser ?? OUTSIDER,
      deny: sortedUnique(everyBackend),
    });
  }
  for (const [index, env] of ctx.envs.entries()) tests.push(...environmentTests(ctx, env, index));
  return { tests, sshTests: buildSshTests(ctx, exampleAdmin, exampleUser) };
}

function environmentTests(ctx: PolicyContext, env: string, index: number): TailnetTest[] {
  const inference = ctx.tags("inference")[index];
  const operations = ctx.tags("operations")[index];
  const worker = ctx.workerTag(env);
  const otherEnvTags = ctx.allNodeTags.filter((t) => !ctx.envTags(env).includes(t));
  const scrapePorts = ctx.reachable("monitoring", "inference");
  const ownExporterPorts = ctx.reachable("monitoring", "operations");
  const backends = [...ctx.backendsOf(env)].flatMap(([tag, ports]) => at([tag], ports));
  // Another environment's inference node reaches a backend only where that backend is also its own.
  const otherInference = ctx.envs.filter((e) => e !== env).map((e) => [e, ctx.tags("inference")[ctx.envs.indexOf(e)]] as const);
  const backendTests: TailnetTest[] = backends.length === 0 ? [] : [
    {
      comment: `${env} LiteLLM node reaches its external backends.`,
      src: inference,
      accept: backends,
    },
    {
      comment: `${env} operations node never reaches an external backend: only the LiteLLM node does.`,
      src: operations,
      deny: backends,
    },
    ...otherInference.flatMap(([other, tag]) => {
      const shared = new Set([...ctx.backendsOf(other)].flatMap(([t, ports]) => at([t], ports)));
      const deny = backends.filter((b) => !shared.has(b));
      return deny.length === 0 ? [] : [{ comment: `${other} LiteLLM node never reaches ${env}'s external backends.`, src: tag, deny }];
    }),
  ];
  const peer = ctx.reachable("qdrantPeers", WORKER);
  const fromInference = [...ctx.reachable("litellm", WORKER), ...peer];
  const workerTests: TailnetTest[] = worker === undefined ? [] : [
    {
      comment: `${env} LiteLLM node reaches Ollama and Qdrant's peer port on ${env}'s extra inference nodes, and nothing else there.`,
      src: inference,
      accept: at([worker], fromInference),
      deny: at([worker], without(ctx.everyPort, fromInference)),
    },
    {
      comment: `${env} operations node scrapes the exporters and Qdrant of ${env}'s extra inference nodes, never their Ollama or Qdrant's peer port.`,
      src: operations,
      accept: at([worker], ctx.reachable("monitoring", WORKER)),
      deny: at([worker], without(ctx.everyPort, ctx.reachable("monitoring", WORKER))),
    },
    {
      comment: `${env} extra inference nodes reach Qdrant's peer port on ${env}'s inference node and on each other, nothing else of the platform.`,
      src: worker,
      accept: at([inference, worker], peer),
      deny: [...at([inference], without(ctx.everyPort, peer)), ...at([worker], without(ctx.everyPort, peer)), ...at([operations], ctx.everyPort), ...at(otherEnvTags, ctx.everyPort)],
    },
  ];
  return [
    ...backendTests,
    ...workerTests,
    {
      comment: `${env} operations node: its inference node's metrics ports and its own exporters; nothing else, nothing in another environment.`,
      src: operations,
      accept: [...at([inference], scrapePorts), ...at([operations], ownExporterPorts)],
      deny: [
        ...at([inference], without(ctx.everyPort, scrapePorts)),
        ...at([operations], without(ctx.everyPort, ownExporterPorts)),
        ...at(otherEnvTags, ctx.everyPort),
      ],
    },
    {
      comment: `${env} inference node: reaches no other node.`,
      src: inference,
      deny: at([operations, ...otherEnvTags], ctx.everyPort),
    },
  ];
}

function buildSshTests(ctx: PolicyContext, exampleAdmin?: string, exampleUser?: string): TailnetSshTest[] {
  const sshTests: TailnetSshTest[] = [];
  for (const env of ctx.envs) {
    const elsewhere = ctx.allNodeTags.filter((tag) => !ctx.envTags(env).includes(tag));
    for (const deployer of ctx.deployersOf(env)) {
      sshTests.push({ comment: `${env} deployers log in as root on ${env}'s nodes.`, src: deployer, dst: ctx.envTags(env), accept: ["root"] });
      if (elsewhere.length > 0) {
        sshTests.push({ comment: `${env} deployers never log in to another environment's nodes.`, src: deployer, dst: elsewhere, deny: ["root"] });
      }
    }
  }
  if (exampleAdmin !== undefined && ctx.admins.includes(exampleAdmin)) {
    // Where the admin also deploys, the deployers' "accept" comes first and decides.
    const deploys = ctx.envs.filter((env) => ctx.deployersOf(env).includes(exampleAdmin)).flatMap((env) => ctx.envTags(env));
    const checked = ctx.allNodeTags.filter((tag) => !deploys.includes(tag));
    if (checked.length > 0) {
      sshTests.push({ comment: "Named admins log in as root on every node after a check.", src: exampleAdmin, dst: checked, check: ["root"] });
    }
  }
  sshTests.push({
    comment: exampleUser !== undefined ? "Users never get a shell." : "Someone in no list of this policy never gets a shell.",
    src: exampleUser ?? OUTSIDER,
    dst: ctx.allNodeTags,
    deny: ["root"],
  });
  return sshTests;
}

/** A part of a tag: the prefix and the environment names. */
const NAME_PART = /^[a-z0-9]+(-[a-z0-9]+)*$/;

function validate(spec: TailnetPolicySpec): void {
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
  const deployedBy = new Map<string, string>();
  for (const [env, deployers] of Object.entries(spec.deployers)) {
    if (!spec.environments.includes(env)) fail(`deployers names "${env}", which is not one of environments`);
    for (const deployer of deployers) {
      if (!isUserIdentity(deployer) && !TAG_PATTERN.test(deployer)) {
        fail(`deployers of ${env} has "${deployer}": use a user e-mail or a tag such as "tag:${spec.prefix}-${env}-deployer"`);
      }
      const other = deployedBy.get(deployer);
      if (other !== undefined && other !== env) {
        fail(`"${deployer}" deploys both ${other} and ${env}: give each environment its own deployers`);
      }
      deployedBy.set(deployer, env);
    }
  }
  for (const env of spec.workers ?? []) {
    if (!spec.environments.includes(env)) fail(`workers names "${env}", which is not one of environments`);
  }
  const nodeTags = spec.environments.flatMap((env) => NODE_ROLES.map((role) => nodeTag(spec.prefix, env, role)));
  for (const [env, backends] of Object.entries(spec.backends ?? {})) {
    if (!spec.environments.includes(env)) fail(`backends names "${env}", which is not one of environments`);
    for (const b of backends) {
      if (!TAG_PATTERN.test(b.tag) || nodeTags.includes(b.tag) || deployedBy.has(b.tag)) {
        fail(`backends of ${env}: "${b.name}" has the tag "${b.tag}": use a tag of the backend machine's own, not a node's or a deployer's`);
      }
      if (!Number.isInteger(b.port) || b.port < 1 || b.port > 65535) fail(`backends of ${env}: "${b.name}" has the port ${b.port}: use 1 to 65535`);
    }
  }
  for (const user of spec.users) {
    // Tailscale groups hold users only: a group or tag cannot be a member.
    if (!isUserIdentity(user)) fail(`users has "${user}": group members must be user e-mails`);
  }
  if (spec.exampleUser !== undefined) {
    if (!spec.users.includes(spec.exampleUser)) fail(`exampleUser "${spec.exampleUser}" is not one of users`);
    if (spec.admins.includes(spec.exampleUser) || deployedBy.has(spec.exampleUser)) {
      fail(`exampleUser "${spec.exampleUser}" is also an admin or deployer, so the user group's deny tests would fail`);
    }
  }
  if (spec.exampleAdmin !== undefined && !isUserIdentity(spec.exampleAdmin)) {
    fail(`exampleAdmin is "${spec.exampleAdmin}": a test needs a user e-mail`);
  }
}

function optional<T>(value: T | undefined): T[] {
  return value === undefined ? [] : [value];
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
