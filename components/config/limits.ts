/**
 * What each setting allows: the reader refuses a value outside these limits, and the schema's descriptions
 * (so Pulumi.yaml and the README) state them from here, so a limit is written once.
 */
import { MAX_VOLUME_GB, MIN_VOLUME_GB } from "../catalog/serverTypes";

export interface Range {
  min: number;
  max: number;
}

const VOLUME_GB: Range = { min: MIN_VOLUME_GB, max: MAX_VOLUME_GB };

/** The whole numbers each integer setting accepts, bounds included. */
export const RANGES = {
  inferenceVolumeGb: VOLUME_GB,
  operationsVolumeGb: VOLUME_GB,
  swapGiB: { min: 0, max: 16 },
  contextLength: { min: 512, max: 131072 },
  parallelRequests: { min: 1, max: 8 },
  maxLoadedModels: { min: 1, max: 4 },
  qdrantVectors: { min: 0, max: 100_000_000 },
  qdrantDimensions: { min: 1, max: 65536 },
  qdrantReplicationFactor: { min: 1, max: 16 },
  qdrantWriteConsistency: { min: 1, max: 16 },
  prometheusRetentionDays: { min: 1, max: 365 },
  prometheusRetentionGb: { min: 1, max: MAX_VOLUME_GB },
  comparisonRequestsPerMonth: { min: 1, max: 1_000_000_000 },
  comparisonInputTokens: { min: 1, max: 10_000_000 },
  comparisonOutputTokens: { min: 1, max: 10_000_000 },
  comparisonPeakFactor: { min: 1, max: 100 },
  backupHourUtc: { min: 0, max: 23 },
  backupKeepDaily: { min: 1, max: 365 },
  backupKeepWeekly: { min: 0, max: 520 },
  backupKeepMonthly: { min: 0, max: 120 },
  litellmAllowedFails: { min: 0, max: 20 },
  litellmCooldownSeconds: { min: 1, max: 3600 },
  litellmNumRetries: { min: 0, max: 5 },
} as const satisfies Record<string, Range>;

export type RangedSettingName = keyof typeof RANGES;

/** The whole percent one entry of comparisonModelShares gives a chat model. */
export const MODEL_SHARE_PERCENT: Range = { min: 1, max: 100 };

/**
 * How LiteLLM may spread a model's requests over its deployments (litellmRoutingStrategy). LiteLLM 1.110.2 knows
 * more (types/litellm_params.py RoutingStrategyName); the others are refused, each for the reason below, found in
 * its source and with the real proxy (test/render/litellmRouting.test.ts): at that version a deployment that
 * refuses connections (a stopped Ollama) is never cooled down (router_utils/cooldown_handlers.py
 * _is_cooldown_required skips any APIConnectionError), and only simple-shuffle re-picks among the other
 * deployments after a failure (router.py enable_weighted_failover).
 */
export const LITELLM_ROUTING_STRATEGIES = ["simple-shuffle"] as const;
export type LiteLlmRoutingStrategy = (typeof LITELLM_ROUTING_STRATEGIES)[number];

const STUCK_ON_A_REFUSING_BACKEND =
  "at LiteLLM 1.110.2 it keeps choosing a deployment that refuses connections (LiteLLM never cools one down for that), so a stopped Ollama would fail every request it is given";

/** LiteLLM's other strategies, each with why this stack does not offer it. */
export const UNSUITED_ROUTING_STRATEGIES: Readonly<Record<string, string>> = {
  "least-busy": `it ignores weight and gives ties to the first deployment listed, and ${STUCK_ON_A_REFUSING_BACKEND}`,
  "latency-based-routing": STUCK_ON_A_REFUSING_BACKEND,
  "usage-based-routing": `it routes by the rpm and tpm limits, which these deployments do not all have, and ${STUCK_ON_A_REFUSING_BACKEND}`,
  "usage-based-routing-v2": `it routes by the rpm and tpm limits, which these deployments do not all have, and ${STUCK_ON_A_REFUSING_BACKEND}`,
  "cost-based-routing": `self-hosted models have no price to compare, and ${STUCK_ON_A_REFUSING_BACKEND}`,
  // router_strategy/lar1_routing.py
  lar1: "it routes by a confidence level each request carries in its metadata, which the platform's clients do not send",
};

export const KV_CACHE_TYPES = ["f16", "q8_0", "q4_0"] as const;
export type KvCacheType = (typeof KV_CACHE_TYPES)[number];

/** Where backups go: a Storage Box the stack declares, or a target that exists already. */
export const BACKUP_TARGETS = ["storagebox", "sftp", "s3"] as const;
export type BackupTarget = (typeof BACKUP_TARGETS)[number];

export const RECEIVER_KINDS = ["none", "webhook", "ntfy", "email"] as const;
export type ReceiverKind = (typeof RECEIVER_KINDS)[number];

/** Disk on the operations node's volume kept for Grafana, Alertmanager and Coolify's backups, GB. */
export const OPERATIONS_VOLUME_RESERVE_GB = 2;

/** The addresses Tailscale gives its nodes (the CGNAT range), which Docker's networks must not take. */
export const TAILNET_RANGE = "100.64.0.0/10";

/** The prefix of each network Docker carves from its pool (daemon.json's default-address-pools size). */
export const DOCKER_NETWORK_PREFIX = 24;

/** The smallest pool that leaves Docker room for its networks: /20 holds sixteen /24s. */
export const DOCKER_POOL_MAX_PREFIX = 20;

/** "min to max", as descriptions and messages state a range. */
export function fromTo(range: Range): string {
  return `${range.min} to ${range.max}`;
}

/** "a, b or c", with a note in parentheses after the choices that have one. */
export function oneOf<T extends string>(choices: readonly T[], notes: Partial<Record<T, string>> = {}): string {
  const shown = choices.map((c) => (notes[c] === undefined ? c : `${c} (${notes[c]})`));
  return shown.length < 2 ? shown.join("") : `${shown.slice(0, -1).join(", ")} or ${shown[shown.length - 1]}`;
}
