/**
 * The only reader of pulumi.Config. It reads every setting once, checks it, and returns one typed Settings
 * object; every mistake is collected and reported together, each naming the setting, the bad value and what
 * is allowed, before the program declares a single resource. Each concern reads its own settings in the
 * module named after it; this one puts them together, in the order their problems are reported.
 */
import * as pulumi from "@pulumi/pulumi";
import { nodeTag } from "../catalog/identities";
import { NODE_ROLES, type Role } from "../catalog/services";
import { BACKENDS_SETTING, ExternalBackend, readBackends } from "./backends";
import { BackupSettings, readBackup } from "./backup";
import { checkCredentials, checkSecretsEncrypted, readHetznerApiAccess, readTailscaleApiAccess, type HetznerApiAccess, type TailscaleApiAccess } from "./credentials";
import { ImageName, readImageTags } from "./images";
import { InferenceWorker, readInferenceNodes } from "./inferenceNodes";
import { LiteLlmSettings, readLiteLlm } from "./litellm";
import { ModelSettings, OllamaSettings, readModels, readOllama } from "./models";
import { Environment, ENVIRONMENTS, readEnvironment, readNamePrefix } from "./naming";
import { NetworkSettings, readNetwork } from "./network";
import { NodeSettings, readNodes } from "./nodes";
import { OperationsSettings, readOperations } from "./operations";
import { QdrantSettings, readQdrant } from "./qdrant";
import { checkUnknownKeys, ConfigSource, Problems, pulumiConfigSource, SettingsReader } from "./reader";
import { readTailnet, TailnetSettings } from "./tailnet";
import { readWorkload, WorkloadSettings } from "./workload";

export { ENVIRONMENTS } from "./naming";
export type { Environment } from "./naming";
export type { KvCacheType, ReceiverKind } from "./limits";
export type { ImageName } from "./images";
export type { CloudModelSettings, LiteLlmSettings } from "./litellm";
export type { ModelSettings, OllamaSettings } from "./models";
export type { NetworkSettings } from "./network";
export type { NodeSettings } from "./nodes";
export type { AlertRoute, OperationsSettings } from "./operations";
export type { BackupSettings } from "./backup";
export type { QdrantSettings } from "./qdrant";
export { qdrantPeers } from "./qdrant";
export type { BackendKind, BackendModel, ExternalBackend } from "./backends";
export { BACKENDS_SETTING } from "./backends";
export type { InferenceWorker } from "./inferenceNodes";
export { INFERENCE_NODES_SETTING } from "./inferenceNodes";
export { pulumiConfigSource, SEALED_SECRET, SettingsError } from "./reader";
export type { ConfigSource } from "./reader";
export type { TailnetSettings } from "./tailnet";
export { DEPLOYERS_SETTING, POLICY_OWNER } from "./tailnet";
export type { WorkloadSettings } from "./workload";

export interface Settings {
  /** The Pulumi project, which is also the settings' namespace. */
  project: string;
  environment: Environment;
  /** `<namePrefix>-<environment>`, the stem of every name. */
  stem: string;
  namePrefix: string;
  location: string;
  nodes: Record<Role, NodeSettings>;
  swapGiB: number;
  protection: boolean;
  models: ModelSettings[];
  ollama: OllamaSettings;
  litellm: LiteLlmSettings;
  qdrant: QdrantSettings;
  network: NetworkSettings;
  operations: OperationsSettings;
  /** The nightly backups off the nodes. */
  backup: BackupSettings;
  /** The workload the cost comparison prices through cloud APIs and the throughput plan puts on the node. */
  comparison: WorkloadSettings;
  tailnet: TailnetSettings;
  /**
   * Each environment's external backends (machines on the tailnet the stack does not manage): every stack reads
   * all of them for the tailnet policy; its LiteLLM serves its own environment's.
   */
  backends: Record<Environment, ExternalBackend[]>;
  /**
   * Each environment's extra inference nodes (workers) beside the first: every stack reads all of them for the
   * tailnet policy; it declares its own environment's. Empty by default.
   */
  workers: Record<Environment, InferenceWorker[]>;
  /** Image tags the stack sets ahead of the catalog, by catalog name. */
  imageTags: Partial<Record<ImageName, string>>;
  /** The Tailscale API access given in the stack's config (credentials as plain values: wrap them in secrets). */
  tailscaleApi: TailscaleApiAccess;
  /** The Hetzner Cloud API access given in the stack's config (the token as a plain value: wrap it in a secret). */
  hetznerApi: HetznerApiAccess;
}

export function loadSettings(
  source: ConfigSource = pulumiConfigSource(),
  project: string = pulumi.getProject(),
  stack: string = pulumi.getStack(),
): Settings {
  const problems = new Problems();
  const read = new SettingsReader(source, project, problems);

  const environment = readEnvironment(stack, problems);
  checkUnknownKeys(source, project, problems);
  checkCredentials(source, problems);
  checkSecretsEncrypted(source, project, stack, problems);
  const namePrefix = readNamePrefix(read);
  const { location, nodes } = readNodes(read);
  const models = readModels(read);
  const network = readNetwork(read);
  const tailnet = readTailnet(read, namePrefix, environment);
  const ollama = readOllama(read);
  const litellm = readLiteLlm(read, models);
  const operations = readOperations(read, nodes.operations.volumeGb, environment);
  const imageTags = readImageTags(read);
  const backup = readBackup(read);
  const platformTags = ENVIRONMENTS.flatMap((env) => [
    ...NODE_ROLES.map((role) => nodeTag(namePrefix, env, role)),
    ...tailnet.deployers[env].filter((d) => d.startsWith("tag:")),
  ]);
  const backends = readBackends(read, platformTags);
  const workers = readInferenceNodes(read, { location, models, backends });
  if (environment !== undefined) checkBackendModels(project, BACKENDS_SETTING[environment], backends[environment], litellm, problems);

  const settings: Settings = {
    project,
    environment: environment ?? "dev",
    stem: `${namePrefix}-${stack}`,
    namePrefix,
    location,
    nodes,
    swapGiB: read.integer("swapGiB"),
    protection: read.boolean("protection"),
    models,
    ollama,
    litellm,
    qdrant: readQdrant(read, problems, project, environment, workers),
    network,
    operations,
    backup,
    comparison: readWorkload(read, models),
    tailnet,
    backends,
    workers,
    imageTags,
    tailscaleApi: readTailscaleApiAccess(source),
    hetznerApi: readHetznerApiAccess(source),
  };
  problems.throwIfAny();
  return settings;
}

/** A backend's model may share a name with a local model (one more deployment of it), never with a cloud model. */
function checkBackendModels(project: string, setting: string, backends: ExternalBackend[], litellm: LiteLlmSettings, problems: Problems): void {
  const cloud = new Set(litellm.cloudModels.map((m) => m.name));
  for (const b of backends) {
    for (const m of b.models.filter((m) => cloud.has(m.name))) {
      problems.add(
        `${project}:${setting}: the backend "${b.name}" serves ${m.name}, which is also the name of a cloud model ` +
          `(${project}:cloudModels): a name is either served locally (nodes and backends) or by a cloud API; rename one`,
      );
    }
  }
}
