/**
 * The only reader of pulumi.Config. It reads every setting once, checks it, and returns one typed Settings
 * object; every mistake is collected and reported together, each naming the setting, the bad value and what
 * is allowed, before the program declares a single resource.
 */
import * as pulumi from "@pulumi/pulumi";
import { findServerType, LOCATIONS, MIN_VOLUME_GB, ServerType, SERVER_TYPES } from "./catalog/serverTypes";
import { canonicalModelName, DEFAULT_KV_CACHE_KIB_PER_TOKEN, findModel, MODELS } from "./catalog/models";
import { CREDENTIALS, SECRET_SETTINGS, SecretSettingName, SETTINGS, SettingName } from "./config/schema";
import { parseCidr, cidrsOverlap } from "./config/cidr";

export const ENVIRONMENTS = ["dev", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
export type Role = "inference" | "operations";

export interface NodeSettings {
  role: Role;
  serverType: ServerType;
  /** Hetzner backups of the server. */
  backups: boolean;
  /** Size of the node's data volume, GB. */
  volumeGb: number;
}

export interface ModelSettings {
  /** Canonical `name:tag`. */
  name: string;
  fileGb: number;
  kvCacheKibPerToken: number;
  embedding: boolean;
  /** False when the size came from the settings entry rather than the catalog. */
  fromCatalog: boolean;
}

export interface Settings {
  /** The Pulumi project, which is also the settings' namespace. */
  project: string;
  environment: Environment;
  /** `<namePrefix>-<environment>`, the stem of every name. */
  stem: string;
  namePrefix: string;
  location: string;
  nodes: Record<Role, NodeSettings>;
  swapGiB: number;
  protection: boolean;
  models: ModelSettings[];
  ollama: OllamaSettings;
  litellm: LiteLlmSettings;
  qdrant: { vectors: number; dimensions: number };
  network: { publicWeb: boolean; publicWebSourceRanges: string[]; dockerAddressPool: string };
  operations: OperationsSettings;
  /** The workload the cost comparison prices through cloud APIs. */
  comparison: { requestsPerMonth: number; inputTokens: number; outputTokens: number };
  tailnet: { deployers: string[]; admins: string[]; users: string[]; managePolicy: boolean };
}

export const KV_CACHE_TYPES = ["f16", "q8_0", "q4_0"] as const;
export type KvCacheType = (typeof KV_CACHE_TYPES)[number];

export interface OllamaSettings {
  contextLength: number;
  parallelRequests: number;
  maxLoadedModels: number;
  /** OLLAMA_KEEP_ALIVE, e.g. "1h". */
  keepAlive: string;
  flashAttention: boolean;
  kvCacheType: KvCacheType;
}

export const CLOUD_PROVIDERS = ["openai", "anthropic", "openai-compatible"] as const;
export type CloudProvider = (typeof CLOUD_PROVIDERS)[number];

/** The secret setting that holds each provider's key. */
export const CLOUD_KEY_SETTING: Record<CloudProvider, SecretSettingName> = {
  openai: "openaiApiKey",
  anthropic: "anthropicApiKey",
  "openai-compatible": "openaiCompatibleApiKey",
};

export interface CloudModelSettings {
  /** The name clients ask for. */
  name: string;
  provider: CloudProvider;
  /** The provider's model id. */
  model: string;
  apiBase?: string;
}

export interface LiteLlmSettings {
  cloudModels: CloudModelSettings[];
  /** Model name -> the models its failed requests go to, in order. */
  fallbacks: Record<string, string[]>;
  rateLimits: Record<string, { rpm?: number; tpm?: number }>;
  database: boolean;
  /** The cloud providers' keys that are set, as secrets. */
  cloudKeys: Partial<Record<CloudProvider, pulumi.Output<string>>>;
}

export const RECEIVER_KINDS = ["none", "webhook", "ntfy", "email"] as const;
export type ReceiverKind = (typeof RECEIVER_KINDS)[number];

export interface AlertRoute {
  kind: ReceiverKind;
  /** The URL for webhook and ntfy, a secret. */
  url?: pulumi.Output<string>;
}

export interface OperationsSettings {
  coolify: boolean;
  coolifyAdminEmail: string;
  retention: { days: number; gb: number };
  paging: AlertRoute;
  chat: AlertRoute;
  email?: { to: string; from: string; smarthost: string; username: string; password: pulumi.Output<string> };
  /** URL the Watchdog alert reaches, a secret. */
  deadMansSwitchUrl?: pulumi.Output<string>;
}

/** Disk on the operations node's volume kept for Grafana, Alertmanager and Coolify's backups, GB. */
export const OPERATIONS_VOLUME_RESERVE_GB = 2;

/** A configuration mistake: printed by Pulumi as its message alone, without a stack trace. */
export class SettingsError extends pulumi.RunError {
  constructor(readonly problems: string[]) {
    super(
      `The stack's settings need ${problems.length === 1 ? "a fix" : `${problems.length} fixes`} ` +
        `before anything is created:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "SettingsError";
  }
}

/** Raw access, so that tests and the offline plan can feed settings without a Pulumi engine. */
export interface ConfigSource {
  /** The value of `namespace:key`, as the CLI stores it (arrays and objects as JSON text). */
  get(namespace: string, key: string): string | undefined;
  /** Every key set in the stack, as `namespace:key`. */
  keys(): string[];
  env(name: string): string | undefined;
}

export function pulumiConfigSource(): ConfigSource {
  return {
    // The raw runtime lookup: pulumi.Config.get would warn on a secret whose presence is all we check.
    get: (namespace, key) => pulumi.runtime.getConfig(`${namespace}:${key}`),
    keys: () => Object.keys(pulumi.runtime.allConfig()),
    env: (name) => process.env[name],
  };
}

export function loadSettings(
  source: ConfigSource = pulumiConfigSource(),
  project: string = pulumi.getProject(),
  stack: string = pulumi.getStack(),
): Settings {
  const problems: string[] = [];
  const read = new SettingsReader(source, project, problems);

  const environment = (ENVIRONMENTS as readonly string[]).includes(stack) ? (stack as Environment) : undefined;
  if (!environment) {
    problems.push(
      `stack "${stack}" is not a known environment: name the stack one of ${ENVIRONMENTS.join(", ")} ` +
        `(each has its Pulumi.<stack>.yaml), e.g. \`pulumi stack init dev\``,
    );
  }

  checkUnknownKeys(source, project, problems);
  checkCredentials(source, problems);

  const namePrefix = read.string("namePrefix");
  if (!/^[a-z][a-z0-9]{0,11}$/.test(namePrefix)) {
    problems.push(
      `${project}:namePrefix is "${namePrefix}": use 1 to 12 lowercase letters and digits, starting with a letter`,
    );
  }

  const location = read.string("location");
  const locationKnown = (LOCATIONS as readonly string[]).includes(location);
  if (!locationKnown) {
    problems.push(`${project}:location is "${location}": Hetzner's locations are ${LOCATIONS.join(", ")}`);
  }

  const node = (role: Role, typeKey: SettingName, backupsKey: SettingName, volumeKey: SettingName) => {
    const typeName = read.string(typeKey);
    const serverType = findServerType(typeName);
    if (!serverType) {
      problems.push(
        `${project}:${typeKey} is "${typeName}", which is not a Hetzner server type: use one of ` +
          SERVER_TYPES.map((t) => t.name).join(", "),
      );
    } else if (locationKnown && !serverType.locations.includes(location)) {
      const here = SERVER_TYPES.filter((t) => t.locations.includes(location)).map((t) => t.name);
      problems.push(
        `${project}:${typeKey} is "${typeName}", which Hetzner does not offer in ${location} ` +
          `(only in ${serverType.locations.join(", ")}): in ${location} use one of ${here.join(", ")}, ` +
          `or change ${project}:location`,
      );
    }
    const volumeGb = read.integer(volumeKey, MIN_VOLUME_GB, 10240);
    return { role, serverType: serverType ?? SERVER_TYPES[0], backups: read.boolean(backupsKey), volumeGb };
  };
  const nodes = {
    inference: node("inference", "inferenceServerType", "inferenceBackups", "inferenceVolumeGb"),
    operations: node("operations", "operationsServerType", "operationsBackups", "operationsVolumeGb"),
  };

  const models = read.array("models").flatMap((entry) => parseModelEntry(entry, project, problems));
  if (read.array("models").length === 0) {
    problems.push(`${project}:models is empty: list at least one Ollama model, e.g. ["qwen2.5:3b"]`);
  }
  const duplicates = models.map((m) => m.name).filter((n, i, all) => all.indexOf(n) !== i);
  if (duplicates.length > 0) {
    problems.push(`${project}:models lists ${[...new Set(duplicates)].join(", ")} more than once: list each once`);
  }

  const publicWeb = read.boolean("publicWeb");
  const publicWebSourceRanges = read.array("publicWebSourceRanges");
  for (const range of publicWebSourceRanges) {
    const problem = parseCidr(range).problem;
    if (problem) problems.push(`${project}:publicWebSourceRanges has "${range}": ${problem}`);
  }
  if (publicWeb && publicWebSourceRanges.length === 0) {
    problems.push(
      `${project}:publicWeb is true but ${project}:publicWebSourceRanges is empty: list the CDN's address ` +
        `ranges (e.g. Cloudflare's published IPv4 and IPv6 ranges); the platform never opens 80/443 to everyone`,
    );
  }
  const anywhere = publicWebSourceRanges.filter((r) => /^(0\.0\.0\.0|::)\/0$/.test(r.trim()));
  if (anywhere.length > 0) {
    problems.push(
      `${project}:publicWebSourceRanges has ${anywhere.join(" and ")}, which is the whole internet: ` +
        `list the CDN's ranges only`,
    );
  }

  const dockerAddressPool = read.string("dockerAddressPool");
  const pool = parseCidr(dockerAddressPool);
  if (pool.problem) {
    problems.push(`${project}:dockerAddressPool is "${dockerAddressPool}": ${pool.problem}`);
  } else if (pool.version !== 4 || pool.prefix > 20) {
    problems.push(
      `${project}:dockerAddressPool is "${dockerAddressPool}": use an IPv4 private range of /20 or larger ` +
        `(Docker takes a /24 for each network), e.g. 172.30.0.0/16`,
    );
  } else if (cidrsOverlap(dockerAddressPool, "100.64.0.0/10")) {
    problems.push(
      `${project}:dockerAddressPool is "${dockerAddressPool}", which overlaps the tailnet's 100.64.0.0/10: ` +
        `use a private range such as 172.30.0.0/16`,
    );
  }

  const tailnet = {
    deployers: read.array("tailnetDeployers"),
    admins: read.array("tailnetAdmins"),
    users: read.array("tailnetUsers"),
    managePolicy: read.boolean("manageTailnetPolicy"),
  };
  checkIdentities(project, "tailnetDeployers", tailnet.deployers, ["tag", "user"], problems);
  checkIdentities(project, "tailnetAdmins", tailnet.admins, ["group", "user"], problems);
  checkIdentities(project, "tailnetUsers", tailnet.users, ["user"], problems);
  if (tailnet.deployers.length === 0) {
    problems.push(
      `${project}:tailnetDeployers is empty: name who runs \`pulumi up\` (it reaches the nodes by Tailscale SSH), ` +
        `e.g. ["tag:${namePrefix}-deployer"] for a CI runner or ["you@example.com"] for your laptop`,
    );
  }
  if (tailnet.managePolicy && tailnet.users.length === 0) {
    problems.push(
      `${project}:manageTailnetPolicy is true but ${project}:tailnetUsers is empty: list the user e-mails that ` +
        `may reach LiteLLM and Qdrant, or leave the policy unmanaged and merge the output by hand`,
    );
  }

  const ollama: OllamaSettings = {
    contextLength: read.integer("contextLength", 512, 131072),
    parallelRequests: read.integer("parallelRequests", 1, 8),
    maxLoadedModels: read.integer("maxLoadedModels", 1, 4),
    keepAlive: read.string("ollamaKeepAlive"),
    flashAttention: read.boolean("flashAttention"),
    kvCacheType: read.choice("kvCacheType", KV_CACHE_TYPES),
  };
  if (!/^(-1|0|\d+(ms|s|m|h))$/.test(ollama.keepAlive)) {
    problems.push(`${project}:ollamaKeepAlive is "${ollama.keepAlive}": use a duration such as 30m, 1h or 24h, 0 to unload at once, or -1 to keep models loaded`);
  }
  if (ollama.kvCacheType !== "f16" && !ollama.flashAttention) {
    problems.push(
      `${project}:kvCacheType is "${ollama.kvCacheType}" but ${project}:flashAttention is false: Ollama quantizes ` +
        `the KV cache only with flash attention; set flashAttention to true or kvCacheType to f16`,
    );
  }

  const litellm = readLiteLlm(read, project, models, problems);
  const operations = readOperations(read, project, nodes.operations.volumeGb, problems);

  const settings: Settings = {
    project,
    environment: environment ?? "dev",
    stem: `${namePrefix}-${stack}`,
    namePrefix,
    location,
    nodes,
    swapGiB: read.integer("swapGiB", 0, 16),
    protection: read.boolean("protection"),
    models,
    ollama,
    litellm,
    qdrant: { vectors: read.integer("qdrantVectors", 0, 100_000_000), dimensions: read.integer("qdrantDimensions", 1, 65536) },
    network: { publicWeb, publicWebSourceRanges: publicWebSourceRanges.map((r) => r.trim()), dockerAddressPool },
    operations,
    comparison: {
      requestsPerMonth: read.integer("comparisonRequestsPerMonth", 1, 1_000_000_000),
      inputTokens: read.integer("comparisonInputTokens", 1, 10_000_000),
      outputTokens: read.integer("comparisonOutputTokens", 1, 10_000_000),
    },
    tailnet,
  };
  if (problems.length > 0) throw new SettingsError(problems);
  return settings;
}

/** Reads one project setting at a time, applying the declared default and recording type mistakes. */
class SettingsReader {
  constructor(
    private readonly source: ConfigSource,
    private readonly project: string,
    private readonly problems: string[],
  ) {}

  private raw(key: SettingName): string | undefined {
    return this.source.get(this.project, key);
  }

  string(key: SettingName): string {
    return this.raw(key) ?? String(SETTINGS[key].default);
  }

  /** A secret setting's plain value, for checks; callers wrap what they keep in pulumi.secret. */
  secret(key: SecretSettingName): string | undefined {
    const value = this.source.get(this.project, key);
    return value === undefined || value === "" ? undefined : value;
  }

  choice<T extends string>(key: SettingName, allowed: readonly T[]): T {
    const value = this.string(key);
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${this.project}:${key} is "${value}": use one of ${allowed.join(", ")}`);
    return SETTINGS[key].default as T;
  }

  boolean(key: SettingName): boolean {
    const value = this.raw(key);
    if (value === undefined) return SETTINGS[key].default as boolean;
    if (value === "true" || value === "false") return value === "true";
    this.problems.push(`${this.project}:${key} is "${value}": use true or false`);
    return SETTINGS[key].default as boolean;
  }

  integer(key: SettingName, min: number, max: number): number {
    const value = this.raw(key);
    if (value === undefined) return SETTINGS[key].default as number;
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
      this.problems.push(`${this.project}:${key} is "${value}": use a whole number from ${min} to ${max}`);
      return SETTINGS[key].default as number;
    }
    return n;
  }

  array(key: SettingName): string[] {
    const value = this.raw(key);
    if (value === undefined) return [...(SETTINGS[key].default as readonly string[])];
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === "string")) {
      this.problems.push(
        `${this.project}:${key} is ${JSON.stringify(value)}: use a list of strings, in the stack file as ` +
          `a YAML list, or \`pulumi config set --path '${key}[0]' VALUE\``,
      );
      return [];
    }
    return parsed;
  }
}

// A name clients use for a cloud model: letters, digits and . _ - : /
const ROUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

function readLiteLlm(
  read: SettingsReader,
  project: string,
  models: ModelSettings[],
  problems: string[],
): LiteLlmSettings {
  const cloudKeys: Partial<Record<CloudProvider, pulumi.Output<string>>> = {};
  for (const provider of CLOUD_PROVIDERS) {
    const value = read.secret(CLOUD_KEY_SETTING[provider]);
    if (value !== undefined) cloudKeys[provider] = pulumi.secret(value);
  }

  const localNames = new Set(models.map((m) => m.name));
  const cloudModels: CloudModelSettings[] = [];
  for (const entry of read.array("cloudModels")) {
    const match = /^([^=\s]+)=(openai|anthropic|openai-compatible)\/([^@\s]+)(?:@(\S+))?$/.exec(entry.trim());
    if (!match || !ROUTE_NAME.test(match[1])) {
      problems.push(
        `${project}:cloudModels has "${entry}": write name=provider/model with provider one of ` +
          `${CLOUD_PROVIDERS.join(", ")}, e.g. gpt-4o-mini=openai/gpt-4o-mini or ` +
          `llama-70b=openai-compatible/meta-llama/Llama-3.3-70B@https://api.example.com/v1`,
      );
      continue;
    }
    const [, name, providerText, model, apiBase] = match;
    const provider = providerText as CloudProvider;
    if (provider === "openai-compatible" && apiBase === undefined) {
      problems.push(`${project}:cloudModels has "${entry}": an openai-compatible model needs its endpoint, as ${name}=openai-compatible/${model}@https://host/v1`);
      continue;
    }
    if (apiBase !== undefined && !isHttpUrl(apiBase)) {
      problems.push(`${project}:cloudModels has "${entry}", whose endpoint "${apiBase}" is not an http(s) URL`);
      continue;
    }
    if (localNames.has(canonicalModelName(name)) || localNames.has(name)) {
      problems.push(`${project}:cloudModels has "${entry}", whose name ${name} is already a local model: give the cloud model another name`);
      continue;
    }
    if (!cloudKeys[provider]) {
      problems.push(
        `${project}:cloudModels has "${entry}" but ${project}:${CLOUD_KEY_SETTING[provider]} is not set: ` +
          `\`pulumi config set --secret ${project}:${CLOUD_KEY_SETTING[provider]}\`, or remove the model`,
      );
    }
    cloudModels.push({ name, provider, model, ...(apiBase ? { apiBase } : {}) });
  }
  const duplicateRoutes = cloudModels.map((m) => m.name).filter((n, i, all) => all.indexOf(n) !== i);
  if (duplicateRoutes.length > 0) problems.push(`${project}:cloudModels names ${duplicateRoutes.join(", ")} more than once`);

  // Models are referred to as written in the settings or by their canonical name:tag.
  const resolve = (name: string): string | undefined => {
    if (cloudModels.some((m) => m.name === name)) return name;
    const local = canonicalModelName(name);
    return localNames.has(local) ? local : undefined;
  };
  const known = () => [...localNames, ...cloudModels.map((m) => m.name)].join(", ");

  const fallbacks: Record<string, string[]> = {};
  for (const entry of read.array("fallbacks")) {
    const [from, to] = entry.split("=", 2).map((x) => x.trim());
    const targets = (to ?? "").split(",").map((t) => t.trim()).filter((t) => t !== "");
    if (!from || targets.length === 0) {
      problems.push(`${project}:fallbacks has "${entry}": write model=other[,other...], e.g. qwen2.5:7b=gpt-4o-mini`);
      continue;
    }
    const origin = resolve(from);
    const missing = [from, ...targets].filter((n) => resolve(n) === undefined);
    if (origin === undefined || missing.length > 0) {
      problems.push(
        `${project}:fallbacks has "${entry}", which names ${missing.join(" and ")}, not a model of this stack: ` +
          `use one of ${known()} (a cloud model goes in ${project}:cloudModels first, with its key)`,
      );
      continue;
    }
    fallbacks[origin] = targets.map((t) => resolve(t) ?? t).filter((t) => t !== origin);
  }

  const rateLimits: Record<string, { rpm?: number; tpm?: number }> = {};
  for (const entry of read.array("rateLimits")) {
    const [name, limits] = entry.split("=", 2).map((x) => x.trim());
    const model = name ? resolve(name) : undefined;
    const parsed: { rpm?: number; tpm?: number } = {};
    let valid = limits !== undefined && limits !== "";
    for (const part of (limits ?? "").split(",").map((p) => p.trim())) {
      const m = /^(-?\d+)(rpm|tpm)$/.exec(part);
      if (!m || Number(m[1]) <= 0 || parsed[m[2] as "rpm" | "tpm"] !== undefined) valid = false;
      else parsed[m[2] as "rpm" | "tpm"] = Number(m[1]);
    }
    if (!valid) {
      problems.push(
        `${project}:rateLimits has "${entry}": write model=<n>rpm, model=<n>tpm or model=<n>rpm,<n>tpm with ` +
          `whole numbers above 0, e.g. qwen2.5:7b=60rpm,20000tpm`,
      );
    } else if (model === undefined) {
      problems.push(`${project}:rateLimits has "${entry}", but ${name} is not a model of this stack: use one of ${known()}`);
    } else {
      rateLimits[model] = parsed;
    }
  }

  return { cloudModels, fallbacks, rateLimits, database: read.boolean("litellmDatabase"), cloudKeys };
}

function readOperations(
  read: SettingsReader,
  project: string,
  volumeGb: number,
  problems: string[],
): OperationsSettings {
  const retention = { days: read.integer("prometheusRetentionDays", 1, 365), gb: read.integer("prometheusRetentionGb", 1, 10240) };
  if (retention.gb + OPERATIONS_VOLUME_RESERVE_GB > volumeGb) {
    problems.push(
      `${project}:prometheusRetentionGb is ${retention.gb} but the operations node's volume ` +
        `(${project}:operationsVolumeGb) is ${volumeGb} GB, ${OPERATIONS_VOLUME_RESERVE_GB} GB of which are kept for ` +
        `Grafana and Alertmanager: lower it to ${Math.max(1, volumeGb - OPERATIONS_VOLUME_RESERVE_GB)} or raise ` +
        `operationsVolumeGb to ${retention.gb + OPERATIONS_VOLUME_RESERVE_GB}`,
    );
  }

  // A route to webhook or ntfy needs its URL; the URL is a secret, so messages never print it.
  const route = (kindKey: "alertPaging" | "alertChat", urlKey: "alertPagingUrl" | "alertChatUrl"): AlertRoute => {
    const kind = read.choice(kindKey, RECEIVER_KINDS);
    const url = read.secret(urlKey);
    if (kind === "webhook" || kind === "ntfy") {
      if (url === undefined) {
        problems.push(
          `${project}:${kindKey} is "${kind}", a receiver that does not exist until ${project}:${urlKey} is set: ` +
            `\`pulumi config set --secret ${project}:${urlKey} https://...\`, or set ${kindKey} to none`,
        );
      } else if (!isHttpUrl(url)) {
        problems.push(`${project}:${urlKey} is not an http(s) URL (its value is secret and not shown): give the full URL, e.g. https://ntfy.sh/my-topic`);
      }
      return { kind, ...(url !== undefined ? { url: pulumi.secret(url) } : {}) };
    }
    return { kind };
  };
  const paging = route("alertPaging", "alertPagingUrl");
  const chat = route("alertChat", "alertChatUrl");

  let email: OperationsSettings["email"];
  if (paging.kind === "email" || chat.kind === "email") {
    const fields = { to: read.string("alertEmailTo"), from: read.string("smtpFrom"), smarthost: read.string("smtpSmarthost"), username: read.string("smtpUsername") };
    const password = read.secret("smtpPassword");
    const required: [string, string][] = [
      ["alertEmailTo", fields.to],
      ["smtpFrom", fields.from],
      ["smtpSmarthost", fields.smarthost],
      ["smtpUsername", fields.username],
    ];
    const missing = [
      ...required.filter(([, value]) => value === "").map(([key]) => key),
      ...(password === undefined ? ["smtpPassword (secret)"] : []),
    ];
    if (missing.length > 0) {
      problems.push(`alerts go by e-mail but ${missing.map((k) => `${project}:${k}`).join(", ")} ${missing.length === 1 ? "is" : "are"} not set: set ${missing.length === 1 ? "it" : "them"}, or choose another receiver`);
    }
    for (const [key, value] of [["alertEmailTo", fields.to], ["smtpFrom", fields.from]] as const) {
      if (value !== "" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) problems.push(`${project}:${key} is "${value}", which is not an e-mail address`);
    }
    if (fields.smarthost !== "" && !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(fields.smarthost)) {
      problems.push(`${project}:smtpSmarthost is "${fields.smarthost}": write host:port, e.g. smtp.example.com:587`);
    }
    email = { ...fields, password: pulumi.secret(password ?? "") };
  }

  const deadMansSwitch = read.secret("deadMansSwitchUrl");
  if (deadMansSwitch !== undefined && !isHttpUrl(deadMansSwitch)) {
    problems.push(`${project}:deadMansSwitchUrl is not an http(s) URL (its value is secret and not shown): give the full ping URL`);
  }

  return {
    coolify: read.boolean("coolify"),
    coolifyAdminEmail: read.string("coolifyAdminEmail"),
    retention,
    paging,
    chat,
    ...(email ? { email } : {}),
    ...(deadMansSwitch !== undefined ? { deadMansSwitchUrl: pulumi.secret(deadMansSwitch) } : {}),
  };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

// name[:tag], optionally namespaced (library/qwen2.5, hf.co/org/model), then an optional =<GB>GB[,<KiB>KiB].
const MODEL_NAME = /^(?:[a-z0-9][a-z0-9.-]*\/){0,2}[a-z0-9][a-z0-9._-]*(?::[A-Za-z0-9][A-Za-z0-9._-]{0,127})?$/;
const MODEL_SIZE = /^(\d+(?:\.\d+)?)\s*GB(?:\s*,\s*(\d+(?:\.\d+)?)\s*KiB)?$/;

function parseModelEntry(entry: string, project: string, problems: string[]): ModelSettings[] {
  const [rawName, rawSize] = entry.split("=", 2).map((s) => s.trim());
  if (!MODEL_NAME.test(rawName)) {
    problems.push(
      `${project}:models has "${entry}", which is not an Ollama model name: use name or name:tag in lowercase ` +
        `letters, digits, ".", "_" and "-", e.g. qwen2.5:7b or llama3.2:1b`,
    );
    return [];
  }
  const name = canonicalModelName(rawName);
  const known = findModel(name);
  if (rawSize === undefined) {
    if (known) return [{ name, ...known, fromCatalog: true }];
    problems.push(
      `${project}:models has "${entry}", which is not in the model catalog, so its size is unknown: give it ` +
        `as "${rawName}=<file GB>GB" or "${rawName}=<file GB>GB,<KV cache KiB per token>KiB" ` +
        `(catalog: ${Object.keys(MODELS).join(", ")})`,
    );
    return [];
  }
  const size = MODEL_SIZE.exec(rawSize);
  const fileGb = size ? Number(size[1]) : 0;
  if (!size || fileGb <= 0) {
    problems.push(
      `${project}:models has "${entry}", whose size "${rawSize}" is not understood: write it as 4.1GB ` +
        `or 4.1GB,64KiB (file size, then KV cache per token of context)`,
    );
    return [];
  }
  const kv = size[2] === undefined ? (known?.kvCacheKibPerToken ?? DEFAULT_KV_CACHE_KIB_PER_TOKEN) : Number(size[2]);
  return [{ name, fileGb, kvCacheKibPerToken: kv, embedding: known?.embedding ?? false, fromCatalog: false }];
}

type IdentityKind = "tag" | "group" | "user";
const IDENTITY_FORMS: Record<IdentityKind, { pattern: RegExp; example: string }> = {
  // Tailscale tag and group names: a letter, then letters, digits and dashes.
  tag: { pattern: /^tag:[a-z][a-z0-9-]*$/, example: "tag:ai-deployer" },
  group: { pattern: /^group:[a-z][a-z0-9-]*$/, example: "group:platform-admins" },
  user: { pattern: /^[^\s@:]+@[^\s@:]+$/, example: "alice@example.com" },
};

function checkIdentities(project: string, key: SettingName, values: string[], kinds: IdentityKind[], problems: string[]) {
  for (const value of values) {
    if (kinds.some((kind) => IDENTITY_FORMS[kind].pattern.test(value))) continue;
    const malformedTag = value.startsWith("tag:") && kinds.includes("tag");
    problems.push(
      `${project}:${key} has "${value}", which is not ` +
        (malformedTag
          ? `a valid tag: write tag: and a name of lowercase letters, digits and dashes, starting with a letter (e.g. ${IDENTITY_FORMS.tag.example})`
          : `${kinds.map((k) => `a ${k} (e.g. ${IDENTITY_FORMS[k].example})`).join(" or ")}`),
    );
  }
}

function checkUnknownKeys(source: ConfigSource, project: string, problems: string[]): void {
  const known = new Set([...Object.keys(SETTINGS), ...Object.keys(SECRET_SETTINGS)]);
  for (const key of source.keys()) {
    const [namespace, name] = key.split(":", 2);
    if (namespace !== project || known.has(name)) continue;
    const near = [...known].filter((k) => k.toLowerCase() === name.toLowerCase() || editDistance(k, name) <= 2);
    problems.push(
      `${key} is not a setting of this project` +
        (near.length > 0 ? `: did you mean ${project}:${near[0]}?` : `: the settings are ${[...known].join(", ")}`),
    );
  }
}

function checkCredentials(source: ConfigSource, problems: string[]): void {
  const present = (key: string, env: readonly string[]) => {
    const [namespace, name] = key.split(":", 2);
    return (source.get(namespace, name) ?? "") !== "" || env.some((e) => (source.env(e) ?? "") !== "");
  };
  const [hcloud, tailscale] = CREDENTIALS;
  if (!present(hcloud.key, hcloud.env)) {
    problems.push(
      `${hcloud.key} is not set: give ${hcloud.what}, with \`pulumi config set --secret ${hcloud.key}\` ` +
        `or the ${hcloud.env.join(" or ")} environment variable`,
    );
  }
  const oauth =
    present("tailscale:oauthClientId", ["TAILSCALE_OAUTH_CLIENT_ID"]) &&
    present("tailscale:oauthClientSecret", ["TAILSCALE_OAUTH_CLIENT_SECRET"]);
  if (!present(tailscale.key, tailscale.env) && !oauth) {
    problems.push(
      `${tailscale.key} is not set: give ${tailscale.what}, with \`pulumi config set --secret ${tailscale.key}\` ` +
        `or the ${tailscale.env.join(" or ")} environment variable`,
    );
  }
}

/** Levenshtein distance, for "did you mean" on a mistyped setting name. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}
