/**
 * Ollama models the capacity planner knows without being told.
 *
 * Source: the Ollama library's default tags (file size, GB) and each model's architecture (KV cache per
 * token of context at f16, KiB), as published in November 2026. A model not listed here can
 * still be used: its settings entry then carries its size (see components/config/models.ts).
 */

export interface ModelFacts {
  /** Size of the model file in GB (what `ollama pull` downloads and what loads into RAM). */
  fileGb: number;
  /**
   * KV cache per token of context at f16, in KiB. Ollama allocates context x OLLAMA_NUM_PARALLEL tokens of
   * it for each loaded model.
   */
  kvCacheKibPerToken: number;
  /** Embedding models answer /api/embed and take no chat context. */
  embedding: boolean;
}

/**
 * KV figure assumed for a model outside this catalog whose entry gives only its file size: the largest of
 * the common 7-8B models, so an unknown model is never under-counted.
 */
export const DEFAULT_KV_CACHE_KIB_PER_TOKEN = 128;

const chat = (fileGb: number, kvCacheKibPerToken: number): ModelFacts => ({
  fileGb,
  kvCacheKibPerToken,
  embedding: false,
});
// Embedding models run with a short context; their KV share is negligible next to the file.
const embed = (fileGb: number): ModelFacts => ({ fileGb, kvCacheKibPerToken: 0, embedding: true });

/** Keyed by `name:tag`, the tag Ollama pulls by default spelled out. */
export const MODELS: Readonly<Record<string, ModelFacts>> = {
  "llama3.2:1b": chat(1.3, 32),
  "llama3.2:3b": chat(2.0, 112),
  "qwen2.5:3b": chat(1.9, 36),
  "qwen2.5:7b": chat(4.7, 56),
  // phi4-mini and gemma3: KV derived from the architecture (2 x layers x KV heads x head dim x 2 bytes);
  // an upper bound for gemma3, whose sliding-window layers keep less.
  "phi4-mini:latest": chat(2.5, 128),
  "gemma3:1b": chat(0.8, 26),
  "gemma3:4b": chat(3.3, 136),
  "mistral:7b": chat(4.4, 128),
  "llama3.1:8b": chat(4.9, 128),
  "nomic-embed-text:latest": embed(0.27),
  "mxbai-embed-large:latest": embed(0.67),
};

/** `qwen2.5` and `qwen2.5:latest` name the same thing to Ollama; the catalog spells the tag out. */
export function canonicalModelName(name: string): string {
  return name.includes(":") ? name : `${name}:latest`;
}

/**
 * The part of a model's resource name that comes from the model (`model-qwen2.5-7b` for qwen2.5:7b): a
 * resource name takes no ":" or "/". Two models that give the same one cannot both be pulled, so the
 * settings refuse them.
 */
export function modelResourceSuffix(name: string): string {
  return `model-${name.replace(/[^a-z0-9.-]/gi, "-")}`;
}

export function findModel(name: string): ModelFacts | undefined {
  return MODELS[canonicalModelName(name)];
}
