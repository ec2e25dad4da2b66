/** The cloud model providers LiteLLM may route to, and the environment variable each one's key goes in. */

export const CLOUD_PROVIDERS = ["openai", "anthropic", "openai-compatible"] as const;
export type CloudProvider = (typeof CLOUD_PROVIDERS)[number];

/** The environment variable holding each provider's key inside LiteLLM's container. */
export const CLOUD_KEY_ENV: Readonly<Record<CloudProvider, string>> = {
  openai: "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
  "openai-compatible": "OPENAI_COMPATIBLE_API_KEY",
};
