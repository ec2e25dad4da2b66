/**
 * The inference node's services: Ollama (published nowhere), LiteLLM in front of it on the tailnet, Postgres
 * for LiteLLM's keys and spend, Qdrant on the tailnet, the blackbox exporter that probes Ollama, and the
 * credentials they are reached with. The models Ollama serves are pulled by services/models.ts, declared here
 * between Ollama and LiteLLM so that LiteLLM waits for them.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { CLOUD_KEY_ENV, CLOUD_PROVIDERS } from "../catalog/cloudProviders";
import { IMAGES } from "../catalog/images";
import { port, SERVICES } from "../catalog/services";
import type { ExternalBackend, LiteLlmSettings, ModelSettings, OllamaSettings } from "../config";
import {
  CloudModelRoute,
  LITELLM_DATABASE_URL_ENV,
  LITELLM_LOCAL_ONLY_ENV,
  LITELLM_MASTER_KEY_ENV,
  LITELLM_METRICS_DIR_ENV,
  LITELLM_SALT_KEY_ENV,
  LITELLM_SITECUSTOMIZE,
  liteLlmCommand,
  liteLlmStartupEnv,
  renderLiteLlmConfig,
  type LiteLlmSpec,
} from "../render/litellm";
import type { QdrantClusterSettings } from "../render/qdrant";
import { ServiceContainer, ServiceContainerArgs, tailnetPorts } from "./container";
import { blackboxExporter } from "./exporters";
import { FormerHome } from "./formerHome";
import { Models } from "./models";
import { ollamaContainer, workerOllamaUrl } from "./ollama";
import { qdrantContainer } from "./qdrant";

const OLLAMA_PORT = port("ollama");
const LITELLM_PORT = port("litellm");
const QDRANT_HTTP_PORT = port("qdrant");

/** Where LiteLLM reads its rendered config. */
const LITELLM_CONFIG_PATH = "/app/config.yaml";
/**
 * Where LiteLLM's worker writes its metric samples for its metrics process: a tmpfs, so that it exists before
 * LiteLLM starts, goes with the container and costs no disk. A few MiB of memory-mapped files.
 */
const LITELLM_METRICS_DIR = "/run/litellm-metrics";
/** Where LiteLLM's sitecustomize.py is (LITELLM_SITECUSTOMIZE: the worker's boot hang it prevents). */
const LITELLM_STARTUP_DIR = "/app/ai-platform-python";

export interface InferenceServicesArgs {
  provider: docker.Provider;
  /** The node's tailnet IPv4 address: LiteLLM and Qdrant listen there and nowhere else. */
  tailnetAddress: pulumi.Input<string>;
  /** Where the data volume is mounted on the node (state that must survive a server replacement). */
  dataDir: string;
  models: ModelSettings[];
  ollama: OllamaSettings;
  litellm: LiteLlmSettings;
  /**
   * The environment's external backends (components/config/backends.ts): more deployments of their models in
   * LiteLLM's config. Default none.
   */
  backends?: readonly ExternalBackend[];
  /**
   * The environment's extra inference nodes: LiteLLM lists each one's Ollama, on its tailnet address, as one more
   * deployment of the models it serves, and waits for its pulls (`ready`). Default none.
   */
  workers?: readonly InferenceWorkerRoute[];
  /**
   * Qdrant's cluster settings where the environment has extra inference nodes (this Qdrant is then the first
   * peer); none for the single-node Qdrant.
   */
  qdrantCluster?: QdrantClusterSettings;
  /** Memory limits, MiB, from the node's budget. */
  memoryMib: { ollama: number; litellm: number; postgres?: number; qdrant: number; blackbox: number };
  /** The model pulls (services/models.ts), a component of their own inside this one. */
  pulls: {
    /** Its name, e.g. "ai-prod-models". */
    name: string;
    /** How the pulls reach the node: over Tailscale SSH. */
    ssh: { host: pulumi.Input<string>; privateKey: pulumi.Input<string> };
    /** Where the pulls lived before the Models component existed. */
    formerHome?: FormerHome;
  };
}

/** An extra inference node as LiteLLM sees it. */
export interface InferenceWorkerRoute {
  /** Its name in the settings: its deployments' model_info.id is `<model>@<name>`. */
  name: string;
  /** Its tailnet IPv4 address, where its Ollama listens. */
  address: pulumi.Input<string>;
  models: { name: string; embedding: boolean }[];
  /** What LiteLLM waits for: the worker's model pulls. */
  ready?: pulumi.Resource;
}

export class InferenceServices extends pulumi.ComponentResource {
  /** OpenAI-compatible base URL on the tailnet. */
  readonly litellmUrl: pulumi.Output<string>;
  readonly qdrantUrl: pulumi.Output<string>;
  /** Secrets. */
  readonly litellmMasterKey: pulumi.Output<string>;
  readonly qdrantApiKey: pulumi.Output<string>;
  readonly qdrantReadOnlyApiKey: pulumi.Output<string>;
  /** Both keys, as Qdrant reads them: every peer of a cluster has the same. */
  readonly qdrantKeys: { QDRANT__SERVICE__API_KEY: pulumi.Output<string>; QDRANT__SERVICE__READ_ONLY_API_KEY: pulumi.Output<string> };
  /** Qdrant's container: the first peer, which the other peers of a cluster join. */
  readonly qdrant: docker.Container;
  /** The Ollama container: what pulls a model into it waits for. */
  readonly ollama: docker.Container;

  constructor(name: string, args: InferenceServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:services:Inference", name, {}, opts);
    const child = { parent: this };

    // Ollama and LiteLLM talk over this network; Ollama is reachable from nowhere else.
    const network = new docker.Network(name, { name: "ai-inference", driver: "bridge" }, { ...child, provider: args.provider });
    const common = { provider: args.provider, network: network.name };

    const secret = (suffix: string, length: number) =>
      new random.RandomPassword(`${name}-${suffix}`, { length, special: false }, child).result;
    // LiteLLM wants its master key to start with sk-; 48 characters of [A-Za-z0-9] are about 285 bits.
    this.litellmMasterKey = pulumi.secret(pulumi.interpolate`sk-${secret("litellm-master-key", 48)}`);
    // The salt encrypts the provider keys LiteLLM stores; changing it would make them unreadable.
    const saltKey = secret("litellm-salt-key", 48);
    this.qdrantApiKey = pulumi.secret(secret("qdrant-api-key", 48));
    this.qdrantReadOnlyApiKey = pulumi.secret(secret("qdrant-read-only-api-key", 48));

    const ollama = new ServiceContainer(
      `${name}-ollama`,
      { ...common, ...ollamaContainer({ ollama: args.ollama, memoryMib: args.memoryMib.ollama, role: "inference", tailnetAddress: args.tailnetAddress }) },
      child,
    );
    // LiteLLM depends on the pulls: an added model is pulled before LiteLLM's config names it, and a removed
    // one is deleted from Ollama (a removed resource, deleted at the end of the update) after LiteLLM's new
    // config has replaced the container. The Models component was a top-level one: the alias keeps its pulls.
    const models = new Models(
      args.pulls.name,
      {
        models: args.models.map((m) => ({ name: m.name, fileGb: m.fileGb })),
        ollama: ollama.container,
        ssh: args.pulls.ssh,
        formerHome: args.pulls.formerHome,
      },
      { ...child, aliases: [{ parent: pulumi.rootStackResource }] },
    );
    let databaseUrl: pulumi.Output<string> | undefined;
    let postgres: ServiceContainer | undefined;
    if (args.litellm.database) {
      const password = secret("postgres-password", 40);
      databaseUrl = pulumi.secret(
        pulumi.interpolate`postgresql://litellm:${password}@${SERVICES.postgres.container}:${port("postgres")}/litellm`,
      );
      postgres = new ServiceContainer(`${name}-postgres`, { ...common, ...postgresContainer(args, password) }, child);
    }
    const litellmSecrets = {
      [LITELLM_MASTER_KEY_ENV]: this.litellmMasterKey,
      [LITELLM_SALT_KEY_ENV]: saltKey,
      ...(databaseUrl ? { [LITELLM_DATABASE_URL_ENV]: databaseUrl } : {}),
    };
    new ServiceContainer(
      `${name}-litellm`,
      { ...common, ...litellmContainer(args, litellmSecrets) },
      {
        ...child,
        dependsOn: [ollama.container, models, ...(postgres ? [postgres.container] : []), ...(args.workers ?? []).flatMap((w) => (w.ready ? [w.ready] : []))],
      },
    );
    this.qdrantKeys = { QDRANT__SERVICE__API_KEY: this.qdrantApiKey, QDRANT__SERVICE__READ_ONLY_API_KEY: this.qdrantReadOnlyApiKey };
    // With extra inference nodes, the first peer of the cluster: the others join it (index.ts).
    this.qdrant = new ServiceContainer(
      `${name}-qdrant`,
      {
        ...common,
        ...qdrantContainer({
          role: "inference",
          tailnetAddress: args.tailnetAddress,
          dataDir: args.dataDir,
          memoryMib: args.memoryMib.qdrant,
          keys: this.qdrantKeys,
          cluster: args.qdrantCluster,
        }),
      },
      child,
    ).container;

    // Ollama answers no one outside its network and has no /metrics: this exporter, on the same network and
    // on the tailnet for the operations node's Prometheus, is how its health is seen.
    new ServiceContainer(
      `${name}-blackbox`,
      blackboxExporter({ ...common, memoryMib: args.memoryMib.blackbox, role: "inference", tailnetAddress: args.tailnetAddress }),
      child,
    );

    this.ollama = ollama.container;
    this.litellmUrl = pulumi.interpolate`http://${args.tailnetAddress}:${LITELLM_PORT}/v1`;
    this.qdrantUrl = pulumi.interpolate`http://${args.tailnetAddress}:${QDRANT_HTTP_PORT}`;
    this.registerOutputs({ litellmUrl: this.litellmUrl, qdrantUrl: this.qdrantUrl });
  }
}

type ContainerSpec = Omit<ServiceContainerArgs, "provider" | "network">;

function postgresContainer(args: InferenceServicesArgs, password: pulumi.Input<string>): ContainerSpec {
  return {
    name: SERVICES.postgres.container,
    image: IMAGES.postgres,
    memoryMib: args.memoryMib.postgres ?? 256,
    env: { POSTGRES_USER: "litellm", POSTGRES_DB: "litellm", PGDATA: "/var/lib/postgresql/data/pgdata" },
    secretEnv: { POSTGRES_PASSWORD: password },
    volumes: [{ hostPath: `${args.dataDir}/postgres`, containerPath: "/var/lib/postgresql/data" }],
    healthcheck: ["CMD", "pg_isready", "-U", "litellm", "-d", "litellm"],
  };
}

function litellmContainer(args: InferenceServicesArgs, secrets: Record<string, pulumi.Input<string>>): ContainerSpec {
  const cloudModels: CloudModelRoute[] = args.litellm.cloudModels.map((m) => ({
    name: m.name,
    provider: m.provider,
    model: m.model,
    ...(m.apiBase ? { apiBase: m.apiBase } : {}),
    apiKeyEnv: CLOUD_KEY_ENV[m.provider],
    ...args.litellm.rateLimits[m.name],
  }));
  const workers = args.workers ?? [];
  const render = (workerAddresses: string[]) => renderLiteLlmConfig({
    ollamaApiBase: `http://${SERVICES.ollama.container}:${OLLAMA_PORT}`,
    // Chat models on /v1/chat/completions, embedding models on /v1/embeddings: both only through LiteLLM.
    localModels: args.models.map((m) => ({ name: m.name, embedding: m.embedding, ...args.litellm.rateLimits[m.name] })),
    cloudModels,
    fallbacks: args.litellm.fallbacks,
    database: args.litellm.database,
    ...backendRouting(args.backends ?? [], workers.map((w, i) => ({ name: w.name, address: workerAddresses[i], models: w.models }))),
    // With one deployment per model and no routing setting, LiteLLM's own defaults: the config stays as it was.
    ...((args.backends ?? []).length > 0 || workers.length > 0 || args.litellm.routingSet ? { routing: args.litellm.routing } : {}),
  });
  // Without workers the config is plain text, as it always was; with some it waits for their addresses.
  const config = workers.length === 0 ? render([]) : pulumi.all(workers.map((w) => w.address)).apply(render);
  const cloudKeyEnv: Record<string, pulumi.Input<string>> = {};
  for (const provider of CLOUD_PROVIDERS) {
    const key = args.litellm.cloudKeys[provider];
    if (key && args.litellm.cloudModels.some((m) => m.provider === provider)) cloudKeyEnv[CLOUD_KEY_ENV[provider]] = key;
  }
  return {
    name: SERVICES.litellm.container,
    image: IMAGES.litellm,
    memoryMib: args.memoryMib.litellm,
    ports: tailnetPorts("litellm", "inference", args.tailnetAddress),
    files: [
      { path: LITELLM_CONFIG_PATH, content: config },
      { path: `${LITELLM_STARTUP_DIR}/sitecustomize.py`, content: LITELLM_SITECUSTOMIZE },
    ],
    command: liteLlmCommand({ configPath: LITELLM_CONFIG_PATH, port: LITELLM_PORT, metricsPort: port("litellmMetrics") }),
    env: { ...LITELLM_LOCAL_ONLY_ENV, [LITELLM_METRICS_DIR_ENV]: LITELLM_METRICS_DIR, ...liteLlmStartupEnv(LITELLM_STARTUP_DIR) },
    secretEnv: { ...secrets, ...cloudKeyEnv },
    healthcheck: [
      "CMD",
      "python3",
      "-c",
      `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${LITELLM_PORT}${SERVICES.litellm.health}', timeout=5)`,
    ],
    extra: { tmpfs: { [LITELLM_METRICS_DIR]: "rw,noexec,nosuid,size=64m" } },
  };
}

/**
 * The extra inference nodes and the backends as LiteLLM's deployments. A preferred backend is tried first
 * (order 1), the nodes' own Ollama (the inference node's and each worker's) and every other backend after it
 * (order 2) while it is cooled down; without a preferred backend, all share order 1, each by its weight (a
 * worker's is 1, as the inference node's).
 */
export function backendRouting(
  backends: readonly ExternalBackend[],
  workers: readonly { name: string; address: string; models: { name: string; embedding: boolean }[] }[] = [],
): Pick<LiteLlmSpec, "backends" | "localOrder"> {
  if (backends.length === 0 && workers.length === 0) return {};
  const anyPreferred = backends.some((b) => b.preferred);
  const localOrder = anyPreferred ? 2 : 1;
  return {
    localOrder,
    backends: [
      ...workers.map((w) => ({
        name: w.name,
        kind: "ollama" as const,
        apiBase: workerOllamaUrl(w.address),
        models: w.models.map((m) => ({ name: m.name, embedding: m.embedding })),
        order: localOrder,
        weight: 1,
      })),
      ...backends.map((b) => ({
        name: b.name,
        kind: b.kind,
        apiBase: b.url,
        models: b.models.map((m) => ({ name: m.name, embedding: m.embedding })),
        order: b.preferred ? 1 : localOrder,
        weight: b.weight,
      })),
    ],
  };
}
