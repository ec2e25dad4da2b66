/**
 * What the same requests would cost through cloud APIs, for the comparison in the plan and the outputs.
 *
 * USD per million tokens, standard (not batch, not cached) rates, as published by OpenAI and Anthropic and
 * quoted in spring 2026 by promptunit.ai's and pecollective.com's GPT-4o mini pricing guides (April 2026),
 * deploybase.ai's Claude API pricing (2026-03-21) and claudecodeguides.com (April 2026). Check again before
 * a decision rests on them.
 */
import type { CloudProvider } from "./cloudProviders";


export const CLOUD_PRICES_AS_OF = "2026-04";

/**
 * An assumed exchange rate, to set the EUR-priced servers beside the USD-priced APIs. Not a quote: the
 * comparison moves with it, and it is shown wherever the comparison is.
 */
export const USD_PER_EUR = 1.15;

export interface CloudPrice {
  /** The provider's model id. */
  model: string;
  /** A provider with a public price list: an openai-compatible endpoint has none of its own. */
  provider: Exclude<CloudProvider, "openai-compatible">;
  inputUsdPerMillion: number;
  outputUsdPerMillion: number;
}

export const CLOUD_PRICES: readonly CloudPrice[] = [
  { model: "gpt-4o-mini", provider: "openai", inputUsdPerMillion: 0.15, outputUsdPerMillion: 0.6 },
  { model: "gpt-4.1", provider: "openai", inputUsdPerMillion: 2.0, outputUsdPerMillion: 8.0 },
  { model: "gpt-4o", provider: "openai", inputUsdPerMillion: 2.5, outputUsdPerMillion: 10.0 },
  { model: "claude-haiku-4.5", provider: "anthropic", inputUsdPerMillion: 1.0, outputUsdPerMillion: 5.0 },
  { model: "claude-sonnet-4.6", provider: "anthropic", inputUsdPerMillion: 3.0, outputUsdPerMillion: 15.0 },
];
