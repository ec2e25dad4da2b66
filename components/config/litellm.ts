/** LiteLLM, the one door to every model: the cloud models beside the local ones, fallbacks, rate limits. */
import * as pulumi from "@pulumi/pulumi";
import { CLOUD_PROVIDERS, CloudProvider } from "../catalog/cloudProviders";
import { canonicalModelName } from "../catalog/models";
import { LITELLM_ROUTING_STRATEGIES, type LiteLlmRoutingStrategy, UNSUITED_ROUTING_STRATEGIES } from "./limits";
import type { ModelSettings } from "./models";
import { isHttpUrl, SettingsReader } from "./reader";
import { CLOUD_KEY_SETTING, SETTINGS } from "./schema";

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
  /** How LiteLLM's router spreads a model's requests over its deployments and steps around a failing one. */
  routing: { strategy: LiteLlmRoutingStrategy; allowedFails: number; cooldownSeconds: number; numRetries: number };
  /**
   * Whether a routing setting differs from its default. Without backends and without one, LiteLLM's config
   * carries none (LiteLLM's own defaults), so that a stack that sets nothing renders the config it did before
   * they existed.
   */
  routingSet: boolean;
  /** The cloud providers' keys that are set, as secrets. */
  cloudKeys: Partial<Record<CloudProvider, pulumi.Output<string>>>;
}

type CloudKeys = LiteLlmSettings["cloudKeys"];

export function readLiteLlm(read: SettingsReader, models: ModelSettings[]): LiteLlmSettings {
  const cloudKeys: CloudKeys = {};
  for (const provider of CLOUD_PROVIDERS) {
    const value = read.secret(CLOUD_KEY_SETTING[provider]);
    if (value !== undefined) cloudKeys[provider] = pulumi.secret(value);
  }
  const localNames = new Set(models.map((m) => m.name));
  const cloudModels = readCloudModels(read, localNames, cloudKeys);
  const names = modelNames(localNames, cloudModels);
  const fallbacks = readFallbacks(read, names);
  const rateLimits = readRateLimits(read, names);
  const routing = {
    strategy: readRoutingStrategy(read),
    allowedFails: read.integer("litellmAllowedFails"),
    cooldownSeconds: read.integer("litellmCooldownSeconds"),
    numRetries: read.integer("litellmNumRetries"),
  };
  // Pulumi hands the program Pulumi.yaml's defaults as values, so "set" can only mean "not the default".
  const routingSet =
    routing.strategy !== SETTINGS.litellmRoutingStrategy.default ||
    routing.allowedFails !== SETTINGS.litellmAllowedFails.default ||
    routing.cooldownSeconds !== SETTINGS.litellmCooldownSeconds.default ||
    routing.numRetries !== SETTINGS.litellmNumRetries.default;
  return { cloudModels, fallbacks, rateLimits, database: read.boolean("litellmDatabase"), routing, routingSet, cloudKeys };
}

/** A strategy LiteLLM has but this stack does not offer is refused with its reason (limits.ts). */
function readRoutingStrategy(read: SettingsReader): LiteLlmRoutingStrategy {
  const value = read.string("litellmRoutingStrategy");
  const offered = LITELLM_ROUTING_STRATEGIES.find((s) => s === value);
  if (offered !== undefined) return offered;
  const why = Object.hasOwn(UNSUITED_ROUTING_STRATEGIES, value) ? UNSUITED_ROUTING_STRATEGIES[value] : undefined;
  read.problems.add(
    `${read.project}:litellmRoutingStrategy is "${value}": ` +
      (why === undefined
        ? `use ${LITELLM_ROUTING_STRATEGIES.join(" or ")} (LiteLLM's others, ${Object.keys(UNSUITED_ROUTING_STRATEGIES).join(", ")}, are not offered)`
        : `LiteLLM has it, but ${why}; use ${LITELLM_ROUTING_STRATEGIES.join(" or ")}`),
  );
  return LITELLM_ROUTING_STRATEGIES[0];
}

// A name clients use for a cloud model: letters, digits and . _ - : /
const ROUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;
const CLOUD_MODEL = new RegExp(`^([^=\\s]+)=(${CLOUD_PROVIDERS.join("|")})/([^@\\s]+)(?:@(\\S+))?$`);

function readCloudModels(read: SettingsReader, localNames: Set<string>, cloudKeys: CloudKeys): CloudModelSettings[] {
  const { project, problems } = read;
  const cloudModels: CloudModelSettings[] = [];
  for (const entry of read.array("cloudModels")) {
    const match = CLOUD_MODEL.exec(entry.trim());
    if (!match || !ROUTE_NAME.test(match[1])) {
      problems.add(
        `${project}:cloudModels has "${entry}": write name=provider/model with provider one of ` +
          `${CLOUD_PROVIDERS.join(", ")}, e.g. gpt-4o-mini=openai/gpt-4o-mini or ` +
          `llama-70b=openai-compatible/meta-llama/Llama-3.3-70B@https://api.example.com/v1`,
      );
      continue;
    }
    const [, name, providerText, model, apiBase] = match;
    const provider = providerText as CloudProvider;
    if (provider === "openai-compatible" && apiBase === undefined) {
      problems.add(`${project}:cloudModels has "${entry}": an openai-compatible model needs its endpoint, as ${name}=openai-compatible/${model}@https://host/v1`);
      continue;
    }
    if (apiBase !== undefined && !isHttpUrl(apiBase)) {
      problems.add(`${project}:cloudModels has "${entry}", whose endpoint "${apiBase}" is not an http(s) URL`);
      continue;
    }
    if (localNames.has(canonicalModelName(name)) || localNames.has(name)) {
      problems.add(`${project}:cloudModels has "${entry}", whose name ${name} is already a local model: give the cloud model another name`);
      continue;
    }
    if (!cloudKeys[provider]) {
      problems.add(
        `${project}:cloudModels has "${entry}" but ${project}:${CLOUD_KEY_SETTING[provider]} is not set: ` +
          `\`pulumi config set --secret ${project}:${CLOUD_KEY_SETTING[provider]}\`, or remove the model`,
      );
    }
    cloudModels.push({ name, provider, model, ...(apiBase ? { apiBase } : {}) });
  }
  const duplicateRoutes = cloudModels.map((m) => m.name).filter((n, i, all) => all.indexOf(n) !== i);
  if (duplicateRoutes.length > 0) problems.add(`${project}:cloudModels names ${duplicateRoutes.join(", ")} more than once`);
  return cloudModels;
}

interface ModelNames {
  /** The model a name refers to, or undefined when the stack has none by that name. */
  resolve: (name: string) => string | undefined;
  /** Every model name of the stack, for messages. */
  known: () => string;
}

// Models are referred to as written in the settings or by their canonical name:tag.
function modelNames(localNames: Set<string>, cloudModels: CloudModelSettings[]): ModelNames {
  return {
    resolve: (name) => {
      if (cloudModels.some((m) => m.name === name)) return name;
      const local = canonicalModelName(name);
      return localNames.has(local) ? local : undefined;
    },
    known: () => [...localNames, ...cloudModels.map((m) => m.name)].join(", "),
  };
}

function readFallbacks(read: SettingsReader, { resolve, known }: ModelNames): Record<string, string[]> {
  const { project, problems } = read;
  const fallbacks: Record<string, string[]> = {};
  for (const entry of read.array("fallbacks")) {
    const [from, to] = entry.split("=", 2).map((x) => x.trim());
    const targets = (to ?? "").split(",").map((t) => t.trim()).filter((t) => t !== "");
    if (!from || targets.length === 0) {
      problems.add(`${project}:fallbacks has "${entry}": write model=other[,other...], e.g. qwen2.5:7b=gpt-4o-mini`);
      continue;
    }
    const origin = resolve(from);
    const missing = [from, ...targets].filter((n) => resolve(n) === undefined);
    if (origin === undefined || missing.length > 0) {
      problems.add(
        `${project}:fallbacks has "${entry}", which names ${missing.join(" and ")}, not a model of this stack: ` +
          `use one of ${known()} (a cloud model goes in ${project}:cloudModels first, with its key)`,
      );
      continue;
    }
    if (targets.some((t) => resolve(t) === origin)) {
      problems.add(
        `${project}:fallbacks has "${entry}", which falls back from ${origin} to itself: name other models ` +
          `after "=", e.g. ${origin}=gpt-4o-mini`,
      );
      continue;
    }
    fallbacks[origin] = targets.map((t) => resolve(t) ?? t);
  }
  return fallbacks;
}

function readRateLimits(read: SettingsReader, { resolve, known }: ModelNames): LiteLlmSettings["rateLimits"] {
  const { project, problems } = read;
  const rateLimits: LiteLlmSettings["rateLimits"] = {};
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
      problems.add(
        `${project}:rateLimits has "${entry}": write model=<n>rpm, model=<n>tpm or model=<n>rpm,<n>tpm with ` +
          `whole numbers above 0, e.g. qwen2.5:7b=60rpm,20000tpm`,
      );
    } else if (model === undefined) {
      problems.add(`${project}:rateLimits has "${entry}", but ${name} is not a model of this stack: use one of ${known()}`);
    } else {
      rateLimits[model] = parsed;
    }
  }
  return rateLimits;
}
