/**
 * What the application does with the environment the consumer program gives it: one chat completion
 * through the platform's LiteLLM with the official OpenAI client.
 *
 *   OPENAI_BASE_URL=... OPENAI_API_KEY=... [OPENAI_MODEL=...] npx tsx examples/consumer/client.ts "a question"
 */
import OpenAI from "openai";

/** The model when OPENAI_MODEL is not set: the first chat model of the platform's default settings. */
export const DEFAULT_MODEL = "qwen2.5:7b";
const DEFAULT_PROMPT = "Say hello in one short sentence.";

/** Asks `model` one question and returns its answer. */
export async function askModel(baseURL: string, apiKey: string, model: string, prompt: string): Promise<string> {
  const client = new OpenAI({ baseURL, apiKey });
  const completion = await client.chat.completions.create({ model, messages: [{ role: "user", content: prompt }] });
  const choice = completion.choices[0];
  if (choice === undefined) throw new Error(`${model} at ${baseURL} returned no answer`);
  return choice.message.content ?? "";
}

async function main(): Promise<void> {
  const baseURL = process.env.OPENAI_BASE_URL;
  const apiKey = process.env.OPENAI_API_KEY;
  // Without a base URL the OpenAI client would go to api.openai.com: refuse rather than leak the prompt.
  if (!baseURL || !apiKey) {
    throw new Error("Set OPENAI_BASE_URL and OPENAI_API_KEY: the consumer stack's openaiBaseUrl and openaiApiKey outputs.");
  }
  const args = process.argv.slice(2);
  const prompt = args.length > 0 ? args.join(" ") : DEFAULT_PROMPT;
  const answer = await askModel(baseURL, apiKey, process.env.OPENAI_MODEL ?? DEFAULT_MODEL, prompt);
  console.log(answer);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
