/**
 * One service container, declared the same way everywhere: a pinned image pulled through the node's Docker
 * provider, a memory limit from the capacity plan, a restart policy, every published port bound to a named
 * host address, secrets only as secret inputs.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ImagePin, imageRef } from "../catalog/images";
import { NodeRole, publishedPorts, ServiceName } from "../catalog/services";

export interface PublishedPort {
  /** Port inside the container. */
  port: number;
  /** Port on the host; the container's port when not given. */
  hostPort?: number;
  /** The host address it listens on: the node's tailnet address or 127.0.0.1, never all addresses. */
  hostIp: pulumi.Input<string>;
}

/**
 * The ports the services catalog publishes for a service on a role's node, each bound to the node's tailnet
 * address: the one way a container's ports are published, so that they agree with the tailnet policy. A
 * cluster-only port (Qdrant's peer-to-peer) only when `cluster`.
 */
export function tailnetPorts(service: ServiceName, role: NodeRole, tailnetAddress: pulumi.Input<string>, cluster = false): PublishedPort[] {
  return publishedPorts(service, role, cluster).map((port) => ({ port, hostIp: tailnetAddress }));
}

export interface ServiceContainerArgs {
  /** Container name, also its host name on the Docker network (e.g. "ollama"). */
  name: string;
  image: ImagePin;
  /** Memory limit, MiB, from the node's budget in plan/capacity.ts. */
  memoryMib: number;
  /** The node's Docker provider (components/machines/nodeReadiness.ts). */
  provider: docker.Provider;
  /** The Docker network the service shares with its peers; none for a standalone service. */
  network?: pulumi.Input<string>;
  ports?: PublishedPort[];
  /** Plain environment variables. */
  env?: Record<string, pulumi.Input<string>>;
  /** Environment variables that carry credentials: passed as secrets. */
  secretEnv?: Record<string, pulumi.Input<string>>;
  /** Host directory -> container directory. Host paths live under the node's data volume for state. */
  volumes?: { hostPath: string; containerPath: string; readOnly?: boolean }[];
  /**
   * Files written into the container before it starts (rendered configs, and credentials for services that
   * read them from files). Docker writes them as root; `mode` is an octal string such as "0440".
   */
  files?: { path: string; content: pulumi.Input<string>; mode?: string }[];
  /** The command, with the node's tailnet address where a flag names it (Qdrant's peers). */
  command?: pulumi.Input<pulumi.Input<string>[]>;
  /** Docker health check: the test command, run every 30 s. */
  healthcheck?: string[];
  /** Extra container options (user, capabilities, mounts) for the services that need them. */
  extra?: Partial<docker.ContainerArgs>;
}

export class ServiceContainer extends pulumi.ComponentResource {
  readonly container: docker.Container;
  readonly containerName: string;

  constructor(name: string, args: ServiceContainerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:services:Container", name, {}, opts);
    const providerOpts = { parent: this, provider: args.provider };
    const image = new docker.RemoteImage(name, { name: imageRef(args.image), keepLocally: true }, providerOpts);

    const plainEnv = Object.entries(args.env ?? {}).map(([k, v]) => pulumi.interpolate`${k}=${v}`);
    const secretEnv = Object.entries(args.secretEnv ?? {}).map(([k, v]) => pulumi.secret(pulumi.interpolate`${k}=${v}`));
    const envs = secretEnv.length > 0 ? pulumi.secret(pulumi.all([...plainEnv, ...secretEnv])) : pulumi.all(plainEnv);

    this.containerName = args.name;
    this.container = new docker.Container(
      name,
      {
        name: args.name,
        image: image.imageId,
        restart: "unless-stopped",
        memory: args.memoryMib,
        // Docker's own default made explicit (moby adaptContainerSettings: MemorySwap = 2 x Memory when only
        // Memory is set): the provider reads memory_swap back, and left unset it shows as a change on every
        // up (found in the local cloud, test/lifecycle/dev.test.ts).
        memorySwap: args.memoryMib * 2,
        networksAdvanced: args.network === undefined ? undefined : [{ name: args.network, aliases: [args.name] }],
        ports: (args.ports ?? []).map((p) => ({ internal: p.port, external: p.hostPort ?? p.port, ip: p.hostIp })),
        envs,
        volumes: (args.volumes ?? []).map((v) => ({ ...v })),
        uploads: (args.files ?? []).map((f) => ({
          file: f.path,
          content: f.content,
          ...(f.mode ? { permissions: f.mode } : {}),
        })),
        command: args.command,
        // Durations as Go prints them ("1m0s", not "60s"): the provider reads them back that way, and any
        // other spelling shows as a change on every up (found in the local cloud, test/lifecycle/dev.test.ts).
        healthcheck: args.healthcheck
          ? { tests: args.healthcheck, interval: "30s", timeout: "10s", retries: 3, startPeriod: "1m0s" }
          : undefined,
        // Log rotation comes from the node's daemon.json; a container that keeps failing stays visible
        // (restarting) rather than gone, so the restart alert can see it.
        ...args.extra,
      },
      // A component's dependsOn does not reach its children: the container must wait itself for what the
      // service was declared after (LiteLLM for Ollama and the model pulls, Prometheus for its data directories).
      { ...providerOpts, deleteBeforeReplace: true, dependsOn: opts?.dependsOn },
    );
    this.registerOutputs({ containerName: this.containerName });
  }
}
