/**
 * Every setting of the project: its type, default and meaning. Pulumi.yaml declares the same list for the
 * CLI (a test keeps the two equal), the README's settings table is checked against it, and
 * components/config.ts reads and validates each one.
 */

export type SettingType = "string" | "integer" | "boolean" | "array";

export interface SettingDeclaration {
  type: SettingType;
  /** Applied when neither Pulumi.yaml nor the stack file gives a value. */
  default: string | number | boolean | string[];
  description: string;
}

export const SETTINGS = {
  namePrefix: {
    type: "string",
    default: "ai",
    description:
      "Prefix of every resource, host and tailnet tag name; the environment follows it (ai-dev-inference).",
  },
  location: {
    type: "string",
    default: "fsn1",
    description: "Hetzner location of both nodes: fsn1, nbg1, hel1, ash, hil or sin.",
  },
  inferenceServerType: {
    type: "string",
    default: "cx43",
    description: "Hetzner server type of the inference node (Ollama, LiteLLM, Qdrant).",
  },
  operationsServerType: {
    type: "string",
    default: "cx33",
    description: "Hetzner server type of the operations node (Prometheus, Alertmanager, Grafana, Coolify).",
  },
  inferenceBackups: {
    type: "boolean",
    default: false,
    description:
      "Hetzner backups of the inference node (+20% of its price). Its state lives on its data volume, which backups do not cover.",
  },
  operationsBackups: {
    type: "boolean",
    default: true,
    description: "Hetzner backups of the operations node (+20% of its price): Coolify's apps and the dashboards' state.",
  },
  inferenceVolumeGb: {
    type: "integer",
    default: 10,
    description: "Size in GB of the inference node's data volume (Qdrant, LiteLLM's database); 10 to 10240.",
  },
  operationsVolumeGb: {
    type: "integer",
    default: 10,
    description: "Size in GB of the operations node's data volume (Prometheus, Grafana, Alertmanager); 10 to 10240.",
  },
  swapGiB: {
    type: "integer",
    default: 2,
    description: "Swap file on each node in GiB, a cushion against a memory spike; 0 for none, at most 16.",
  },
  protection: {
    type: "boolean",
    default: true,
    description:
      "Hetzner delete and rebuild protection on the servers and volumes, and Pulumi protect on the volumes.",
  },
  models: {
    type: "array",
    default: ["qwen2.5:7b", "nomic-embed-text"],
    description:
      "Ollama models to serve, as name[:tag]; a model outside the catalog also gives its size: name:tag=4.1GB or name:tag=4.1GB,64KiB (KV cache per token).",
  },
  contextLength: {
    type: "integer",
    default: 4096,
    description: "Ollama's context length in tokens for chat models; 512 to 131072.",
  },
  parallelRequests: {
    type: "integer",
    default: 1,
    description: "Requests each loaded model serves at once (OLLAMA_NUM_PARALLEL); 1 to 8. Each one holds its own context.",
  },
  maxLoadedModels: {
    type: "integer",
    default: 1,
    description: "Chat models Ollama keeps in memory at once (OLLAMA_MAX_LOADED_MODELS); 1 to 4. Embedding models count apart.",
  },
  publicWeb: {
    type: "boolean",
    default: false,
    description: "Open TCP 80/443 on the operations node for Coolify-hosted apps, from publicWebSourceRanges only.",
  },
  publicWebSourceRanges: {
    type: "array",
    default: [],
    description: "CIDRs allowed to reach TCP 80/443 when publicWeb is on, normally a CDN's published ranges.",
  },
  dockerAddressPool: {
    type: "string",
    default: "172.30.0.0/16",
    description: "CIDR Docker carves its container networks from (/24 each); must not overlap the tailnet's 100.64.0.0/10.",
  },
  tailnetDeployers: {
    type: "array",
    default: ["tag:ai-deployer"],
    description:
      "Tailnet identities that run pulumi up and reach the nodes by Tailscale SSH as root: a tag (a CI runner or a tagged laptop) or a user e-mail.",
  },
  tailnetAdmins: {
    type: "array",
    default: [],
    description:
      "Tailnet identities with access to every service port (never Ollama's): user e-mails or group: names. The tailnet's admins (autogroup:admin) always have it.",
  },
  tailnetUsers: {
    type: "array",
    default: [],
    description: "User e-mails of the group that reaches LiteLLM and Qdrant and nothing else.",
  },
  manageTailnetPolicy: {
    type: "boolean",
    default: false,
    description:
      "Let this stack write the tailnet's whole policy file (it covers every environment; turn it on in one stack only). Off: the policy is a stack output to merge by hand.",
  },
} as const satisfies Record<string, SettingDeclaration>;

export type SettingName = keyof typeof SETTINGS;

/** Settings of the providers that the program needs, read from their own namespaces or the environment. */
export const CREDENTIALS = [
  { key: "hcloud:token", env: ["HCLOUD_TOKEN"], what: "a Hetzner Cloud API token with read and write access" },
  {
    key: "tailscale:apiKey",
    env: ["TAILSCALE_API_KEY"],
    what: "a Tailscale API access token, or an OAuth client (tailscale:oauthClientId and tailscale:oauthClientSecret)",
  },
] as const;
