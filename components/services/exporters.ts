/** node-exporter and cAdvisor on one node, published on its tailnet address for Prometheus to scrape. */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { IMAGES } from "../catalog/images";
import { renderBlackboxConfig } from "../render/prometheus";
import { PublishedPort, ServiceContainer, ServiceContainerArgs } from "./container";

export const NODE_EXPORTER_PORT = 9100;
export const CADVISOR_PORT = 8080;
/** The blackbox exporter, which probes the services' health endpoints for Prometheus. */
export const BLACKBOX_PORT = 9115;

/** A blackbox exporter on a node's service network; published only where Prometheus cannot reach it otherwise. */
export function blackboxExporter(args: {
  provider: docker.Provider;
  network: pulumi.Input<string>;
  memoryMib: number;
  ports: PublishedPort[];
}): ServiceContainerArgs {
  return {
    provider: args.provider,
    network: args.network,
    name: "blackbox",
    image: IMAGES.blackboxExporter,
    memoryMib: args.memoryMib,
    ports: args.ports,
    files: [{ path: "/etc/blackbox/blackbox.yml", content: renderBlackboxConfig() }],
    command: ["--config.file=/etc/blackbox/blackbox.yml"],
  };
}

export interface ExportersArgs {
  provider: docker.Provider;
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
        name: "node-exporter",
        image: IMAGES.nodeExporter,
        memoryMib: args.memoryMib.nodeExporter,
        ports: [{ port: NODE_EXPORTER_PORT, hostIp: args.tailnetAddress }],
        command: ["--path.rootfs=/host", "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run|var/lib/docker/.+)($|/)"],
        volumes: [{ hostPath: "/", containerPath: "/host", readOnly: true }],
        // The host's PID namespace so its process and pressure metrics are the node's, not the container's.
        extra: { pidMode: "host" },
      },
      { parent: this },
    );
    new ServiceContainer(
      `${name}-cadvisor`,
      {
        ...common,
        name: "cadvisor",
        image: IMAGES.cadvisor,
        memoryMib: args.memoryMib.cadvisor,
        ports: [{ port: CADVISOR_PORT, hostIp: args.tailnetAddress }],
        // Tuned to stay small: Docker containers only, slower housekeeping, no per-process or disk-usage
        // metrics (their collection is what makes cAdvisor's memory unbounded).
        command: [
          "--docker_only=true",
          "--housekeeping_interval=30s",
          "--max_housekeeping_interval=60s",
          "--store_container_labels=false",
          "--disable_metrics=percpu,process,sched,tcp,udp,disk,diskIO,hugetlb,referenced_memory,resctrl,advtcp,cpu_topology",
        ],
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
