/**
 * The inference node's services: Ollama (published nowhere), LiteLLM in front of it on the tailnet, Postgres
 * for LiteLLM's keys and spend, Qdrant on the tailnet, and the models pulled into Ollama.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { IMAGES } from "../catalog/images";
import type { CloudProvider, LiteLlmSettings, ModelSettings, OllamaSettings } from "../config";
import { CLOUD_PROVIDERS } from "../config";
import {
  CloudModelRoute,
  LITELLM_DATABASE_URL_ENV,
  LITELLM_LOCAL_ONLY_ENV,
  LITELLM_MASTER_KEY_ENV,
  LITELLM_SALT_KEY_ENV,
  renderLiteLlmConfig,
} from "../render/litellm";
import { ServiceContainer } from "./container";
import { BLACKBOX_PORT, blackboxExporter } from "./exporters";

export const OLLAMA_PORT = 11434;
export const LITELLM_PORT = 4000;
export const QDRANT_HTTP_PORT = 6333;
export const QDRANT_GRPC_PORT = 6334;

/** Where LiteLLM reads its rendered config. */
const LITELLM_CONFIG_PATH = "/app/config.yaml";

/** The environment variable holding each provider's key inside LiteLLM's container. */
export const CLOUD_KEY_ENV: Record<CloudProvider, string> = {
  openai: "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
  "openai-compatible": "OPENAI_COMPATIBLE_API_KEY",
};

export interface InferenceServicesArgs {
  provider: docker.Provider;
  /** The node's tailnet IPv4 address: LiteLLM and Qdrant listen there and nowhere else. */
  tailnetAddress: pulumi.Input<string>;
  /** Where the data volume is mounted on the node (state that must survive a server replacement). */
  dataDir: string;
  models: ModelSettings[];
  ollama: OllamaSettings;
  litellm: LiteLlmSettings;
  /** Memory limits, MiB, from the node's budget. */
  memoryMib: { ollama: number; litellm: number; postgres?: number; qdrant: number; blackbox: number };
  /** How the model pulls reach the node: over Tailscale SSH, like the Docker provider. */
  ssh: { host: pulumi.Input<string>; privateKey: pulumi.Input<string> };
}

export class InferenceServices extends pulumi.ComponentResource {
  /** OpenAI-compatible base URL on the tailnet. */
  readonly litellmUrl: pulumi.Output<string>;
  readonly qdrantUrl: pulumi.Output<string>;
  /** Secrets. */
  readonly litellmMasterKey: pulumi.Output<string>;
  readonly qdrantApiKey: pulumi.Output<string>;
  readonly qdrantReadOnlyApiKey: pulumi.Output<string>;

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
      {
        ...common,
        name: "ollama",
        image: IMAGES.ollama,
        memoryMib: args.memoryMib.ollama,
        // Published on no host address: only containers on the network reach it.
        ports: [],
        env: {
          OLLAMA_HOST: `0.0.0.0:${OLLAMA_PORT}`,
          OLLAMA_KEEP_ALIVE: args.ollama.keepAlive,
          OLLAMA_NUM_PARALLEL: String(args.ollama.parallelRequests),
          OLLAMA_MAX_LOADED_MODELS: String(args.ollama.maxLoadedModels),
          OLLAMA_CONTEXT_LENGTH: String(args.ollama.contextLength),
          OLLAMA_FLASH_ATTENTION: args.ollama.flashAttention ? "1" : "0",
          OLLAMA_KV_CACHE_TYPE: args.ollama.kvCacheType,
        },
        // Models are pulled again after a rebuild, so they stay off the (small, paid) data volume.
        volumes: [{ hostPath: "/var/lib/ai-platform/ollama", containerPath: "/root/.ollama" }],
        healthcheck: ["CMD", "ollama", "list"],
      },
      child,
    );

    // One pull per model: adding a model pulls only it, removing one removes it from the node.
    for (const model of args.models) {
      new command.remote.Command(
        `${name}-model-${model.name.replace(/[^a-z0-9.-]/gi, "-")}`,
        {
          connection: { host: args.ssh.host, user: "root", privateKey: args.ssh.privateKey },
          create: `docker exec ollama ollama pull ${model.name}`,
          delete: `docker exec ollama ollama rm ${model.name} || true`,
        },
        { ...child, dependsOn: [ollama.container] },
      );
    }

    let databaseUrl: pulumi.Output<string> | undefined;
    const postgres = args.litellm.database
      ? (() => {
          const password = secret("postgres-password", 40);
          databaseUrl = pulumi.secret(pulumi.interpolate`postgresql://litellm:${password}@postgres:5432/litellm`);
          return new ServiceContainer(
            `${name}-postgres`,
            {
              ...common,
              name: "postgres",
              image: IMAGES.postgres,
              memoryMib: args.memoryMib.postgres ?? 256,
              env: { POSTGRES_USER: "litellm", POSTGRES_DB: "litellm", PGDATA: "/var/lib/postgresql/data/pgdata" },
              secretEnv: { POSTGRES_PASSWORD: password },
              volumes: [{ hostPath: `${args.dataDir}/postgres`, containerPath: "/var/lib/postgresql/data" }],
              healthcheck: ["CMD", "pg_isready", "-U", "litellm", "-d", "litellm"],
            },
            child,
          );
        })()
      : undefined;

    const cloudModels: CloudModelRoute[] = args.litellm.cloudModels.map((m) => ({
      name: m.name,
      provider: m.provider,
      model: m.model,
      ...(m.apiBase ? { apiBase: m.apiBase } : {}),
      apiKeyEnv: CLOUD_KEY_ENV[m.provider],
      ...args.litellm.rateLimits[m.name],
    }));
    const config = renderLiteLlmConfig({
      ollamaApiBase: `http://ollama:${OLLAMA_PORT}`,
      // Chat models on /v1/chat/completions, embedding models on /v1/embeddings: both only through LiteLLM.
      localModels: args.models.map((m) => ({ name: m.name, embedding: m.embedding, ...args.litellm.rateLimits[m.name] })),
      cloudModels,
      fallbacks: args.litellm.fallbacks,
      database: args.litellm.database,
    });

    const cloudKeyEnv: Record<string, pulumi.Input<string>> = {};
    for (const provider of CLOUD_PROVIDERS) {
      const key = args.litellm.cloudKeys[provider];
      if (key && args.litellm.cloudModels.some((m) => m.provider === provider)) cloudKeyEnv[CLOUD_KEY_ENV[provider]] = key;
    }

    new ServiceContainer(
      `${name}-litellm`,
      {
        ...common,
        name: "litellm",
        image: IMAGES.litellm,
        memoryMib: args.memoryMib.litellm,
        ports: [{ port: LITELLM_PORT, hostIp: args.tailnetAddress }],
        files: [{ path: LITELLM_CONFIG_PATH, content: config }],
        command: ["--config", LITELLM_CONFIG_PATH, "--port", String(LITELLM_PORT), "--num_workers", "1"],
        env: { ...LITELLM_LOCAL_ONLY_ENV },
        secretEnv: {
          [LITELLM_MASTER_KEY_ENV]: this.litellmMasterKey,
          [LITELLM_SALT_KEY_ENV]: saltKey,
          ...(databaseUrl ? { [LITELLM_DATABASE_URL_ENV]: databaseUrl } : {}),
          ...cloudKeyEnv,
        },
        healthcheck: [
          "CMD",
          "python3",
          "-c",
          `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${LITELLM_PORT}/health/liveliness', timeout=5)`,
        ],
      },
      { ...child, dependsOn: [ollama.container, ...(postgres ? [postgres.container] : [])] },
    );

    new ServiceContainer(
      `${name}-qdrant`,
      {
        ...common,
        name: "qdrant",
        image: IMAGES.qdrant,
        memoryMib: args.memoryMib.qdrant,
        ports: [
          { port: QDRANT_HTTP_PORT, hostIp: args.tailnetAddress },
          { port: QDRANT_GRPC_PORT, hostIp: args.tailnetAddress },
        ],
        secretEnv: {
          QDRANT__SERVICE__API_KEY: this.qdrantApiKey,
          QDRANT__SERVICE__READ_ONLY_API_KEY: this.qdrantReadOnlyApiKey,
        },
        env: { QDRANT__TELEMETRY_DISABLED: "true" },
        // On the data volume: a server replacement keeps the collections.
        volumes: [
          { hostPath: `${args.dataDir}/qdrant/storage`, containerPath: "/qdrant/storage" },
          { hostPath: `${args.dataDir}/qdrant/snapshots`, containerPath: "/qdrant/snapshots" },
        ],
        healthcheck: ["CMD-SHELL", `bash -c ':> /dev/tcp/127.0.0.1/${QDRANT_HTTP_PORT}'`],
      },
      child,
    );

    // Ollama answers no one outside its network and has no /metrics: this exporter, on the same network and
    // on the tailnet for the operations node's Prometheus, is how its health is seen.
    new ServiceContainer(
      `${name}-blackbox`,
      blackboxExporter({ ...common, memoryMib: args.memoryMib.blackbox, ports: [{ port: BLACKBOX_PORT, hostIp: args.tailnetAddress }] }),
      child,
    );

    this.litellmUrl = pulumi.interpolate`http://${args.tailnetAddress}:${LITELLM_PORT}/v1`;
    this.qdrantUrl = pulumi.interpolate`http://${args.tailnetAddress}:${QDRANT_HTTP_PORT}`;
    this.registerOutputs({ litellmUrl: this.litellmUrl, qdrantUrl: this.qdrantUrl });
  }
}
