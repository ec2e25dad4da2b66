/**
 * Capacity in tokens: how fast the inference node runs each chat model, whether the team's workload fits it,
 * at what queueing delay, and what a million output tokens cost here beside the APIs. Pure: settings in, plan out.
 *
 * The speed model: the dated llama-bench figures (catalog/inferenceSpeed.ts), scaled to another model size by
 * the memory-bandwidth rule (on CPU each generated token reads the whole model once, so tokens/s is roughly
 * inversely proportional to the model's size on one server type; prompt processing is scaled the same way,
 * as its work also grows with the weights). A catalogued type without a measurement takes the nearest measured
 * type of its CPU family, and is marked an estimate. Ollama's parallel requests (parallelRequests) share the
 * node's speed: they interleave, they do not multiply it, so the node is one server whatever that setting is.
 *
 * The queueing model: M/M/1 (Poisson arrivals, exponential service, one server), closed form. With parallel
 * requests sharing the speed the node is M/M/1 with processor sharing, whose mean response time is the same.
 * Utilization rho = lambda x S; mean wait in the queue Wq = rho x S / (1 - rho); the response time is
 * exponential with rate 1/S - lambda, so its median is ln 2 x S / (1 - rho). Unbounded when rho >= 1.
 *
 * Several inference nodes (the extra ones of devInferenceNodes / prodInferenceNodes, each serving some of the
 * models): each node is its own M/M/1 server, running each model at its own server type's speed. LiteLLM's
 * simple-shuffle with equal weights (every deployment has weight 1) sends each node serving a model an equal share
 * of that model's requests, so a node's load is the sum, over the models it serves, of the model's requests over
 * the number of nodes serving it, times its seconds per request. The workload fits while every node stays under
 * the ceiling: the busiest node sets the capacity, and its figures are the plan's busy hours, utilization and peak
 * delay (each node's are in `nodes`). A model on k nodes of one type thus gets k times one node's capacity; on
 * unequal types, equal shares leave the faster node's headroom unused (the slower one fills first), which is what
 * shuffle by equal weight does.
 *
 * Its limits, in plain words: averages (every request has the workload's average prompt and answer), no model
 * swap time when several chat models share the node, no speed-up from the prompt cache, and the benchmark's
 * 128-token prompt speed taken for long prompts too (longer prompts run slower on CPU). With several nodes: the
 * shares are what random choice gives on average (a short run can load one node more), a node taken out of
 * rotation (cooled down, down) is not modelled, and LiteLLM's retries and fallbacks add no load here.
 */
import { CLOUD_PRICES, USD_PER_EUR } from "../catalog/cloudPrices";
import { BENCH_MODELS, CPU_FAMILY, INFERENCE_SPEED_MEASURED, INFERENCE_SPEED_SOURCE, MEASURED_SPEED, SpeedPoint } from "../catalog/inferenceSpeed";
import { MODELS } from "../catalog/models";
import { findServerType, SERVER_TYPES } from "../catalog/serverTypes";
import { FIRST_INFERENCE_NODE } from "../catalog/services";
import type { Settings } from "../config";

/** Hours in an average month (365 x 24 / 12). */
export const HOURS_PER_MONTH = 730;

/**
 * The share of the month the node may be busy and still answer promptly: above it, M/M/1's delay grows fast
 * (at 70 % a request waits 2.3 times its own length on average), and the peaks have no room left.
 */
export const UTILIZATION_CEILING = 0.7;

export interface ModelSpeed {
  promptTokS: number;
  generationTokS: number;
  /** The measured type the figures come from (the type itself, or the nearest of its CPU family). */
  measuredOn: string;
  /** True when measuredOn is another type than the one asked for. */
  estimate: boolean;
}

/** The measured type whose figures stand for `serverType`: itself, or the nearest of its CPU family by vCPUs (fewer first). */
export function measuredTypeFor(serverType: string): string | undefined {
  if (MEASURED_SPEED[serverType]) return serverType;
  const family = CPU_FAMILY[serverType];
  const vcpus = findServerType(serverType)?.vcpus;
  if (family === undefined || vcpus === undefined) return undefined;
  const candidates = Object.keys(MEASURED_SPEED)
    .filter((t) => CPU_FAMILY[t] === family)
    .map((t) => ({ t, distance: Math.abs((findServerType(t)?.vcpus ?? 0) - vcpus), vcpus: findServerType(t)?.vcpus ?? 0 }))
    .sort((a, b) => a.distance - b.distance || a.vcpus - b.vcpus);
  return candidates[0]?.t;
}

/** The measured point nearest in size (by ratio) to a model of `fileGb`, among those with the figure wanted. */
function nearestPoint(points: readonly SpeedPoint[], fileGb: number, has: (p: SpeedPoint) => boolean): SpeedPoint | undefined {
  const ratio = (p: SpeedPoint) => Math.abs(Math.log(BENCH_MODELS[p.model].fileGb / fileGb));
  return points.filter(has).sort((a, b) => ratio(a) - ratio(b))[0];
}

/** Prompt and generation speed of a model of `fileGb` GB on `serverType`, or undefined for an unknown type. */
export function modelSpeed(serverType: string, fileGb: number): ModelSpeed | undefined {
  const measuredOn = measuredTypeFor(serverType);
  if (measuredOn === undefined) return undefined;
  const points = MEASURED_SPEED[measuredOn];
  // Memory-bandwidth rule: speed x size is constant on one type.
  const scale = (p: SpeedPoint, tokS: number) => (tokS * BENCH_MODELS[p.model].fileGb) / fileGb;
  const gen = nearestPoint(points, fileGb, () => true);
  const prompt = nearestPoint(points, fileGb, (p) => p.promptTokS !== undefined);
  if (!gen || !prompt) return undefined;
  return {
    promptTokS: scale(prompt, prompt.promptTokS ?? 0),
    generationTokS: scale(gen, gen.generationTokS),
    measuredOn,
    estimate: measuredOn !== serverType,
  };
}

/** Seconds one request of the workload's shape takes alone on the node. */
export function requestSeconds(speed: ModelSpeed, inputTokens: number, outputTokens: number): number {
  return inputTokens / speed.promptTokS + outputTokens / speed.generationTokS;
}

export interface QueueFigures {
  /** rho = lambda x S. */
  utilization: number;
  /** Mean wait before service starts, seconds; Infinity when rho >= 1. */
  meanWaitSeconds: number;
  /** Median time from arrival to the last token, seconds; Infinity when rho >= 1. */
  medianResponseSeconds: number;
}

/** M/M/1 in closed form: arrivals per second, mean service time in seconds. */
export function mm1(arrivalsPerSecond: number, serviceSeconds: number): QueueFigures {
  const utilization = arrivalsPerSecond * serviceSeconds;
  if (utilization >= 1) return { utilization, meanWaitSeconds: Infinity, medianResponseSeconds: Infinity };
  return {
    utilization,
    meanWaitSeconds: (utilization * serviceSeconds) / (1 - utilization),
    medianResponseSeconds: (Math.LN2 * serviceSeconds) / (1 - utilization),
  };
}

export interface ModelThroughput {
  model: string;
  /** Share of the workload's requests, 0 to 1. */
  share: number;
  promptTokS: number;
  generationTokS: number;
  /** Seconds one request takes alone. */
  requestSeconds: number;
  /** The cloud model its requests above capacity go to, when a priced one is configured. */
  fallback?: string;
  /**
   * The inference nodes that serve it ("inference" for the first, an extra node's name), each with an equal share
   * of its requests. Only when the environment has extra inference nodes.
   */
  nodes?: string[];
}

/** One inference node's part of the workload, when the environment has extra inference nodes. */
export interface NodeThroughput {
  /** "inference" for the first node, else the extra node's name. */
  name: string;
  serverType: string;
  measuredOn: string;
  estimate: boolean;
  /** The chat models it serves. */
  models: string[];
  /** Requests a month of the workload it gets (its equal shares of the models it serves), whether they fit or not. */
  requestsPerMonth: number;
  /** Hours a month it is busy with them, and that over the month's hours. */
  busyHoursPerMonth: number;
  utilization: number;
  peakUtilization: number;
  peakQueueDelaySeconds: number | null;
  peakMedianRequestSeconds: number | null;
}

export interface FallbackCost {
  model: string;
  requestsPerMonth: number;
  usdMonth: number;
  eurMonth: number;
}

export interface ThroughputPlan {
  serverType: string;
  measuredOn: string;
  estimate: boolean;
  source: string;
  measured: string;
  parallelRequests: number;
  utilizationCeiling: number;
  models: ModelThroughput[];
  /** Mean seconds of one request alone, over the models by share (what an idle node takes, the median request). */
  requestSeconds: number;
  /** Output tokens a month the node generates at the ceiling, counting the time prompts take. */
  generationCapacityTokensPerMonth: number;
  /** Requests of the workload's shape a month at the ceiling. */
  capacityRequestsPerMonth: number;
  requestsPerMonth: number;
  /** Hours a month the node is busy with the workload (all of it, whether it fits or not). */
  busyHoursPerMonth: number;
  /** Busy hours over the month's hours. */
  utilization: number;
  fits: boolean;
  /** Requests the node serves (at most its capacity). */
  servedRequestsPerMonth: number;
  /** Requests above capacity, sent to the fallback when one is configured. */
  overflowRequestsPerMonth: number;
  /** Overflow over requests, 0 to 1. */
  fallbackShare: number;
  fallbackCosts: FallbackCost[];
  fallbackEurMonth: number;
  peakFactor: number;
  /** Utilization in the busiest hour, of the served requests. */
  peakUtilization: number;
  /** M/M/1 mean queueing delay in the busiest hour, seconds; null when unbounded. */
  peakQueueDelaySeconds: number | null;
  /** M/M/1 median request time in the busiest hour, seconds; null when unbounded. */
  peakMedianRequestSeconds: number | null;
  /** The platform's fixed price over the output tokens it serves, EUR per million. */
  eurPerMillionOutputTokens: number;
  /** Each API's output price, and the workload's whole cost per million output tokens through it (input included). */
  cloudPerMillionOutputTokens: { model: string; outputUsdPerMillion: number; workloadUsdPerMillionOutput: number }[];
  /** Set when the workload needs more than the ceiling and part of it has no fallback: what would fit. */
  warning?: string;
  /**
   * Each inference node's part, the first node first, when the environment has extra inference nodes. Then
   * busyHoursPerMonth, utilization and the peak figures above are the busiest node's.
   */
  nodes?: NodeThroughput[];
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The chat models with their share of the workload: the configured shares, else an equal split. */
function chatShares(settings: Settings): { name: string; fileGb: number; share: number }[] {
  const chat = settings.models.filter((m) => !m.embedding);
  const shares = settings.comparison.modelShares;
  return chat.map((m) => ({ name: m.name, fileGb: m.fileGb, share: shares[m.name] ?? (Object.keys(shares).length > 0 ? 0 : 1 / chat.length) }));
}

function priceOfCloudModel(settings: Settings, name: string) {
  const cloud = settings.litellm.cloudModels.find((c) => c.name === name);
  return cloud ? CLOUD_PRICES.find((p) => p.model === cloud.model || p.model === cloud.name) : undefined;
}

/** Mean seconds per request on a type for the given models and shares, or undefined when the type has no speed. */
function meanRequestSeconds(serverType: string, models: { fileGb: number; share: number }[], settings: Settings): number | undefined {
  let total = 0;
  for (const m of models) {
    const speed = modelSpeed(serverType, m.fileGb);
    if (!speed) return undefined;
    total += m.share * requestSeconds(speed, settings.comparison.inputTokens, settings.comparison.outputTokens);
  }
  return total;
}

const capacityFor = (seconds: number) => Math.floor((UTILIZATION_CEILING * HOURS_PER_MONTH * 3600) / seconds);

/** An inference node as the plan sees it: its type and the chat models it serves. */
interface ServingNode {
  name: string;
  serverType: string;
  models: Set<string>;
}

/** The environment's inference nodes, the first (serving every model, on `firstType`) first. */
function servingNodes(settings: Settings, firstType: string): ServingNode[] {
  const chat = settings.models.filter((m) => !m.embedding).map((m) => m.name);
  return [
    { name: FIRST_INFERENCE_NODE, serverType: firstType, models: new Set(chat) },
    ...(settings.workers[settings.environment] ?? []).map((w) => ({
      name: w.name,
      serverType: w.serverType.name,
      models: new Set(w.models.filter((m) => !m.embedding).map((m) => m.name)),
    })),
  ];
}

/**
 * Each node's load per request of the workload: `seconds`, the node's busy seconds (its equal share of each model it
 * serves, times its seconds per request of that model), and `share`, the fraction of requests it gets. Undefined
 * when a node's type has no speed.
 */
function nodeLoads(
  nodes: ServingNode[],
  shares: { name: string; fileGb: number; share: number }[],
  settings: Settings,
): { node: ServingNode; seconds: number; share: number }[] | undefined {
  const loads: { node: ServingNode; seconds: number; share: number }[] = [];
  for (const node of nodes) {
    let seconds = 0;
    let share = 0;
    for (const m of shares.filter((x) => node.models.has(x.name))) {
      const speed = modelSpeed(node.serverType, m.fileGb);
      if (!speed) return undefined;
      const servers = nodes.filter((n) => n.models.has(m.name)).length;
      seconds += (m.share / servers) * requestSeconds(speed, settings.comparison.inputTokens, settings.comparison.outputTokens);
      share += m.share / servers;
    }
    loads.push({ node, seconds, share });
  }
  return loads;
}

/** Requests a month of the workload's mix the nodes serve with every node at most at the ceiling. */
const capacityOfNodes = (loads: { seconds: number }[]) => capacityFor(Math.max(...loads.map((l) => l.seconds)));

/** The throughput plan of the inference node for the workload, or undefined when no chat model runs there. */
export function planThroughput(settings: Settings, platformEurMonth: number): ThroughputPlan | undefined {
  const shares = chatShares(settings);
  const serverType = settings.nodes.inference.serverType.name;
  const { inputTokens, outputTokens, requestsPerMonth, peakFactor } = settings.comparison;
  if (shares.length === 0) return undefined;
  const first = modelSpeed(serverType, shares[0].fileGb);
  if (!first) return undefined;
  const withWorkers = (settings.workers[settings.environment] ?? []).length > 0;
  const loads = nodeLoads(servingNodes(settings, serverType), shares, settings);
  const models: ModelThroughput[] = shares.map((m) => {
    const speed = modelSpeed(serverType, m.fileGb) ?? first;
    const fallback = (settings.litellm.fallbacks[m.name] ?? []).find((f) => priceOfCloudModel(settings, f));
    return {
      model: m.name,
      share: m.share,
      promptTokS: round(speed.promptTokS, 1),
      generationTokS: round(speed.generationTokS, 1),
      requestSeconds: round(requestSeconds(speed, inputTokens, outputTokens), 1),
      ...(fallback ? { fallback } : {}),
      ...(withWorkers && loads ? { nodes: loads.filter((l) => l.node.models.has(m.name)).map((l) => l.node.name) } : {}),
    };
  });
  // One request alone: the mean over the models and, for each, over the nodes that share it equally.
  const seconds = withWorkers && loads ? loads.reduce((sum, l) => sum + l.seconds, 0) : (meanRequestSeconds(serverType, shares, settings) ?? 0);
  // The busiest node (the first alone without workers) sets the capacity, the busy hours and the peak.
  const busiest = withWorkers && loads ? loads.reduce((a, b) => (b.seconds > a.seconds ? b : a)) : { seconds, share: 1 };
  const capacity = capacityFor(busiest.seconds);
  const busyHours = (requestsPerMonth * busiest.seconds) / 3600;
  const fits = requestsPerMonth <= capacity;
  const served = Math.min(requestsPerMonth, capacity);
  const overflow = requestsPerMonth - served;

  const fallbackCosts: FallbackCost[] = [];
  let uncovered = 0;
  for (const m of models) {
    const requests = Math.round(overflow * m.share);
    if (requests === 0) continue;
    const price = m.fallback ? priceOfCloudModel(settings, m.fallback) : undefined;
    if (!m.fallback || !price) {
      uncovered += requests;
      continue;
    }
    const usdMonth = (requests * (inputTokens * price.inputUsdPerMillion + outputTokens * price.outputUsdPerMillion)) / 1e6;
    fallbackCosts.push({ model: m.fallback, requestsPerMonth: requests, usdMonth: round(usdMonth, 2), eurMonth: round(usdMonth / USD_PER_EUR, 2) });
  }

  // Each node's M/M/1 at the peak hour: its share of the arrivals, at the mean length of its own requests.
  const peakOf = (load: { seconds: number; share: number }) =>
    mm1((served / (HOURS_PER_MONTH * 3600)) * peakFactor * load.share, load.share > 0 ? load.seconds / load.share : 0);
  const peak = withWorkers ? peakOf(busiest) : mm1((served / (HOURS_PER_MONTH * 3600)) * peakFactor, seconds);
  const plan: ThroughputPlan = {
    serverType,
    measuredOn: first.measuredOn,
    estimate: first.estimate,
    source: INFERENCE_SPEED_SOURCE,
    measured: INFERENCE_SPEED_MEASURED,
    parallelRequests: settings.ollama.parallelRequests,
    utilizationCeiling: UTILIZATION_CEILING,
    models,
    requestSeconds: round(seconds, 1),
    generationCapacityTokensPerMonth: capacity * outputTokens,
    capacityRequestsPerMonth: capacity,
    requestsPerMonth,
    busyHoursPerMonth: round(busyHours, 1),
    utilization: round(busyHours / HOURS_PER_MONTH, 3),
    fits,
    servedRequestsPerMonth: served,
    overflowRequestsPerMonth: overflow,
    fallbackShare: round(overflow / requestsPerMonth, 3),
    fallbackCosts,
    fallbackEurMonth: round(fallbackCosts.reduce((s, f) => s + f.eurMonth, 0), 2),
    peakFactor,
    peakUtilization: round(peak.utilization, 3),
    peakQueueDelaySeconds: Number.isFinite(peak.meanWaitSeconds) ? round(peak.meanWaitSeconds, 1) : null,
    peakMedianRequestSeconds: Number.isFinite(peak.medianResponseSeconds) ? round(peak.medianResponseSeconds, 1) : null,
    eurPerMillionOutputTokens: round(platformEurMonth / ((served * outputTokens) / 1e6), 2),
    cloudPerMillionOutputTokens: CLOUD_PRICES.map((p) => ({
      model: p.model,
      outputUsdPerMillion: p.outputUsdPerMillion,
      workloadUsdPerMillionOutput: round((inputTokens * p.inputUsdPerMillion + outputTokens * p.outputUsdPerMillion) / outputTokens, 2),
    })),
  };
  if (withWorkers && loads) {
    plan.nodes = loads.map((l) => {
      const speed = modelSpeed(l.node.serverType, shares[0].fileGb) ?? first;
      const q = peakOf(l);
      // As the plan's own: busy hours of the whole workload (whether it fits or not), the peak of what is served.
      const hours = (requestsPerMonth * l.seconds) / 3600;
      return {
        name: l.node.name,
        serverType: l.node.serverType,
        measuredOn: speed.measuredOn,
        estimate: speed.estimate,
        models: shares.filter((m) => l.node.models.has(m.name)).map((m) => m.name),
        requestsPerMonth: Math.round(requestsPerMonth * l.share),
        busyHoursPerMonth: round(hours, 1),
        utilization: round(hours / HOURS_PER_MONTH, 3),
        peakUtilization: round(q.utilization, 3),
        peakQueueDelaySeconds: Number.isFinite(q.meanWaitSeconds) ? round(q.meanWaitSeconds, 1) : null,
        peakMedianRequestSeconds: Number.isFinite(q.medianResponseSeconds) ? round(q.medianResponseSeconds, 1) : null,
      };
    });
  }
  if (uncovered > 0) plan.warning = whatWouldFit(settings, plan, shares, uncovered);
  return plan;
}

/** The warning for a workload above the ceiling without a fallback: a faster type, a smaller model, a fallback. */
function whatWouldFit(settings: Settings, plan: ThroughputPlan, shares: { name: string; fileGb: number; share: number }[], uncovered: number): string {
  const { requestsPerMonth } = settings.comparison;
  const current = settings.nodes.inference.serverType;
  const workers = settings.workers[settings.environment] ?? [];
  // The first node on another type, the extra nodes as they are: its capacity is the busiest node's.
  const capacityWith = (firstType: string) => {
    const loads = nodeLoads(servingNodes(settings, firstType), shares, settings);
    return loads === undefined ? undefined : capacityOfNodes(loads);
  };
  const fasterTypes = SERVER_TYPES.filter((t) => t.locations.includes(settings.location) && t.memoryGb >= current.memoryGb)
    .map((t) => ({ t, seconds: meanRequestSeconds(t.name, shares, settings), capacity: capacityWith(t.name) }))
    .filter((c) => c.seconds !== undefined && c.capacity !== undefined && c.capacity >= requestsPerMonth)
    .sort((a, b) => a.t.priceEurMonth - b.t.priceEurMonth);
  const largest = Math.max(...shares.map((s) => s.fileGb));
  const smaller = Object.entries(MODELS)
    .filter(([, m]) => !m.embedding && m.fileGb < largest)
    .map(([name, m]) => ({ name, seconds: meanRequestSeconds(current.name, [{ fileGb: m.fileGb, share: 1 }], settings) }))
    .filter((c) => c.seconds !== undefined && capacityFor(c.seconds) >= requestsPerMonth)
    .sort((a, b) => (b.seconds ?? 0) - (a.seconds ?? 0));
  const chat = plan.models.map((m) => m.model);
  const options = [
    fasterTypes.length > 0
      ? `a faster server type, ${fasterTypes[0].t.name} (ai-platform:inferenceServerType; capacity ${fasterTypes[0].capacity ?? 0} requests)`
      : `no catalogued server type in ${settings.location} serves it with these models${workers.length > 0 ? " on the first inference node" : ""}`,
    smaller.length > 0
      ? `a smaller model, ${smaller[0].name} (ai-platform:models; capacity ${capacityFor(smaller[0].seconds ?? 1)} requests on ${current.name})`
      : `no smaller catalogued model serves it on ${current.name}`,
    `a cloud fallback for the excess (ai-platform:fallbacks, e.g. ${chat[0]}=gpt-4o-mini with a cloudModels entry)`,
  ];
  if (workers.length > 0) {
    // More nodes like the first, serving every model: how many more make it fit (up to a handful).
    const setting = `ai-platform:${settings.environment}InferenceNodes`;
    const chatNames = new Set(shares.map((m) => m.name));
    const more = [1, 2, 3, 4, 5, 6, 7, 8].find((extra) => {
      const added = Array.from({ length: extra }, (_, i) => ({ name: `more-${i}`, serverType: current.name, models: chatNames }));
      const loads = nodeLoads([...servingNodes(settings, current.name), ...added], shares, settings);
      return loads !== undefined && capacityOfNodes(loads) >= requestsPerMonth;
    });
    options.splice(
      2,
      0,
      more === undefined
        ? `no handful of extra ${current.name} nodes serving every model (${setting})`
        : `${more} more inference node(s) of type ${current.name} serving every model (${setting})`,
    );
  }
  const busiest = plan.nodes?.reduce((a, b) => (b.utilization > a.utilization ? b : a));
  const where = busiest === undefined ? current.name : `its busiest inference node, ${busiest.name} (${busiest.serverType})`;
  return (
    `the workload needs ${plan.busyHoursPerMonth} busy hours a month on ${where} (utilization ` +
    `${Math.round(plan.utilization * 100)} %), above the ${Math.round(UTILIZATION_CEILING * 100)} % ceiling: it serves ` +
    `${plan.capacityRequestsPerMonth} of ${requestsPerMonth} requests a month and ${uncovered} have no cloud fallback. ` +
    `What would fit: ${options.join("; ")}`
  );
}
