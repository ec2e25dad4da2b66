/**
 * What a Qdrant cluster cannot do, for the team to know before it relies on it: warnings at preview (index.ts)
 * and in the offline plan (tools/report.ts), not errors, as the stack deploys.
 */
import { INFERENCE_NODES_SETTING, type Environment, type QdrantSettings } from "../config";

/**
 * The cautions for a cluster of `peers` (none for a single node). Qdrant agrees on the cluster's shape by Raft,
 * which needs a majority of the peers (src/consensus.rs at v1.19.0): with two peers, neither may be down for a
 * change of the cluster, including the new address a replaced server announces. A collection's snapshot holds the shards of the peer that takes it
 * (Qdrant's snapshot documentation), and the nightly backup takes them on the inference node only.
 */
export function qdrantClusterCautions(
  project: string,
  environment: Environment,
  peers: number,
  qdrant: Pick<QdrantSettings, "replicationFactor">,
): string[] {
  if (peers < 2) return [];
  const cautions: string[] = [];
  if (peers === 2) {
    cautions.push(
      `${environment}'s Qdrant is a cluster of two peers: both keep every shard, but while either is down Qdrant cannot ` +
        `change the cluster (a majority of two is both), and a peer whose server is replaced cannot announce its new address ` +
        `until the other answers; add a third inference node to ${project}:${INFERENCE_NODES_SETTING[environment]} for a cluster that survives the loss of one (README, "Qdrant across the inference nodes")`,
    );
  }
  if (qdrant.replicationFactor < peers) {
    cautions.push(
      `${environment}'s Qdrant keeps ${qdrant.replicationFactor} ${qdrant.replicationFactor === 1 ? "copy" : "copies"} of each shard on ${peers} peers: ` +
        `the nightly backup snapshots the inference node's peer, which then holds only some shards of a new collection; ` +
        `set ${project}:qdrantReplicationFactor to ${peers} for a backup that holds every vector`,
    );
  }
  return cautions;
}
