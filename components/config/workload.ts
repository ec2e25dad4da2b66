/** The team's workload, as the cost comparison and the throughput plan read it: volume, shape, mix and peak. */
import { fromTo, MODEL_SHARE_PERCENT } from "./limits";
import type { ModelSettings } from "./models";
import type { SettingsReader } from "./reader";

export interface WorkloadSettings {
  requestsPerMonth: number;
  inputTokens: number;
  outputTokens: number;
  /** Chat model name -> its share of the requests, 0 to 1; empty for an equal split. */
  modelShares: Record<string, number>;
  /** Requests in the busiest hour over the average hour's. */
  peakFactor: number;
}

const SHARE = /^([^=\s]+)=(\d+)%?$/;

export function readWorkload(read: SettingsReader, models: ModelSettings[]): WorkloadSettings {
  const { project, problems } = read;
  const chat = models.filter((m) => !m.embedding).map((m) => m.name);
  const modelShares: Record<string, number> = {};
  let percentTotal = 0;
  const entries = read.array("comparisonModelShares");
  for (const entry of entries) {
    const match = SHARE.exec(entry.trim());
    const percent = match ? Number(match[2]) : NaN;
    if (!match || percent < MODEL_SHARE_PERCENT.min || percent > MODEL_SHARE_PERCENT.max) {
      problems.add(
        `${project}:comparisonModelShares has "${entry}": write model=percent with a whole percent from ` +
          `${fromTo(MODEL_SHARE_PERCENT)}, e.g. ${chat[0] ?? "qwen2.5:7b"}=80`,
      );
      continue;
    }
    const name = chat.find((c) => c === match[1] || c === `${match[1]}:latest`);
    if (!name) {
      problems.add(`${project}:comparisonModelShares has "${entry}", but ${match[1]} is not a chat model in ${project}:models: use one of ${chat.join(", ") || "(none)"}`);
      continue;
    }
    modelShares[name] = percent / 100;
    percentTotal += percent;
  }
  if (Object.keys(modelShares).length > 0 && Object.keys(modelShares).length === entries.length && percentTotal !== 100) {
    problems.add(`${project}:comparisonModelShares is ${JSON.stringify(entries)}, whose shares add up to ${percentTotal} %: make them add up to 100`);
  }
  return {
    requestsPerMonth: read.integer("comparisonRequestsPerMonth"),
    inputTokens: read.integer("comparisonInputTokens"),
    outputTokens: read.integer("comparisonOutputTokens"),
    modelShares,
    peakFactor: read.integer("comparisonPeakFactor"),
  };
}
