/**
 * Extra inference nodes ("workers"): more servers that run Ollama for the environment's LiteLLM, which stays one
 * service on the first inference node and lists each worker as one more deployment of the models it serves.
 * The first inference node is not in this list: it stays configured as before (inferenceServerType, ...).
 *
 * Each environment's list is its own setting, and every stack reads both: the tailnet policy, which covers every
 * environment, defines the worker tag of an environment only when it has workers.
 *
 * An entry is one line of `key=value` words, in any order:
 *   name=b type=cx33 volume=20 models=qwen3:8b,gemma3:1b
 * `models` is optional (default: every local model of the `models` setting); `volume` defaults to 10 GB.
 */
import { findServerType, LOCATIONS, ServerType, SERVER_TYPES } from "../catalog/serverTypes";
import { FIRST_INFERENCE_NODE } from "../catalog/services";
import { canonicalModelName } from "../catalog/models";
import type { ExternalBackend } from "./backends";
import { RANGES } from "./limits";
import type { ModelSettings } from "./models";
import { Environment, ENVIRONMENTS } from "./naming";
import { keyValueEntry, Problems, SettingsReader } from "./reader";
import { SettingName } from "./schema";

export interface InferenceWorker {
  /** Its name in the settings, in its resources (`<stem>-inference-<name>`) and in LiteLLM's deployment ids. */
  name: string;
  serverType: ServerType;
  /** Size of its data volume, GB. */
  volumeGb: number;
  /** The local models it serves, a subset of the `models` setting, in that setting's order. */
  models: ModelSettings[];
}

/** The setting that lists an environment's extra inference nodes: devInferenceNodes, prodInferenceNodes. */
export const INFERENCE_NODES_SETTING: Readonly<Record<Environment, SettingName>> = {
  dev: "devInferenceNodes",
  prod: "prodInferenceNodes",
};

const KEYS = ["name", "type", "volume", "models"] as const;
const REQUIRED: readonly (typeof KEYS)[number][] = ["name", "type"];
const NAME = /^[a-z]([a-z0-9-]{0,14}[a-z0-9])?$/;
/**
 * Words a worker may not be named: the first inference node's resources are `<stem>-inference-<word>...`
 * (its services, exporters, host firewall, models), "local" is its deployments' name in LiteLLM, and
 * "inference" its `node` label in Prometheus (catalog FIRST_INFERENCE_NODE).
 */
export const RESERVED_WORKER_NAMES = ["services", "exporters", "host", "models", "local", FIRST_INFERENCE_NODE] as const;
/** The default size of a worker's data volume, GB: the smallest Hetzner sells. */
export const DEFAULT_WORKER_VOLUME_GB = RANGES.inferenceVolumeGb.min;
/** The example every message about an entry's form gives. */
export const INFERENCE_NODE_EXAMPLE = "name=b type=cx33 volume=20 models=qwen3:8b,gemma3:1b";

/**
 * Every environment's extra inference nodes: each stack reads all of them, for the policy; it declares its own.
 * `backends` are each environment's external backends, whose names a worker may not take (both are LiteLLM
 * deployment ids).
 */
export function readInferenceNodes(
  read: SettingsReader,
  context: { location: string; models: ModelSettings[]; backends: Record<Environment, ExternalBackend[]> },
): Record<Environment, InferenceWorker[]> {
  const { project, problems } = read;
  return Object.fromEntries(
    ENVIRONMENTS.map((env) => {
      const key = `${project}:${INFERENCE_NODES_SETTING[env]}`;
      const workers = read.array(INFERENCE_NODES_SETTING[env]).flatMap((entry) => parseWorker(entry, key, context, problems));
      const names = workers.map((w) => w.name);
      for (const name of new Set(names.filter((n, i) => names.indexOf(n) !== i))) {
        problems.add(`${key} names the node "${name}" more than once: give each node its own name`);
      }
      for (const w of workers.filter((w) => context.backends[env].some((b) => b.name === w.name))) {
        problems.add(
          `${key} names the node "${w.name}", which is also the name of one of ${env}'s external backends: ` +
            `LiteLLM tells its deployments apart by these names, so give the node another name`,
        );
      }
      return [env, workers];
    }),
  ) as Record<Environment, InferenceWorker[]>;
}

function parseWorker(
  entry: string,
  key: string,
  context: { location: string; models: ModelSettings[] },
  problems: Problems,
): InferenceWorker[] {
  const where = `${key} has "${entry}"`;
  const fields = keyValueEntry(entry, { where, keys: KEYS, required: REQUIRED, example: INFERENCE_NODE_EXAMPLE }, problems);
  if (fields === undefined) return [];
  const found = problems.count();
  const name = fields.get("name")!;
  if (!NAME.test(name)) {
    problems.add(`${where}: name "${name}" must be 1 to 16 lowercase letters, digits and dashes, starting with a letter`);
  } else if ((RESERVED_WORKER_NAMES as readonly string[]).includes(name.split("-")[0])) {
    problems.add(
      `${where}: name "${name}" starts with "${name.split("-")[0]}", which the first inference node's resources, ` +
        `LiteLLM or Prometheus already use (${RESERVED_WORKER_NAMES.join(", ")}): choose another name, e.g. b`,
    );
  }
  const typeName = fields.get("type")!;
  const serverType = findServerType(typeName);
  if (!serverType) {
    problems.add(`${where}: type "${typeName}" is not a Hetzner server type: use one of ${SERVER_TYPES.map((t) => t.name).join(", ")}`);
  } else if ((LOCATIONS as readonly string[]).includes(context.location) && !serverType.locations.includes(context.location)) {
    const here = SERVER_TYPES.filter((t) => t.locations.includes(context.location)).map((t) => t.name);
    problems.add(
      `${where}: type "${typeName}" is not offered in ${context.location} (only in ${serverType.locations.join(", ")}): ` +
        `use one of ${here.join(", ")}`,
    );
  }
  const volumeText = fields.get("volume") ?? String(DEFAULT_WORKER_VOLUME_GB);
  const volumeGb = Number(volumeText);
  const { min, max } = RANGES.inferenceVolumeGb;
  if (!/^\d+$/.test(volumeText) || volumeGb < min || volumeGb > max) {
    problems.add(`${where}: volume "${volumeText}" must be a whole number of GB from ${min} to ${max}`);
  }
  const local = context.models.map((m) => m.name);
  const listed = fields.has("models") ? fields.get("models")!.split(",").filter((m) => m !== "") : local;
  if (fields.get("models") !== undefined && listed.length === 0) {
    problems.add(`${where}: models= is empty: list some of the models setting's (${local.join(", ")}), or leave models= out for all of them`);
  }
  const names = listed.map((m) => canonicalModelName(m));
  for (const [i, m] of names.entries()) {
    if (!local.includes(m)) {
      problems.add(`${where}: models= has ${listed[i]}, which is not one of the models setting's (${local.join(", ")}): a node serves only the stack's local models`);
    }
  }
  for (const twice of new Set(names.filter((n, i) => names.indexOf(n) !== i))) {
    problems.add(`${where}: models= lists ${twice} more than once; list each model once`);
  }
  if (problems.count() > found || serverType === undefined) return [];
  return [{ name, serverType, volumeGb, models: context.models.filter((m) => names.includes(m.name)) }];
}
