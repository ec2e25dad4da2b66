/**
 * Qdrant's settings: the vectors it is sized for, and, where it is a cluster (the environment has extra
 * inference nodes, each one more Qdrant peer), how many copies of each shard a new collection keeps and how many
 * of them acknowledge a write. One peer is the single-node Qdrant, where the last two do not apply.
 */
import { INFERENCE_NODES_SETTING, type InferenceWorker } from "./inferenceNodes";
import type { Environment } from "./naming";
import type { Problems, SettingsReader } from "./reader";

export interface QdrantSettings {
  vectors: number;
  dimensions: number;
  /** Copies of each shard of a new collection, across the peers (Qdrant's storage.collection.replication_factor). */
  replicationFactor: number;
  /** Copies that must apply a write before it is acknowledged (storage.collection.write_consistency_factor). */
  writeConsistency: number;
}

/** Qdrant's peers in an environment: the inference node and each of its extra inference nodes. */
export function qdrantPeers(workers: readonly InferenceWorker[]): number {
  return 1 + workers.length;
}

export function readQdrant(
  read: SettingsReader,
  problems: Problems,
  project: string,
  environment: Environment | undefined,
  workers: Record<Environment, InferenceWorker[]>,
): QdrantSettings {
  const settings: QdrantSettings = {
    vectors: read.integer("qdrantVectors"),
    dimensions: read.integer("qdrantDimensions"),
    replicationFactor: read.integer("qdrantReplicationFactor"),
    writeConsistency: read.integer("qdrantWriteConsistency"),
  };
  if (settings.writeConsistency > settings.replicationFactor) {
    problems.add(
      `${project}:qdrantWriteConsistency is ${settings.writeConsistency}, more than qdrantReplicationFactor ` +
        `(${settings.replicationFactor}): a write cannot wait for more copies than a shard has; use 1 to ${settings.replicationFactor}`,
    );
  }
  const peers = environment === undefined ? 1 : qdrantPeers(workers[environment]);
  if (environment !== undefined && peers > 1 && settings.replicationFactor > peers) {
    problems.add(
      `${project}:qdrantReplicationFactor is ${settings.replicationFactor}, but ${environment}'s Qdrant has ${peers} peers ` +
        `(the inference node and the ${peers - 1} of ${project}:${INFERENCE_NODES_SETTING[environment]}): Qdrant keeps ` +
        `at most one copy of a shard per peer; use 1 to ${peers}, or add inference nodes`,
    );
  }
  return settings;
}
