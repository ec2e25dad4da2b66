/** The Ollama models to serve, with the size each takes, and how Ollama holds them in memory. */
import { canonicalModelName, DEFAULT_KV_CACHE_KIB_PER_TOKEN, findModel, modelResourceSuffix, MODELS } from "../catalog/models";
import { KV_CACHE_TYPES, KvCacheType } from "./limits";
import { Problems, SettingsReader } from "./reader";

export interface ModelSettings {
  /** Canonical `name:tag`. */
  name: string;
  fileGb: number;
  kvCacheKibPerToken: number;
  embedding: boolean;
  /** False when the size came from the settings entry rather than the catalog. */
  fromCatalog: boolean;
}

export interface OllamaSettings {
  contextLength: number;
  parallelRequests: number;
  maxLoadedModels: number;
  /** OLLAMA_KEEP_ALIVE, e.g. "1h". */
  keepAlive: string;
  flashAttention: boolean;
  kvCacheType: KvCacheType;
}

export function readModels(read: SettingsReader): ModelSettings[] {
  const { project, problems } = read;
  const entries = read.list("models");
  const models = (entries ?? []).flatMap((entry) => parseModelEntry(entry, project, problems));
  if (entries !== undefined && entries.length === 0) {
    problems.add(`${project}:models is empty: list at least one Ollama model, e.g. ["qwen2.5:3b"]`);
  }
  const duplicates = models.map((m) => m.name).filter((n, i, all) => all.indexOf(n) !== i);
  if (duplicates.length > 0) {
    problems.add(`${project}:models lists ${[...new Set(duplicates)].join(", ")} more than once: list each once`);
  }
  // Each model's pull is a resource named after it; names that differ only in ":" "/" and the like collide.
  const bySuffix = new Map<string, string[]>();
  for (const name of new Set(models.map((m) => m.name))) {
    const suffix = modelResourceSuffix(name);
    bySuffix.set(suffix, [...(bySuffix.get(suffix) ?? []), name]);
  }
  for (const [suffix, names] of bySuffix) {
    if (names.length < 2) continue;
    problems.add(
      `${project}:models has ${names.join(" and ")}, which both give the resource name ${suffix} ` +
        `(":" and "/" become "-"): keep only one of them`,
    );
  }
  return models;
}

export function readOllama(read: SettingsReader): OllamaSettings {
  const { project, problems } = read;
  const ollama: OllamaSettings = {
    contextLength: read.integer("contextLength"),
    parallelRequests: read.integer("parallelRequests"),
    maxLoadedModels: read.integer("maxLoadedModels"),
    keepAlive: read.string("ollamaKeepAlive"),
    flashAttention: read.boolean("flashAttention"),
    kvCacheType: read.choice("kvCacheType", KV_CACHE_TYPES),
  };
  if (!/^(-1|0|\d+(ms|s|m|h))$/.test(ollama.keepAlive)) {
    problems.add(`${project}:ollamaKeepAlive is "${ollama.keepAlive}": use a duration such as 30m, 1h or 24h, 0 to unload at once, or -1 to keep models loaded`);
  }
  if (ollama.kvCacheType !== "f16" && !ollama.flashAttention) {
    problems.add(
      `${project}:kvCacheType is "${ollama.kvCacheType}" but ${project}:flashAttention is false: Ollama quantizes ` +
        `the KV cache only with flash attention; set flashAttention to true or kvCacheType to f16`,
    );
  }
  return ollama;
}

// name[:tag], optionally namespaced (library/qwen2.5, hf.co/org/model), then an optional =<GB>GB[,<KiB>KiB].
export const MODEL_NAME = /^(?:[a-z0-9][a-z0-9.-]*\/){0,2}[a-z0-9][a-z0-9._-]*(?::[A-Za-z0-9][A-Za-z0-9._-]{0,127})?$/;
const MODEL_SIZE = /^(\d+(?:\.\d+)?)\s*GB(?:\s*,\s*(\d+(?:\.\d+)?)\s*KiB)?$/;

function parseModelEntry(entry: string, project: string, problems: Problems): ModelSettings[] {
  const [rawName, rawSize] = entry.split("=", 2).map((s) => s.trim());
  if (!MODEL_NAME.test(rawName)) {
    problems.add(
      `${project}:models has "${entry}", which is not an Ollama model name: use name or name:tag in lowercase ` +
        `letters, digits, ".", "_" and "-", e.g. qwen2.5:7b or llama3.2:1b`,
    );
    return [];
  }
  const name = canonicalModelName(rawName);
  const known = findModel(name);
  if (rawSize === undefined) {
    if (known) return [{ name, ...known, fromCatalog: true }];
    problems.add(
      `${project}:models has "${entry}", which is not in the model catalog, so its size is unknown: give it ` +
        `as "${rawName}=<file GB>GB" or "${rawName}=<file GB>GB,<KV cache KiB per token>KiB" ` +
        `(catalog: ${Object.keys(MODELS).join(", ")})`,
    );
    return [];
  }
  const size = MODEL_SIZE.exec(rawSize);
  const fileGb = size ? Number(size[1]) : 0;
  if (!size || fileGb <= 0) {
    problems.add(
      `${project}:models has "${entry}", whose size "${rawSize}" is not understood: write it as 4.1GB ` +
        `or 4.1GB,64KiB (file size, then KV cache per token of context)`,
    );
    return [];
  }
  const kv = size[2] === undefined ? (known?.kvCacheKibPerToken ?? DEFAULT_KV_CACHE_KIB_PER_TOKEN) : Number(size[2]);
  return [{ name, fileGb, kvCacheKibPerToken: kv, embedding: known?.embedding ?? false, fromCatalog: false }];
}
