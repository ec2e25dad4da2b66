/**
 * Qdrant, the same container on every node that runs it: on the inference node alone, the single-node Qdrant;
 * where the environment has extra inference nodes, one peer on each of them and on the inference node, as one
 * cluster (components/render/qdrant.ts). Every peer has the same API keys, its data on its node's volume, and
 * its ports on its tailnet address.
 */
import * as pulumi from "@pulumi/pulumi";
import { IMAGES } from "../catalog/images";
import { NodeRole, port, SERVICES } from "../catalog/services";
import { qdrantClusterEnv, QdrantClusterSettings, qdrantPeerCommand } from "../render/qdrant";
import { ServiceContainerArgs, tailnetPorts } from "./container";

const QDRANT_HTTP_PORT = port("qdrant");

export interface QdrantContainerArgs {
  role: NodeRole;
  /** The node's tailnet IPv4 address: Qdrant listens there and nowhere else. */
  tailnetAddress: pulumi.Input<string>;
  /** Where the node's data volume is mounted. */
  dataDir: string;
  memoryMib: number;
  /** The read-write and the read-only API key, the same on every peer. */
  keys: { QDRANT__SERVICE__API_KEY: pulumi.Input<string>; QDRANT__SERVICE__READ_ONLY_API_KEY: pulumi.Input<string> };
  /**
   * The cluster this Qdrant is a peer of; none for the single-node Qdrant. `bootstrap` is the first peer's
   * tailnet address, for every other peer.
   */
  cluster?: QdrantClusterSettings & { bootstrap?: pulumi.Input<string> };
}

export function qdrantContainer(args: QdrantContainerArgs): Omit<ServiceContainerArgs, "provider" | "network"> {
  const cluster = args.cluster;
  return {
    name: SERVICES.qdrant.container,
    image: IMAGES.qdrant,
    memoryMib: args.memoryMib,
    ports: tailnetPorts("qdrant", args.role, args.tailnetAddress, cluster !== undefined),
    secretEnv: args.keys,
    env: { QDRANT__TELEMETRY_DISABLED: "true", ...(cluster ? qdrantClusterEnv(cluster) : {}) },
    ...(cluster
      ? {
          command: pulumi
            .all([args.tailnetAddress, cluster.bootstrap])
            .apply(([self, bootstrap]) => qdrantPeerCommand(self, bootstrap)),
        }
      : {}),
    // On the data volume: a server replacement keeps the collections (and a peer its identity in the cluster).
    volumes: [
      { hostPath: `${args.dataDir}/qdrant/storage`, containerPath: "/qdrant/storage" },
      { hostPath: `${args.dataDir}/qdrant/snapshots`, containerPath: "/qdrant/snapshots" },
    ],
    healthcheck: ["CMD-SHELL", `bash -c ':> /dev/tcp/127.0.0.1/${QDRANT_HTTP_PORT}'`],
  };
}
