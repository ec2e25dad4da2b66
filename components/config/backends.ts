/**
 * External backends: machines the team already has on the tailnet (a GPU workstation, a rented GPU server) that
 * run Ollama or an OpenAI-compatible server. The stack does not manage them; LiteLLM lists them as deployments of
 * their models, the tailnet policy lets the environment's LiteLLM node (and nothing else of the platform) reach
 * them, and the blackbox exporter on that node probes them.
 *
 * Each environment's list is its own setting, and every stack reads both: the tailnet policy, which covers
 * every environment, grants each environment's LiteLLM node its own backends.
 *
 * An entry is one line of `key=value` words, in any order:
 *   name=gpu-box url=http://gpu-box.tail1234.ts.net:11434 tag=tag:ai-dev-gpu models=qwen3:32b,qwen3:8b preferred=true
 */
import { isIPv4, isIPv6 } from "node:net";
import { TAG_PATTERN } from "../catalog/identities";
import { canonicalModelName, findModel } from "../catalog/models";
import { MODEL_NAME } from "./models";
import { Environment, ENVIRONMENTS } from "./naming";
import { keyValueEntry, Problems, SettingsReader } from "./reader";
import { SettingName } from "./schema";
import { cidrsOverlap } from "./cidr";
import { TAILNET_RANGE } from "./limits";

/** The IPv6 range Tailscale gives tailnet addresses from. */
export const TAILNET_IPV6_RANGE = "fd7a:115c:a1e0::/48";

export const BACKEND_KINDS = ["ollama", "openai"] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

export interface BackendModel {
  /** Canonical `name:tag`, the name clients ask LiteLLM for. */
  name: string;
  /** The file size, GB: from the entry or the model catalog; undefined when neither gives it. */
  fileGb?: number;
  /** An embedding model (from the model catalog): LiteLLM serves it on /v1/embeddings. */
  embedding: boolean;
}

export interface ExternalBackend {
  /** Its name in the settings, in LiteLLM's deployment ids, the probes and the report, e.g. "gpu-box". */
  name: string;
  kind: BackendKind;
  /** The server's base URL on the tailnet, as written, without a trailing slash. */
  url: string;
  host: string;
  port: number;
  /** The machine's tailnet tag: the policy grants the LiteLLM node this tag on `port`, and nothing else. */
  tag: string;
  models: BackendModel[];
  /** Tried before the nodes for the models it serves; the nodes take its requests when it is down. */
  preferred: boolean;
  /** Share of its models' requests among the deployments tried at the same time, default 1. */
  weight: number;
}

/** The setting that lists an environment's backends: tailnetDevBackends, tailnetProdBackends. */
export const BACKENDS_SETTING: Readonly<Record<Environment, SettingName>> = {
  dev: "tailnetDevBackends",
  prod: "tailnetProdBackends",
};

const KEYS = ["name", "url", "kind", "tag", "models", "preferred", "weight"] as const;
type Key = (typeof KEYS)[number];
const REQUIRED: readonly Key[] = ["name", "url", "tag", "models"];
const NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
/** A MagicDNS name: a machine name alone, or with the tailnet's domain (name.tailXXXX.ts.net). */
const MAGICDNS = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.ts\.net$|^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_WEIGHT = 100;
/** The example every message about an entry's form gives. */
export const BACKEND_EXAMPLE =
  "name=gpu-box url=http://gpu-box.tail1234.ts.net:11434 tag=tag:ai-dev-gpu models=qwen3:8b,qwen3:32b=20GB preferred=true";

/** Every environment's backends: each stack reads all of them, for the policy; it serves its own. */
export function readBackends(read: SettingsReader, platformTags: readonly string[]): Record<Environment, ExternalBackend[]> {
  const { project, problems } = read;
  const all = Object.fromEntries(
    ENVIRONMENTS.map((env) => {
      const key = `${project}:${BACKENDS_SETTING[env]}`;
      const backends = read.array(BACKENDS_SETTING[env]).flatMap((entry) => parseBackend(entry, key, platformTags, problems));
      const names = backends.map((b) => b.name);
      for (const name of new Set(names.filter((n, i) => names.indexOf(n) !== i))) {
        problems.add(`${key} names the backend "${name}" more than once: give each backend its own name`);
      }
      return [env, backends];
    }),
  ) as Record<Environment, ExternalBackend[]>;
  return all;
}

function parseBackend(entry: string, key: string, platformTags: readonly string[], problems: Problems): ExternalBackend[] {
  const where = `${key} has "${entry}"`;
  const fields = keyValueEntry(entry, { where, keys: KEYS, required: REQUIRED, example: BACKEND_EXAMPLE }, problems);
  if (fields === undefined) return [];
  const found = problems.count();
  const name = fields.get("name")!;
  if (!NAME.test(name)) {
    problems.add(`${where}: name "${name}" must be 2 to 32 lowercase letters, digits and dashes, starting with a letter`);
  }
  const kind = (fields.get("kind") ?? "ollama") as BackendKind;
  if (!(BACKEND_KINDS as readonly string[]).includes(kind)) {
    problems.add(`${where}: kind "${kind}" is not one of ${BACKEND_KINDS.join(", ")} (ollama: Ollama's API; openai: an OpenAI-compatible server such as vLLM or llama.cpp)`);
  }
  const address = parseUrl(fields.get("url")!, kind, where, problems);
  const tag = fields.get("tag")!;
  if (!TAG_PATTERN.test(tag)) {
    problems.add(`${where}: tag "${tag}" is not a tailnet tag: write it as tag:<name>, e.g. tag:ai-dev-gpu, the tag the machine was given`);
  } else if (platformTags.includes(tag)) {
    problems.add(`${where}: tag "${tag}" is one of the platform's own tags (${platformTags.join(", ")}): give the backend machine a tag of its own`);
  }
  const models = fields
    .get("models")!
    .split(",")
    .filter((m) => m !== "")
    .flatMap((m) => parseModel(m, kind, where, problems));
  const names = models.map((m) => m.name);
  for (const twice of new Set(names.filter((n, i) => names.indexOf(n) !== i))) {
    problems.add(`${where}: models= lists ${twice} more than once; list each model once`);
  }
  if (models.length === 0 && fields.get("models") === "") {
    problems.add(`${where}: models= is empty: list the models it serves, e.g. models=qwen3:8b,qwen3:32b`);
  }
  const preferred = fields.get("preferred") ?? "false";
  if (preferred !== "true" && preferred !== "false") {
    problems.add(`${where}: preferred "${preferred}" must be true or false`);
  }
  const weightText = fields.get("weight") ?? "1";
  const weight = Number(weightText);
  if (!/^\d+$/.test(weightText) || weight < 1 || weight > MAX_WEIGHT) {
    problems.add(`${where}: weight "${weightText}" must be a whole number from 1 to ${MAX_WEIGHT} (its share of requests against the nodes' 1)`);
  }
  if (problems.count() > found || address === undefined) return [];
  return [{ name, kind, ...address, tag, models, preferred: preferred === "true", weight }];
}

/** The URL's host must be on the tailnet: a tailnet address or a MagicDNS name, never a public one. */
function parseUrl(text: string, kind: BackendKind, where: string, problems: Problems): { url: string; host: string; port: number } | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.add(`${where}: url "${text}" is not a URL: write it as http://<MagicDNS name or tailnet address>:<port>, e.g. http://gpu-box.tail1234.ts.net:11434`);
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    problems.add(`${where}: url "${text}" must start with http:// or https://`);
    return undefined;
  }
  if (url.port === "") {
    problems.add(`${where}: url "${text}" has no port: write the port the server listens on (Ollama: 11434), which the tailnet policy opens`);
    return undefined;
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    problems.add(`${where}: url "${text}" must be scheme, host, port and path only (no user, password, query or fragment)`);
    return undefined;
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const onTailnet = isIPv4(host)
    ? cidrsOverlap(`${host}/32`, TAILNET_RANGE)
    : isIPv6(host)
      ? cidrsOverlap(`${host}/128`, TAILNET_IPV6_RANGE)
      : MAGICDNS.test(host);
  if (!onTailnet) {
    problems.add(
      `${where}: url's host "${host}" is not on the tailnet: use the machine's MagicDNS name (gpu-box or ` +
        `gpu-box.tail1234.ts.net) or its tailnet address (${TAILNET_RANGE} or ${TAILNET_IPV6_RANGE}), so that requests stay on the tailnet`,
    );
    return undefined;
  }
  const path = url.pathname.replace(/\/+$/, "");
  if (kind === "ollama" && path !== "") {
    problems.add(`${where}: url "${text}" has the path "${path}": an Ollama backend's url is its server's root, e.g. http://gpu-box:11434`);
    return undefined;
  }
  return { url: `${url.protocol}//${url.host}${path}`, host, port: Number(url.port) };
}

/** What an OpenAI-compatible server calls a model, e.g. Qwen/Qwen2.5-7B-Instruct (vLLM's Hugging Face names). */
const SERVED_MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

function parseModel(text: string, kind: BackendKind, where: string, problems: Problems): BackendModel[] {
  const [rawName, rawSize] = text.split("=", 2);
  if (!(kind === "ollama" ? MODEL_NAME : SERVED_MODEL_NAME).test(rawName)) {
    problems.add(
      `${where}: "${rawName}" in models= is not a model name: ` +
        (kind === "ollama" ? "use an Ollama name or name:tag in lowercase, e.g. qwen3:8b" : "use the name the server serves it under, e.g. Qwen/Qwen2.5-7B-Instruct"),
    );
    return [];
  }
  // Ollama's names are canonical with their tag (qwen3 is qwen3:latest); a served name is the server's own.
  const name = kind === "ollama" ? canonicalModelName(rawName) : rawName;
  const known = findModel(name);
  if (rawSize === undefined) return [{ name, fileGb: known?.fileGb, embedding: known?.embedding ?? false }];
  const size = /^(\d+(?:\.\d+)?)GB$/.exec(rawSize);
  if (!size || Number(size[1]) <= 0) {
    problems.add(`${where}: the size "${rawSize}" of ${rawName} is not understood: write it as ${rawName}=20GB`);
    return [];
  }
  return [{ name, fileGb: Number(size[1]), embedding: known?.embedding ?? false }];
}
