/** node-exporter and cAdvisor on one node, published on its tailnet address for Prometheus to scrape; the blackbox exporter. */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { IMAGES } from "../catalog/images";
import { NodeRole, Role, SERVICES } from "../catalog/services";
import { TEXTFILE_COLLECTOR_DIR } from "../render/backup";
import { renderBlackboxConfig } from "../render/prometheus";
import { ServiceContainer, ServiceContainerArgs, tailnetPorts } from "./container";

/**
 * A blackbox exporter on a node's service network; the catalog publishes it only where Prometheus cannot reach
 * it otherwise (the inference node, where it probes Ollama from inside Ollama's network).
 */
export function blackboxExporter(args: {
  provider: docker.Provider;
  network: pulumi.Input<string>;
  memoryMib: number;
  role: Role;
  tailnetAddress: pulumi.Input<string>;
}): ServiceContainerArgs {
  return {
    provider: args.provider,
    network: args.network,
    name: SERVICES.blackbox.container,
    image: IMAGES.blackboxExporter,
    memoryMib: args.memoryMib,
    ports: tailnetPorts("blackbox", args.role, args.tailnetAddress),
    files: [{ path: "/etc/blackbox/blackbox.yml", content: renderBlackboxConfig() }],
    command: ["--config.file=/etc/blackbox/blackbox.yml"],
  };
}

/** Where node-exporter's textfile collector reads: the host's TEXTFILE_COLLECTOR_DIR, where each backup writes its result. */
export const NODE_EXPORTER_TEXTFILE_DIR = "/textfile";

/**
 * node-exporter's flags: the host's root filesystem, mounted at /host, without pseudo and Docker-layer mounts;
 * the textfile collector (on by default) reads the backups' results from NODE_EXPORTER_TEXTFILE_DIR.
 */
export const NODE_EXPORTER_FLAGS: readonly string[] = Object.freeze([
  "--path.rootfs=/host",
  "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run|var/lib/docker/.+)($|/)",
  `--collector.textfile.directory=${NODE_EXPORTER_TEXTFILE_DIR}`,
]);

/**
 * cAdvisor's flags, tuned to stay small: Docker containers only, slower housekeeping, no per-process or
 * disk-usage metrics (their collection is what makes cAdvisor's memory unbounded). The metric-name test reads
 * `--disable_metrics` to know which of cAdvisor's names exist.
 */
export const CADVISOR_FLAGS: readonly string[] = Object.freeze([
  "--docker_only=true",
  "--housekeeping_interval=30s",
  "--max_housekeeping_interval=60s",
  "--store_container_labels=false",
  "--disable_metrics=percpu,process,sched,tcp,udp,disk,diskIO,hugetlb,referenced_memory,resctrl,advtcp,cpu_topology",
]);

export interface ExportersArgs {
  provider: docker.Provider;
  /** The node's role: which of the exporters' ports the catalog publishes there. */
  role: NodeRole;
  tailnetAddress: pulumi.Input<string>;
  memoryMib: { nodeExporter: number; cadvisor: number };
}

export class Exporters extends pulumi.ComponentResource {
  constructor(name: string, args: ExportersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:services:Exporters", name, {}, opts);
    const common = { provider: args.provider };
    new ServiceContainer(
      `${name}-node-exporter`,
      {
        ...common,
        name: SERVICES.nodeExporter.container,
        image: IMAGES.nodeExporter,
        memoryMib: args.memoryMib.nodeExporter,
        ports: tailnetPorts("nodeExporter", args.role, args.tailnetAddress),
        command: [...NODE_EXPORTER_FLAGS],
        volumes: [
          { hostPath: "/", containerPath: "/host", readOnly: true },
          // Its own mount, read-only: the collector reads the backups' results and nothing else of the host's.
          { hostPath: TEXTFILE_COLLECTOR_DIR, containerPath: NODE_EXPORTER_TEXTFILE_DIR, readOnly: true },
        ],
        // The host's PID namespace so its process and pressure metrics are the node's, not the container's.
        extra: { pidMode: "host" },
      },
      { parent: this },
    );
    new ServiceContainer(
      `${name}-cadvisor`,
      {
        ...common,
        name: SERVICES.cadvisor.container,
        image: IMAGES.cadvisor,
        memoryMib: args.memoryMib.cadvisor,
        ports: tailnetPorts("cadvisor", args.role, args.tailnetAddress),
        command: [...CADVISOR_FLAGS],
        volumes: [
          { hostPath: "/", containerPath: "/rootfs", readOnly: true },
          { hostPath: "/var/run", containerPath: "/var/run", readOnly: true },
          { hostPath: "/sys", containerPath: "/sys", readOnly: true },
          { hostPath: "/var/lib/docker", containerPath: "/var/lib/docker", readOnly: true },
        ],
        extra: { devices: [{ hostPath: "/dev/kmsg", containerPath: "/dev/kmsg" }], privileged: false },
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
