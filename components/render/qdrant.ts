/**
 * Qdrant's distributed mode, as the container's environment and command line: where the environment has extra
 * inference nodes, Qdrant runs on each of them and on the inference node as one cluster. The first peer (the
 * inference node) starts the cluster; every other peer joins it through the first (`--bootstrap`). Each tells
 * the others where it answers (`--uri`): its tailnet address and the peer-to-peer port. The collection defaults
 * (copies of each shard, copies that acknowledge a write) apply to collections created afterwards.
 *
 * The keys and flags are Qdrant's (src/settings.rs, src/main.rs); test/render/qdrant.test.ts checks every one
 * against the list read from its source (test/validators/qdrant.ts, test/fixtures/qdrant/). A restarted peer
 * ignores both flags, its cluster state being in its storage, except that a new `--uri` (a replaced server's
 * new tailnet address) is announced to the other peers (src/consensus.rs).
 */
import { port } from "../catalog/services";

/** Qdrant's peer-to-peer port: the peers' consensus and replication. */
export const QDRANT_P2P_PORT = port("qdrantP2p");

/**
 * What the qdrant/qdrant image runs: its CMD, `./entrypoint.sh` in WORKDIR /qdrant, which starts `./qdrant` with
 * the arguments it is given (and restarts it in recovery mode after an out-of-memory kill). A container's
 * command replaces the CMD, so the peer's flags follow the same script.
 */
export const QDRANT_EXECUTABLE = "./entrypoint.sh";

export interface QdrantClusterSettings {
  /** Copies of each shard of a new collection. */
  replicationFactor: number;
  /** Copies that must apply a write before it is acknowledged. */
  writeConsistency: number;
}

/** The environment that turns a Qdrant into a cluster peer, with the collection defaults. */
export function qdrantClusterEnv(settings: QdrantClusterSettings): Record<string, string> {
  return {
    QDRANT__CLUSTER__ENABLED: "true",
    // The peers send the API key on their internal calls; with this, a peer also refuses one without it, so
    // that reaching the peer-to-peer port is not enough to write (the policy already keeps it to the peers).
    QDRANT__SERVICE__ENFORCE_INTERNAL_AUTH: "true",
    QDRANT__CLUSTER__P2P__PORT: String(QDRANT_P2P_PORT),
    QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR: String(settings.replicationFactor),
    QDRANT__STORAGE__COLLECTION__WRITE_CONSISTENCY_FACTOR: String(settings.writeConsistency),
  };
}

/** A peer's address as the other peers reach it, e.g. "http://100.64.0.7:6335". */
export function qdrantPeerUri(tailnetAddress: string): string {
  return `http://${tailnetAddress}:${QDRANT_P2P_PORT}`;
}

/**
 * A peer's command line: the first peer (no `bootstrap`) starts the cluster; any other joins it through the
 * first peer's address. Qdrant keeps its peer identity and the cluster's state in its storage, so a restarted
 * peer rejoins as itself.
 */
export function qdrantPeerCommand(self: string, bootstrap?: string): string[] {
  return [QDRANT_EXECUTABLE, "--uri", qdrantPeerUri(self), ...(bootstrap === undefined ? [] : ["--bootstrap", qdrantPeerUri(bootstrap)])];
}
