// Whether a tailnet's policy file lets this stack's nodes join: every tag a node's auth key and device carry
// must be defined in `tagOwners` (the control plane refuses a key or a device tag it does not know), and the
// deployer who mints the keys must be one of its owners. Pure: the policy's text in, problems out.
import { GROUP_PATTERN, isUserIdentity, TAG_PATTERN } from "../catalog/identities";
import { ipEntryAllows, matchesAny } from "./tailnetAccess";

/** What the stack needs the tailnet's policy to define. */
export interface TagOwnershipNeeds {
  /** The tags the stack's nodes join with (their auth keys and devices), e.g. ["tag:ai-dev-inference"]. */
  nodeTags: string[];
  /** Who runs `pulumi up` on this environment and so mints the nodes' keys: tags or user e-mails. */
  deployers: string[];
  /** The setting that lists them, e.g. "ai-platform:tailnetDevDeployers". */
  deployersSetting: string;
  /**
   * The environment's external backends, which its LiteLLM node (`litellmNodeTag`) must be granted on their port.
   * Default none.
   */
  backends?: { name: string; tag: string; port: number }[];
  /** The tag of the node LiteLLM runs on, e.g. "tag:ai-dev-inference". */
  litellmNodeTag?: string;
  /** The setting that lists the backends, e.g. "ai-platform:tailnetDevBackends". */
  backendsSetting?: string;
  /**
   * The environment's extra inference nodes, when it has some: their tag (also in `nodeTags`), the port of their
   * Ollama, which the LiteLLM node (`litellmNodeTag`) must be granted, and the setting that lists them; and
   * Qdrant's peer port, which the inference node and the workers must be granted towards each other.
   */
  workers?: { tag: string; port: number; setting: string; qdrantPeerPort?: number };
}

/**
 * The problems, one line each, that stop this stack's nodes from joining under `policyJson` (the tailnet's
 * policy file as JSON, as `tailscale.getAcl` gives it): a node tag or a deployer tag missing from `tagOwners`,
 * or a node tag that a deployer may not apply. Empty when the policy is fine.
 */
export function tagOwnershipProblems(policyJson: string, needs: TagOwnershipNeeds): string[] {
  let policy: unknown;
  try {
    policy = JSON.parse(policyJson);
  } catch (err) {
    return [`the tailnet's policy file could not be read as JSON (${(err as Error).message})`];
  }
  if (policy === null || typeof policy !== "object" || Array.isArray(policy)) {
    return ["the tailnet's policy file is not a JSON object"];
  }
  const tagOwners = stringLists(field(policy as Record<string, unknown>, "tagOwners"));
  const groups = stringLists(field(policy as Record<string, unknown>, "groups"));

  const problems: string[] = [];
  const deployerTags = needs.deployers.filter((d) => TAG_PATTERN.test(d));
  for (const tag of deployerTags) {
    if (!(tag in tagOwners)) problems.push(`${tag} (a deployer, ${needs.deployersSetting}) is not defined in tagOwners`);
  }
  for (const tag of needs.nodeTags) {
    const owners = tagOwners[tag];
    if (owners === undefined) {
      problems.push(`${tag} (a node's tag) is not defined in tagOwners`);
      continue;
    }
    const refused = needs.deployers.filter((d) => !mayApply(d, owners, groups));
    if (refused.length > 0) {
      problems.push(`${tag} is owned by [${owners.join(", ")}], not by the deployer ${refused.join(", ")} that mints the node's key`);
    }
  }
  problems.push(...backendGrantProblems(policy as Record<string, unknown>, tagOwners, needs));
  problems.push(...workerGrantProblems(policy as Record<string, unknown>, tagOwners, needs));
  return problems;
}

/**
 * The extra inference nodes' Ollama the LiteLLM node may not reach: no grant from it to the worker tag's port.
 * An undefined worker tag is already a node tag's problem; a policy with legacy `acls` is not second-guessed.
 */
function workerGrantProblems(policy: Record<string, unknown>, tagOwners: Record<string, string[]>, needs: TagOwnershipNeeds): string[] {
  const node = needs.litellmNodeTag;
  const workers = needs.workers;
  if (node === undefined || workers === undefined || !(workers.tag in tagOwners) || field(policy, "acls") !== undefined) return [];
  const problems = grantsReach(policy, node, workers.tag, workers.port)
    ? []
    : [`no grant lets ${node} (LiteLLM's node) reach Ollama on the extra inference nodes at ${workers.tag}:${workers.port} (${workers.setting})`];
  const peer = workers.qdrantPeerPort;
  if (peer !== undefined) {
    for (const [src, dst] of [[node, workers.tag], [workers.tag, node], [workers.tag, workers.tag]]) {
      if (!grantsReach(policy, src, dst, peer)) {
        problems.push(`no grant lets ${src} reach Qdrant's peer port at ${dst}:${peer}, so Qdrant's peers cannot form a cluster (${workers.setting})`);
      }
    }
  }
  return problems;
}

/** Whether a grant of the policy lets the tagged node `src` reach `tag` on a TCP port. */
function grantsReach(policy: Record<string, unknown>, src: string, tag: string, port: number): boolean {
  const raw = field(policy, "grants");
  return (Array.isArray(raw) ? raw : [])
    .map((g) => stringLists(g))
    .some(
      (g) =>
        matchesAny(g.src ?? [], src, [src, "autogroup:tagged"]) &&
        (g.dst ?? []).some((d) => d === "*" || d === tag) &&
        (g.ip ?? []).some((entry) => ipEntryAllows(entry, "tcp", port)),
    );
}

/**
 * A backend the LiteLLM node may not reach: its tag undefined, or no grant from the LiteLLM node to its port.
 * Only grants are read; a policy that still has legacy `acls` may allow it there, which this does not model, so
 * such a policy is given the benefit of the doubt.
 */
function backendGrantProblems(policy: Record<string, unknown>, tagOwners: Record<string, string[]>, needs: TagOwnershipNeeds): string[] {
  const node = needs.litellmNodeTag;
  if (node === undefined || (needs.backends ?? []).length === 0) return [];
  if (field(policy, "acls") !== undefined) return [];
  const setting = needs.backendsSetting ?? "the backends setting";
  return (needs.backends ?? []).flatMap((b) => {
    if (!(b.tag in tagOwners)) return [`${b.tag} (the backend ${b.name}, ${setting}) is not defined in tagOwners`];
    const granted = grantsReach(policy, node, b.tag, b.port);
    return granted ? [] : [`no grant lets ${node} (LiteLLM's node) reach the backend ${b.name} at ${b.tag}:${b.port} (${setting})`];
  });
}

/**
 * Whether `deployer` may apply a tag owned by `owners`: it is an owner itself, or (a user) a member of an
 * owning group, or of an owning autogroup. Whether a user is a tailnet admin (autogroup:admin) the policy file
 * does not say; the control plane decides that one, so it is given the benefit of the doubt here.
 */
function mayApply(deployer: string, owners: string[], groups: Record<string, string[]>): boolean {
  if (owners.includes(deployer)) return true;
  if (!isUserIdentity(deployer)) return false;
  return owners.some(
    (owner) =>
      owner === "autogroup:admin" ||
      owner === "autogroup:member" ||
      (GROUP_PATTERN.test(owner) && (groups[owner] ?? []).includes(deployer)),
  );
}

/** A top-level field, matched without regard to case as the control plane's decoder does ("TagOwners" too). */
function field(policy: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(policy).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : policy[key];
}

/** A record of string lists; anything else reads as empty (the control plane would have refused it anyway). */
function stringLists(value: unknown): Record<string, string[]> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return {};
  const lists: Record<string, string[]> = {};
  for (const [key, list] of Object.entries(value)) {
    if (Array.isArray(list)) lists[key] = list.filter((x): x is string => typeof x === "string");
  }
  return lists;
}
