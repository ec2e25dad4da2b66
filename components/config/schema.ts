/**
 * Every setting of the project: its type, default and meaning. Pulumi.yaml declares the same list for the
 * CLI (a test keeps the two equal), the README's settings table is checked against it, and the modules
 * beside this one read and validate each one. A description that states a limit takes it from limits.ts.
 */
import { CLOUD_PROVIDERS, CloudProvider } from "../catalog/cloudProviders";
import { BACKUP_PRICE_SHARE, LOCATIONS, STORAGE_BOX_TYPES } from "../catalog/serverTypes";
import {
  BACKUP_TARGETS,
  DOCKER_NETWORK_PREFIX,
  fromTo,
  KV_CACHE_TYPES,
  LITELLM_ROUTING_STRATEGIES,
  MODEL_SHARE_PERCENT,
  oneOf,
  OPERATIONS_VOLUME_RESERVE_GB,
  RANGES,
  RECEIVER_KINDS,
  TAILNET_RANGE,
} from "./limits";

export type SettingType = "string" | "integer" | "boolean" | "array";

export interface SettingDeclaration {
  type: SettingType;
  /** Applied when neither Pulumi.yaml nor the stack file gives a value. */
  default: string | number | boolean | string[];
  description: string;
}

/**
 * The project's secret settings. Pulumi.yaml cannot declare them (a declared setting without a default is
 * required, and a secret takes no default), so they are listed here, in the README, and accepted by the
 * config module's check for unknown keys.
 */
export const SECRET_SETTINGS = {
  openaiApiKey: "OpenAI API key, for cloudModels with provider openai.",
  anthropicApiKey: "Anthropic API key, for cloudModels with provider anthropic.",
  openaiCompatibleApiKey: "API key of the OpenAI-compatible endpoint, for cloudModels with provider openai-compatible.",
  alertPagingUrl: "Webhook or ntfy topic URL that critical alerts are posted to (alertPaging webhook or ntfy).",
  alertChatUrl: "Webhook or ntfy topic URL that warnings are posted to (alertChat webhook or ntfy).",
  smtpPassword: "SMTP password for e-mailed alerts.",
  backupRepositoryUrl:
    "restic repository URL of an existing backup target (backupTarget sftp or s3), e.g. sftp://user@host:23/ai-platform or s3:https://host/bucket/ai-platform; each node backs up under <URL>/<node>.",
  backupTargetPassword: "Password of the existing SFTP backup target's user (backupTarget sftp).",
  backupS3AccessKeyId: "Access key id of the existing S3-compatible backup target (backupTarget s3).",
  backupS3SecretAccessKey: "Secret access key of the existing S3-compatible backup target (backupTarget s3).",
  deadMansSwitchUrl:
    "URL of a dead man's switch (e.g. a healthchecks.io ping URL) that the always-firing Watchdog alert reaches every 5 minutes; silence from it means the monitoring itself is down.",
} as const;

/**
 * Settings this project once read and reads no more, each with what replaces it: a stack file that still sets
 * one is told what to write instead, rather than having it silently ignored.
 */
export const RETIRED_SETTINGS: Readonly<Record<string, string>> = {
  tailnetDeployers:
    "was split per environment, so that one environment's pipeline cannot reach another's nodes: list dev's " +
    "deployers in tailnetDevDeployers and prod's in tailnetProdDeployers, a different identity in each (README, " +
    "\"Moving to per-environment deployers\")",
};

export type SecretSettingName = keyof typeof SECRET_SETTINGS;

/** The secret setting that holds each provider's key. */
export const CLOUD_KEY_SETTING: Readonly<Record<CloudProvider, SecretSettingName>> = {
  openai: "openaiApiKey",
  anthropic: "anthropicApiKey",
  "openai-compatible": "openaiCompatibleApiKey",
};

/** What backups add to a server's price, e.g. "+20%". */
const BACKUP_SURCHARGE = `+${Math.round(BACKUP_PRICE_SHARE * 100)}%`;

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
    description: `Hetzner location of both nodes: ${oneOf(LOCATIONS)}.`,
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
      `Hetzner backups of the inference node (${BACKUP_SURCHARGE} of its price). Its state lives on its data volume, which backups do not cover.`,
  },
  operationsBackups: {
    type: "boolean",
    default: true,
    description: `Hetzner backups of the operations node (${BACKUP_SURCHARGE} of its price): Coolify's apps and the dashboards' state.`,
  },
  inferenceVolumeGb: {
    type: "integer",
    default: 10,
    description: `Size in GB of the inference node's data volume (Qdrant, LiteLLM's database); ${fromTo(RANGES.inferenceVolumeGb)}.`,
  },
  operationsVolumeGb: {
    type: "integer",
    default: 10,
    description: `Size in GB of the operations node's data volume (Prometheus, Grafana, Alertmanager); ${fromTo(RANGES.operationsVolumeGb)}.`,
  },
  swapGiB: {
    type: "integer",
    default: 2,
    description: `Swap file on each node in GiB, a cushion against a memory spike; ${RANGES.swapGiB.min} for none, at most ${RANGES.swapGiB.max}.`,
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
    default: 8192,
    description: `Ollama's context length in tokens for chat models; ${fromTo(RANGES.contextLength)}.`,
  },
  parallelRequests: {
    type: "integer",
    default: 1,
    description: `Requests each loaded model serves at once (OLLAMA_NUM_PARALLEL); ${fromTo(RANGES.parallelRequests)}. Each one holds its own context.`,
  },
  maxLoadedModels: {
    type: "integer",
    default: 1,
    description: `Chat models Ollama keeps in memory at once (OLLAMA_MAX_LOADED_MODELS); ${fromTo(RANGES.maxLoadedModels)}. Embedding models count apart.`,
  },
  ollamaKeepAlive: {
    type: "string",
    default: "1h",
    description: "How long Ollama keeps an idle model in memory (OLLAMA_KEEP_ALIVE), e.g. 30m, 1h, 24h; -1 for always.",
  },
  flashAttention: {
    type: "boolean",
    default: true,
    description: "Ollama's flash attention (OLLAMA_FLASH_ATTENTION); needed for a quantized KV cache.",
  },
  kvCacheType: {
    type: "string",
    default: "q8_0",
    description: `Ollama's KV cache type (OLLAMA_KV_CACHE_TYPE): ${oneOf(KV_CACHE_TYPES, { q8_0: "half of f16", q4_0: "a quarter" })}; q8_0 and q4_0 need flashAttention.`,
  },
  cloudModels: {
    type: "array",
    default: [],
    description:
      `Cloud models LiteLLM offers beside the local ones, as name=provider/model, provider ${oneOf(CLOUD_PROVIDERS)} (then name=openai-compatible/model@https://base/v1). ` +
      `Their keys are secrets: ${CLOUD_PROVIDERS.map((p) => CLOUD_KEY_SETTING[p]).join(", ")}.`,
  },
  fallbacks: {
    type: "array",
    default: [],
    description:
      "Where a model's failed requests go next, as model=other[,other...], e.g. qwen2.5:7b=gpt-4o-mini: self-hosted for the baseline, cloud for the peaks.",
  },
  rateLimits: {
    type: "array",
    default: [],
    description: "Per-model limits in LiteLLM, as model=<n>rpm, model=<n>tpm or model=<n>rpm,<n>tpm.",
  },
  litellmDatabase: {
    type: "boolean",
    default: true,
    description: "Run Postgres for LiteLLM's virtual keys and spend tracking (its data on the inference node's volume).",
  },
  litellmRoutingStrategy: {
    type: "string",
    default: "simple-shuffle",
    description:
      `How LiteLLM picks among a model's deployments (the nodes and backends that serve it) of the lowest order: ${oneOf(LITELLM_ROUTING_STRATEGIES, { "simple-shuffle": "at random, in proportion to each one's weight; a failed attempt draws again among the others" })}. LiteLLM's other strategies are refused, each with its reason. The four litellm routing settings reach LiteLLM's config once there are external backends or one of them differs from its default; until then LiteLLM's own defaults hold.`,
  },
  litellmAllowedFails: {
    type: "integer",
    default: 1,
    description: `Failures of one deployment within litellmCooldownSeconds that LiteLLM tolerates; one more leaves it out for litellmCooldownSeconds (timeouts, 5xx and 429 count; a refused connection does not); ${fromTo(RANGES.litellmAllowedFails)}.`,
  },
  litellmCooldownSeconds: {
    type: "integer",
    default: 60,
    description: `How long LiteLLM leaves a failing deployment out, in seconds, and the window its failures are counted in; ${fromTo(RANGES.litellmCooldownSeconds)}.`,
  },
  litellmNumRetries: {
    type: "integer",
    default: 1,
    description: `Times LiteLLM tries a failed request again, each a new draw among the model's deployments, before its fallbacks; ${fromTo(RANGES.litellmNumRetries)}.`,
  },
  qdrantVectors: {
    type: "integer",
    default: 100000,
    description: `Vectors Qdrant is sized for (memory budget: vectors x dimensions x 4 bytes x 1.5); ${fromTo(RANGES.qdrantVectors)}.`,
  },
  qdrantDimensions: {
    type: "integer",
    default: 768,
    description: `Dimensions of those vectors (nomic-embed-text: 768, mxbai-embed-large: 1024); ${fromTo(RANGES.qdrantDimensions)}.`,
  },
  qdrantReplicationFactor: {
    type: "integer",
    default: 2,
    description: `Where Qdrant is a cluster (the environment has extra inference nodes): copies of each shard a new collection keeps, one per peer, so that it survives the loss of a node; at most the number of peers; ${fromTo(RANGES.qdrantReplicationFactor)}. A single node keeps one.`,
  },
  qdrantWriteConsistency: {
    type: "integer",
    default: 1,
    description: `Where Qdrant is a cluster: copies of a shard that must apply a write before Qdrant acknowledges it (higher is safer and slower, and fails while fewer peers are up); at most qdrantReplicationFactor; ${fromTo(RANGES.qdrantWriteConsistency)}.`,
  },
  coolify: {
    type: "boolean",
    default: true,
    description: "Install Coolify on the operations node, a PaaS for the team's other apps; it needs about 2 GB of the node's RAM.",
  },
  coolifyAdminEmail: {
    type: "string",
    default: "admin@example.com",
    description: "E-mail of Coolify's root user (its password is generated and a secret output).",
  },
  prometheusRetentionDays: {
    type: "integer",
    default: 30,
    description: `How many days Prometheus keeps metrics; ${fromTo(RANGES.prometheusRetentionDays)}.`,
  },
  prometheusRetentionGb: {
    type: "integer",
    default: 6,
    description: `The most disk Prometheus may use, in GB; it must fit the operations node's volume beside Grafana and Alertmanager (${OPERATIONS_VOLUME_RESERVE_GB} GB).`,
  },
  alertPaging: {
    type: "string",
    default: "none",
    description: `Where critical alerts go: ${oneOf(RECEIVER_KINDS, { webhook: "alertPagingUrl", ntfy: "alertPagingUrl, an ntfy topic URL", email: "alertEmailTo" })}.`,
  },
  alertChat: {
    type: "string",
    default: "none",
    description: `Where warnings go: ${oneOf(RECEIVER_KINDS, { webhook: "alertChatUrl", ntfy: "alertChatUrl", email: "alertEmailTo" })}.`,
  },
  alertsDeliberatelyUnsent: {
    type: "boolean",
    default: false,
    description:
      "Run prod without a paging receiver or a dead man's switch, on purpose: critical alerts then reach no one. Off: prod refuses to deploy without alertPaging and deadMansSwitchUrl. Dev runs without either way.",
  },
  alertEmailTo: {
    type: "string",
    default: "",
    description: "Recipient of e-mailed alerts; with smtpSmarthost, smtpFrom, smtpUsername and the secret smtpPassword.",
  },
  smtpSmarthost: {
    type: "string",
    default: "",
    description: "SMTP server for e-mailed alerts, as host:port, e.g. smtp.example.com:587.",
  },
  smtpFrom: {
    type: "string",
    default: "",
    description: "Sender address of e-mailed alerts.",
  },
  smtpUsername: {
    type: "string",
    default: "",
    description: "SMTP user name for e-mailed alerts.",
  },
  comparisonRequestsPerMonth: {
    type: "integer",
    default: 10000,
    description: `Requests a month for the cost comparison with cloud APIs (the essay's 10,000); ${fromTo(RANGES.comparisonRequestsPerMonth)}.`,
  },
  comparisonInputTokens: {
    type: "integer",
    default: 1000,
    description: "Input tokens of an average request (prompt, history and retrieved context) for the comparison.",
  },
  comparisonOutputTokens: {
    type: "integer",
    default: 500,
    description: "Output tokens of an average answer for the comparison.",
  },
  comparisonModelShares: {
    type: "array",
    default: [],
    description: `Share of the comparison's requests per chat model when several serve chat, as model=percent (${fromTo(MODEL_SHARE_PERCENT)}, adding up to 100), e.g. qwen2.5:7b=80; empty for an equal split.`,
  },
  comparisonPeakFactor: {
    type: "integer",
    default: 3,
    description: `Requests in the busiest hour over the average hour's, for the queueing delay at the peak; ${fromTo(RANGES.comparisonPeakFactor)}.`,
  },
  publicWeb: {
    type: "boolean",
    default: false,
    description: "Open TCP 80/443 on the operations node for Coolify-hosted apps, from publicWebSourceRanges only.",
  },
  publicWebSourceRanges: {
    type: "array",
    default: [],
    description:
      "CIDRs allowed to reach TCP 80/443 when publicWeb is on, normally a CDN's published ranges: each /12 or narrower for IPv4 and /32 or narrower for IPv6, and together never a whole address space.",
  },
  dockerAddressPool: {
    type: "string",
    default: "172.30.0.0/16",
    description: `CIDR Docker carves its container networks from (/${DOCKER_NETWORK_PREFIX} each); must not overlap the tailnet's ${TAILNET_RANGE}.`,
  },
  tailnetDevDeployers: {
    type: "array",
    default: ["tag:ai-dev-deployer"],
    description:
      "Tailnet identities that run pulumi up on dev and reach dev's nodes (only) by Tailscale SSH as root: a tag (a CI runner or a tagged laptop) or a user e-mail; none may also deploy prod.",
  },
  tailnetProdDeployers: {
    type: "array",
    default: ["tag:ai-prod-deployer"],
    description:
      "Tailnet identities that run pulumi up on prod and reach prod's nodes (only) by Tailscale SSH as root: a tag or a user e-mail; none may also deploy dev.",
  },
  tailnetDevBackends: {
    type: "array",
    default: [],
    description:
      "dev's external backends: machines already on the tailnet running Ollama or an OpenAI-compatible server, one entry each as key=value words, e.g. \"name=gpu-box url=http://gpu-box.tail1234.ts.net:11434 tag=tag:ai-dev-gpu models=qwen3:8b preferred=true\" (kind=openai for an OpenAI-compatible server, weight=N for its share). dev's LiteLLM lists them as deployments of their models and only dev's LiteLLM node may reach them.",
  },
  tailnetProdBackends: {
    type: "array",
    default: [],
    description:
      "prod's external backends, written as tailnetDevBackends; only prod's LiteLLM node may reach them. Every stack reads both lists, as the tailnet policy covers every environment.",
  },
  devInferenceNodes: {
    type: "array",
    default: [],
    description:
      "dev's extra inference nodes beside the first (which inferenceServerType and the like configure), one entry each as key=value words, e.g. \"name=b type=cx33 volume=20 models=qwen3:8b,gemma3:1b\" (volume in GB, default 10; models: some of the models setting's, default all). Each runs Ollama, reached over the tailnet by dev's LiteLLM node only, which lists it as one more deployment of its models.",
  },
  prodInferenceNodes: {
    type: "array",
    default: [],
    description:
      "prod's extra inference nodes, written as devInferenceNodes. Every stack reads both lists, as the tailnet policy covers every environment.",
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
  imageTags: {
    type: "array",
    default: [],
    description:
      "Another release of a catalogued image, as service=tag (e.g. qdrant=v1.20.1), for a fix that cannot wait for the catalog; replaces that service's container only, its data stays.",
  },
  backupTarget: {
    type: "string",
    default: "storagebox",
    description:
      `Where the nightly restic backups go: ${oneOf(BACKUP_TARGETS, { storagebox: "a Hetzner Storage Box the stack declares, one per environment, reachable from Hetzner's network only", sftp: "an existing SFTP server, backupRepositoryUrl and backupTargetPassword", s3: "an existing S3-compatible bucket, backupRepositoryUrl, backupS3AccessKeyId and backupS3SecretAccessKey" })}.`,
  },
  backupStorageBoxType: {
    type: "string",
    default: "bx11",
    description: `Hetzner Storage Box type for backupTarget storagebox: ${oneOf(STORAGE_BOX_TYPES.map((t) => t.name))}.`,
  },
  backupHourUtc: {
    type: "integer",
    default: 3,
    description: `Hour of the day (UTC) the nightly backup starts, then within 30 minutes at random; ${fromTo(RANGES.backupHourUtc)}.`,
  },
  backupKeepDaily: {
    type: "integer",
    default: 7,
    description: `Daily backups restic keeps (the newest of each of the last n days); ${fromTo(RANGES.backupKeepDaily)}.`,
  },
  backupKeepWeekly: {
    type: "integer",
    default: 4,
    description: `Weekly backups restic keeps; ${fromTo(RANGES.backupKeepWeekly)}.`,
  },
  backupKeepMonthly: {
    type: "integer",
    default: 6,
    description: `Monthly backups restic keeps; ${fromTo(RANGES.backupKeepMonthly)}.`,
  },
  backupPrometheus: {
    type: "boolean",
    default: false,
    description: "Back up Prometheus's metrics too (its data directory as it is on disk); off: the metrics start afresh after a loss.",
  },
  manageTailnetPolicy: {
    type: "boolean",
    default: false,
    description:
      "Let the prod stack write the tailnet's whole policy file (it covers every environment, so only prod may: a dev credential that writes it could grant itself prod). Off: the policy is a stack output to merge by hand.",
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
