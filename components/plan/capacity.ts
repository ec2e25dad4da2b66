/**
 * The capacity planner: does each node's workload fit its RAM and disk? Pure: settings in, budget out.
 * It runs before any resource is declared, so a stack that would run out of memory at 3 AM stops at preview
 * with a message that says what would fit instead.
 */
import { SERVER_TYPES, ServerType } from "../catalog/serverTypes";
import { WORKER, type NodeRole, type Role } from "../catalog/services";
import { INFERENCE_NODES_SETTING, qdrantPeers, type InferenceWorker, type KvCacheType, type ModelSettings, type OllamaSettings, type Settings } from "../config";

const MIB_PER_GB = 1e9 / 2 ** 20;
const MIB_PER_GIB = 1024;

/**
 * Memory kept for the kernel, systemd, sshd, tailscaled, containerd and dockerd. A Hetzner "4 GB" server
 * shows about 3.7 GiB to the OS; the rest of the reserve is the daemons' working set.
 */
export const OS_RESERVE_MIB = 768;
/** Disk kept for the OS, Docker images and logs, in GB. */
export const OS_DISK_GB = 12;
/** Ollama's own process: the runner and its buffers beside the weights and the KV cache. */
export const OLLAMA_RUNTIME_MIB = 256;

/** One line of a node's memory budget; its `mib` becomes the container's memory limit. */
export interface MemoryItem {
  /** What the memory is for, e.g. "ollama". */
  name: string;
  mib: number;
  /** How the figure was reached, for the plan's table. */
  detail: string;
}

export interface NodeBudget {
  role: NodeRole;
  serverType: ServerType;
  totalMib: number;
  reserveMib: number;
  items: MemoryItem[];
  usedMib: number;
  /** What is left after the reserve and every item; negative when it does not fit. */
  headroomMib: number;
  diskGb: number;
  diskUsedGb: number;
}

/** The share of an f16 KV cache that each cache type takes; quantization needs flash attention. */
const KV_CACHE_SHARE: Record<KvCacheType, number> = { f16: 1, q8_0: 0.5, q4_0: 0.25 };

type OllamaSizing = Pick<OllamaSettings, "contextLength" | "parallelRequests" | "maxLoadedModels"> &
  Partial<Pick<OllamaSettings, "flashAttention" | "kvCacheType">>;

/** KV cache a chat model allocates when loaded: context x parallel requests x per-token size. */
export function kvCacheMib(model: ModelSettings, ollama: OllamaSizing): number {
  if (model.embedding) return 0;
  const share = ollama.flashAttention ? KV_CACHE_SHARE[ollama.kvCacheType ?? "f16"] : 1;
  return (model.kvCacheKibPerToken * ollama.contextLength * ollama.parallelRequests * share) / 1024;
}

function modelMib(model: ModelSettings, ollama: OllamaSizing): number {
  return model.fileGb * MIB_PER_GB + kvCacheMib(model, ollama);
}

/**
 * Ollama's peak: the `maxLoadedModels` largest chat models at once, plus every embedding model (small, and
 * loaded beside a chat model in a retrieval request), plus the runtime.
 */
export function ollamaMemory(models: ModelSettings[], ollama: OllamaSizing): MemoryItem {
  const chat = models.filter((m) => !m.embedding).sort((a, b) => modelMib(b, ollama) - modelMib(a, ollama));
  const loaded = [...chat.slice(0, ollama.maxLoadedModels), ...models.filter((m) => m.embedding)];
  const mib = Math.ceil(OLLAMA_RUNTIME_MIB + loaded.reduce((sum, m) => sum + modelMib(m, ollama), 0));
  const parts = loaded.map((m) => {
    const kv = kvCacheMib(m, ollama);
    return kv > 0 ? `${m.name} ${gb(m.fileGb * MIB_PER_GB)} + KV ${gb(kv)}` : `${m.name} ${gb(m.fileGb * MIB_PER_GB)}`;
  });
  return { name: "ollama", mib, detail: `${parts.join(", ")}, runtime ${gb(OLLAMA_RUNTIME_MIB)}` };
}

/** Formats MiB as GB with one decimal, the unit Hetzner sells RAM in. */
export function gb(mib: number): string {
  return `${(mib / MIB_PER_GIB).toFixed(1)} GB`;
}

export function budgetFor(role: NodeRole, serverType: ServerType, items: MemoryItem[], diskUsedGb: number): NodeBudget {
  const totalMib = serverType.memoryGb * MIB_PER_GIB;
  const usedMib = items.reduce((sum, i) => sum + i.mib, 0);
  return {
    role,
    serverType,
    totalMib,
    reserveMib: OS_RESERVE_MIB,
    items,
    usedMib,
    headroomMib: totalMib - OS_RESERVE_MIB - usedMib,
    diskGb: serverType.diskGb,
    diskUsedGb: OS_DISK_GB + diskUsedGb,
  };
}

/**
 * Memory of the services whose need does not depend on settings, in MiB. Each figure becomes the
 * container's memory limit. Sources: LiteLLM's production guide (about 1 GiB per worker; the container runs
 * one worker, forked by gunicorn, and the process that serves its metrics port: about 0.8 GiB together at
 * rest, measured by proportional set size with 1.110.2 after the real-proxy test's requests, and a peak above
 * the limit goes to the container's swap allowance, as much again), Grafana's
 * installation requirements (512 MB minimum), cAdvisor's own reports of 40-90 MiB when tuned, about 700
 * node-exporter series per host, and each image's idle footprint.
 */
export const SERVICE_MEMORY_MIB = {
  litellm: 1024,
  postgres: 256,
  nodeExporter: 64,
  cadvisor: 128,
  blackbox: 32,
  // About 3 kB per active series: two nodes' exporters, cAdvisor, LiteLLM and Qdrant are some 10k series,
  // 30 MB; the rest is the query engine, compaction and the WAL replay at start.
  prometheus: 512,
  alertmanager: 64,
  grafana: 512,
  // Coolify's own containers (app, database, Redis, realtime, proxy) as its installer asks: 2 GB.
  coolify: 2048,
} as const;

/** Qdrant's floor beside its vectors: the process, its WAL and its optimizer's buffers. */
export const QDRANT_BASE_MIB = 192;

/**
 * Qdrant's memory: vectors x dimensions x 4 bytes x 1.5 (index and payload overhead), plus its base. In a
 * cluster, each peer is sized for every vector too: a collection gets one shard per peer that exists when it is
 * made, each kept `replicationFactor` times, and its shards stay where they were placed when peers join, so the
 * first peers of a cluster that grew hold a copy of everything until shards are moved (README, "Qdrant across
 * the inference nodes"). It also keeps each peer's limit the same whatever the number of peers, so adding or
 * removing a node does not restart the others' Qdrant.
 */
export function qdrantMemory(vectors: number, dimensions: number, cluster?: { peers: number }): MemoryItem {
  const vectorMib = (vectors * dimensions * 4 * 1.5) / 2 ** 20;
  const copies = cluster && cluster.peers > 1 ? ` (each of ${cluster.peers} peers may hold a copy of every one)` : "";
  return {
    name: "qdrant",
    mib: Math.ceil((QDRANT_BASE_MIB + vectorMib) / 16) * 16,
    detail: `${vectors} vectors${copies} x ${dimensions} dims x 4 B x 1.5 = ${gb(vectorMib)}, base ${gb(QDRANT_BASE_MIB)}`,
  };
}

/** The stack's Qdrant cluster as the memory plan sees it: its peers. */
function qdrantCluster(settings: Settings): { peers: number } {
  return { peers: qdrantPeers(settings.workers[settings.environment]) };
}

const fixed = (name: keyof typeof SERVICE_MEMORY_MIB, detail: string): MemoryItem => ({
  name,
  mib: SERVICE_MEMORY_MIB[name],
  detail,
});

/** Exporters run on both nodes. */
const exporters = (): MemoryItem[] => [
  fixed("nodeExporter", "node-exporter"),
  fixed("cadvisor", "cAdvisor, housekeeping tuned down"),
];

/** The workloads each node carries; each service group's items are its containers' memory limits. */
export function workloads(settings: Settings): Record<Role, { items: MemoryItem[]; diskGb: number }> {
  return {
    inference: {
      items: [
        ollamaMemory(settings.models, settings.ollama),
        fixed("litellm", "one worker"),
        ...(settings.litellm.database ? [fixed("postgres", "LiteLLM's keys and spend")] : []),
        qdrantMemory(settings.qdrant.vectors, settings.qdrant.dimensions, qdrantCluster(settings)),
        fixed("blackbox", "probes Ollama from inside its network"),
        ...exporters(),
      ],
      diskGb: settings.models.reduce((sum, m) => sum + m.fileGb, 0),
    },
    operations: {
      items: [
        fixed("prometheus", `retention ${settings.operations.retention.days} days or ${settings.operations.retention.gb} GB`),
        fixed("alertmanager", "routes and silences"),
        fixed("blackbox", "probes the services' health endpoints"),
        fixed("grafana", "Grafana's stated minimum"),
        ...(settings.operations.coolify ? [fixed("coolify", "Coolify's stated minimum, its own containers")] : []),
        ...exporters(),
      ],
      // Coolify warns below 30 GB of disk for its images and builds.
      diskGb: settings.operations.coolify ? 30 : 0,
    },
  };
}

/** The memory limits, MiB, of the inference node's containers; postgres only when LiteLLM has a database. */
export interface InferenceLimits {
  ollama: number;
  litellm: number;
  postgres?: number;
  qdrant: number;
  blackbox: number;
  nodeExporter: number;
  cadvisor: number;
}

/** The memory limits, MiB, of the operations node's containers; coolify only when it is installed. */
export interface OperationsLimits {
  prometheus: number;
  alertmanager: number;
  blackbox: number;
  grafana: number;
  coolify?: number;
  nodeExporter: number;
  cadvisor: number;
}

/** Each node's budget, with the memory limit of each of its services. */
export interface CapacityPlan {
  inference: NodeBudget & { limits: InferenceLimits };
  operations: NodeBudget & { limits: OperationsLimits };
}

export function planCapacity(settings: Settings): CapacityPlan {
  const load = workloads(settings);
  const budget = (role: Role) =>
    budgetFor(role, settings.nodes[role].serverType, load[role].items, load[role].diskGb);
  const inference = budget("inference");
  const operations = budget("operations");
  const limit = limitsOf(inference);
  const opsLimit = limitsOf(operations);
  return {
    inference: {
      ...inference,
      limits: {
        ollama: limit("ollama"),
        litellm: limit("litellm"),
        ...(settings.litellm.database ? { postgres: limit("postgres") } : {}),
        qdrant: limit("qdrant"),
        blackbox: limit("blackbox"),
        nodeExporter: limit("nodeExporter"),
        cadvisor: limit("cadvisor"),
      },
    },
    operations: {
      ...operations,
      limits: {
        prometheus: opsLimit("prometheus"),
        alertmanager: opsLimit("alertmanager"),
        blackbox: opsLimit("blackbox"),
        grafana: opsLimit("grafana"),
        ...(settings.operations.coolify ? { coolify: opsLimit("coolify") } : {}),
        nodeExporter: opsLimit("nodeExporter"),
        cadvisor: opsLimit("cadvisor"),
      },
    },
  };
}

/** A lookup of the memory limit the budget gives each of its items, by the item's name. */
function limitsOf(budget: NodeBudget): (name: string) => number {
  return (name) => {
    const item = budget.items.find((i) => i.name === name);
    if (!item) throw new Error(`the ${budget.role} node's budget has no item ${name}`);
    return item.mib;
  };
}

/**
 * What is wrong with a budget, phrased as what to change: empty when the node fits.
 * The suggested server type is the cheapest one in the same location that would hold the same workload.
 */
export function capacityProblems(settings: Settings, budgets: Record<Role, NodeBudget>): string[] {
  return Object.values(budgets).flatMap((budget) => {
    const key = `${settings.project}:${budget.role}ServerType`;
    return budgetProblems(settings, budget, {
      what: `the ${budget.role} node`,
      useType: (type) => `use ${type} (${key})`,
      models: budget.role === "inference" ? settings.models : undefined,
      coolify: budget.role === "operations" && settings.operations.coolify,
    });
  });
}

/** What a budget's problems are phrased about: the node, where its type is set, the models it holds. */
interface BudgetSubject {
  /** e.g. "the inference node", "the inference node \"b\"". */
  what: string;
  /** The fix that names a server type, e.g. "use cx53 (ai-platform:inferenceServerType)". */
  useType: (type: string) => string;
  /** The models the node's Ollama holds, when it runs one. */
  models?: ModelSettings[];
  coolify?: boolean;
}

function budgetProblems(settings: Settings, budget: NodeBudget, subject: BudgetSubject): string[] {
  const problems: string[] = [];
  const needMib = budget.reserveMib + budget.usedMib;
  const bigger = (fits: (t: ServerType) => boolean) =>
    SERVER_TYPES.filter((t) => t.locations.includes(settings.location) && fits(t)).sort(
      (a, b) => a.priceEurMonth - b.priceEurMonth,
    )[0];
  if (budget.headroomMib < 0) {
    const fix: string[] = [];
    if (subject.coolify) {
      fix.push(`turn Coolify off (${settings.project}:coolify false)`);
    }
    if (subject.models !== undefined) {
      const largest = [...subject.models].sort((a, b) => b.fileGb - a.fileGb)[0];
      if (largest && subject.models.length > 1) fix.push(`drop ${largest.name}`);
      else if (largest) fix.push(`use a smaller model than ${largest.name}`);
      if (settings.ollama.contextLength > 2048) fix.push("lower the context");
      if (settings.ollama.parallelRequests > 1) fix.push("lower parallelRequests");
    }
    const type = bigger((t) => t.memoryGb * MIB_PER_GIB >= needMib && t.diskGb >= budget.diskUsedGb);
    if (type) fix.push(subject.useType(type.name));
    problems.push(
      `${subject.what} needs ${gb(needMib)} but ${budget.serverType.name} has ` +
        `${budget.serverType.memoryGb} GB (${budget.items.map((i) => `${i.name} ${gb(i.mib)}`).join(", ")}, ` +
        `OS ${gb(budget.reserveMib)}): ${fix.join(", or ")}`,
    );
  }
  if (budget.diskUsedGb > budget.diskGb) {
    const type = bigger((t) => t.diskGb >= budget.diskUsedGb && t.memoryGb * MIB_PER_GIB >= needMib);
    problems.push(
      `${subject.what} needs ${budget.diskUsedGb.toFixed(1)} GB of disk but ` +
        `${budget.serverType.name} has ${budget.diskGb} GB: drop a model` +
        (type ? `, or ${subject.useType(type.name)}` : ""),
    );
  }
  return problems;
}

/** The memory limits, MiB, of a worker's containers. */
export interface WorkerLimits {
  ollama: number;
  /** Its Qdrant peer (the environment's Qdrant is a cluster as soon as it has a worker). */
  qdrant: number;
  nodeExporter: number;
  cadvisor: number;
}

/** An extra inference node's budget: Ollama with the models it serves, its Qdrant peer, and the exporters. */
export type WorkerBudget = NodeBudget & { name: string; limits: WorkerLimits };

/** The budget of each of the stack's own extra inference nodes, in the setting's order. */
export function planWorkers(settings: Settings): WorkerBudget[] {
  return settings.workers[settings.environment].map((worker) => workerBudget(settings, worker));
}

function workerBudget(settings: Settings, worker: InferenceWorker): WorkerBudget {
  const items = [
    ollamaMemory(worker.models, settings.ollama),
    qdrantMemory(settings.qdrant.vectors, settings.qdrant.dimensions, qdrantCluster(settings)),
    ...exporters(),
  ];
  const budget = budgetFor(WORKER, worker.serverType, items, worker.models.reduce((sum, m) => sum + m.fileGb, 0));
  const limit = limitsOf(budget);
  return {
    ...budget,
    name: worker.name,
    limits: { ollama: limit("ollama"), qdrant: limit("qdrant"), nodeExporter: limit("nodeExporter"), cadvisor: limit("cadvisor") },
  };
}

/** What is wrong with each worker's budget, phrased as what to change in its entry: empty when all fit. */
export function workerCapacityProblems(settings: Settings, budgets: readonly WorkerBudget[]): string[] {
  const key = `${settings.project}:${INFERENCE_NODES_SETTING[settings.environment]}`;
  return budgets.flatMap((budget) => {
    const worker = settings.workers[settings.environment].find((w) => w.name === budget.name)!;
    return budgetProblems(settings, budget, {
      what: `the inference node "${budget.name}" (${key})`,
      useType: (type) => `use type=${type} in its entry`,
      models: worker.models,
    });
  });
}
