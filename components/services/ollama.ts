/**
 * Ollama, the same container on every node that runs it: on the inference node beside LiteLLM (published
 * nowhere, reached on their Docker network), and on each extra inference node ("worker"), where it is
 * published on the tailnet address for the environment's LiteLLM node alone (the services catalog and the
 * tailnet policy say so). WorkerInference is a worker's Ollama and its model pulls.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { IMAGES } from "../catalog/images";
import { NodeRole, port, SERVICES, WORKER } from "../catalog/services";
import type { ModelSettings, OllamaSettings } from "../config";
import { ServiceContainer, ServiceContainerArgs, tailnetPorts } from "./container";
import { Models } from "./models";

const OLLAMA_PORT = port("ollama");

/** Ollama's container on a node of `role`: its ports are those the services catalog publishes there. */
export function ollamaContainer(args: {
  ollama: OllamaSettings;
  memoryMib: number;
  role: NodeRole;
  tailnetAddress: pulumi.Input<string>;
}): Omit<ServiceContainerArgs, "provider" | "network"> {
  return {
    name: SERVICES.ollama.container,
    image: IMAGES.ollama,
    memoryMib: args.memoryMib,
    // On the inference node published on no host address: only containers on its network reach it.
    ports: tailnetPorts("ollama", args.role, args.tailnetAddress),
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
  };
}

/** Ollama's base URL on a worker, as LiteLLM and the probe reach it, e.g. "http://100.64.0.7:11434". */
export function workerOllamaUrl(tailnetAddress: string): string {
  return `http://${tailnetAddress}:${OLLAMA_PORT}`;
}

export interface WorkerInferenceArgs {
  /** The worker's Docker provider (components/machines/nodeReadiness.ts). */
  provider: docker.Provider;
  /** The worker's tailnet IPv4 address: Ollama listens there and nowhere else. */
  tailnetAddress: pulumi.Input<string>;
  /** The models it serves, pulled one by one. */
  models: ModelSettings[];
  ollama: OllamaSettings;
  /** Ollama's memory limit, MiB, from the worker's budget (components/plan/capacity.ts planWorkers). */
  memoryMib: number;
  /** How the pulls reach the worker: over Tailscale SSH. */
  ssh: { host: pulumi.Input<string>; privateKey: pulumi.Input<string> };
}

export class WorkerInference extends pulumi.ComponentResource {
  /** The pulls: LiteLLM names the worker's deployments once they are done. */
  readonly models: Models;

  constructor(name: string, args: WorkerInferenceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:services:WorkerInference", name, {}, opts);
    const ollama = new ServiceContainer(
      `${name}-ollama`,
      { provider: args.provider, ...ollamaContainer({ ollama: args.ollama, memoryMib: args.memoryMib, role: WORKER, tailnetAddress: args.tailnetAddress }) },
      { parent: this },
    );
    this.models = new Models(
      `${name}-models`,
      { models: args.models.map((m) => ({ name: m.name, fileGb: m.fileGb })), ollama: ollama.container, ssh: args.ssh },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
