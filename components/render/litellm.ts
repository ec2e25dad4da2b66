// LiteLLM's proxy config (config.yaml) as typed data, and its YAML text.
//
// The file is mounted into the container as it is, so it must never hold a secret: every key is an
// `os.environ/<NAME>` reference that LiteLLM resolves inside the container at start-up. The names of those
// variables are exported here so that the component that runs the container sets exactly these.

import type { CloudProvider } from "../catalog/cloudProviders";
import { port } from "../catalog/services";
import { LITELLM_ROUTING_STRATEGIES, type LiteLlmRoutingStrategy } from "../config/limits";
import { Document } from "yaml";

/** Environment variable holding the proxy's admin key; LiteLLM requires it to start with `sk-`. */
export const LITELLM_MASTER_KEY_ENV = "LITELLM_MASTER_KEY";
/** Environment variable holding the key LiteLLM encrypts stored credentials with; it must never change. */
export const LITELLM_SALT_KEY_ENV = "LITELLM_SALT_KEY";
/** Environment variable holding the Postgres URL for virtual keys and spend tracking. */
export const LITELLM_DATABASE_URL_ENV = "DATABASE_URL";

/**
 * Environment that keeps LiteLLM from reaching the internet on its own: the model cost map and the other
 * catalogs it would fetch at start-up come from the copies bundled in the release, and its opt-in usage
 * telemetry is vetoed outright. The container and the tests both set these.
 */
export const LITELLM_LOCAL_ONLY_ENV: Readonly<Record<string, string>> = Object.freeze({
  LITELLM_LOCAL_MODEL_COST_MAP: "True",
  LITELLM_OFFLINE_MODE: "true",
  LITELLM_TELEMETRY_DISABLED: "true",
});

/**
 * How LiteLLM's Prometheus metrics leave the container without a credential. `--prometheus_metrics_port` (LiteLLM
 * proxy_cli.py, prometheus_metrics_server.py) starts a second process that serves only `/metrics/` and
 * `/health` on that port, read from the samples the worker writes to PROMETHEUS_MULTIPROC_DIR; it has no other
 * route and asks for no key. `/metrics` on the API port stays behind LiteLLM's own auth.
 *
 * The variable is set, and its directory exists, before LiteLLM starts, and the worker is forked by gunicorn:
 * at 1.110.2 the CLI wipes the directory's files after importing the proxy, whose import already opened the
 * histogram and live-gauge files, so a worker that runs in the CLI's own process (uvicorn's single worker) keeps
 * writing every latency histogram to a deleted file and the metrics port never shows one. A forked worker has
 * a new pid and opens files of its own after the wipe, as prometheus_client's multiprocess mode expects.
 * Both were found with the real proxy (test/render/litellm.test.ts).
 */
export const LITELLM_METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR";

/**
 * A `sitecustomize.py` that LiteLLM's Python runs at interpreter start, before any thread exists, put first on
 * its import path by {@link liteLlmStartupEnv}. It closes a fork race that made the gunicorn worker hang at boot.
 *
 * At 1.110.2 the CLI starts a thread in the gunicorn master right before gunicorn forks the worker
 * (proxy_cli.py run_gunicorn_server: start_query_engine_reaper). The thread's first scan of /proc opens each
 * `/proc/<pid>/stat` with encoding="ascii" (proxy/db/query_engine_reaper.py), and that first ascii text file
 * imports encodings.ascii. A fork while the import holds the module's import lock leaves the worker that lock,
 * held by a thread it does not have: the worker's own first ascii text file (tzlocal reading /etc/timezone,
 * from APScheduler in the proxy's startup) waits for it forever, after "Proxy initialized", and the worker never
 * answers (gunicorn's timeout is 600 s). Looking the codec up here imports it before the thread exists, so the
 * thread imports nothing (it was seen importing no other module). Found with py-spy and measured with the real
 * proxy: test/render/litellmForkRace.test.ts.
 */
export const LITELLM_SITECUSTOMIZE = [
  "# Written by the ai-platform stack (components/render/litellm.ts LITELLM_SITECUSTOMIZE).",
  "# Imports the ascii codec before any thread starts: LiteLLM's gunicorn master starts a thread whose first",
  "# ascii file imports it, and a fork in the middle of that import hangs the worker.",
  "import codecs",
  "",
  'codecs.lookup("ascii")',
  "",
].join("\n");

/** The environment that makes LiteLLM's Python run {@link LITELLM_SITECUSTOMIZE}, kept as sitecustomize.py in `dir`. */
export function liteLlmStartupEnv(dir: string): Record<string, string> {
  if (!dir.startsWith("/") || dir.includes(":")) {
    throw new Error(`LiteLLM's startup directory must be an absolute path without ':', got "${dir}"`);
  }
  return { PYTHONPATH: dir };
}

/**
 * The command line the proxy runs with: its config, its API port, its metrics port, one gunicorn worker (the
 * supervisor, the worker and the metrics process use about 800 MiB together at idle, measured at 1.110.2).
 */
export function liteLlmCommand(spec: { configPath: string; port: number; metricsPort: number }): string[] {
  if (spec.metricsPort === spec.port) {
    throw new Error(`LiteLLM's metrics port must differ from its API port; both are ${spec.port}`);
  }
  return [
    "--config",
    spec.configPath,
    "--port",
    String(spec.port),
    "--prometheus_metrics_port",
    String(spec.metricsPort),
    "--run_gunicorn",
    "--num_workers",
    "1",
  ];
}

/** Default for {@link LiteLlmSpec.requestTimeoutSeconds}: CPU inference of a long answer takes minutes. */
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 600;
/** Retries of a failed call to one deployment before LiteLLM moves on to the fallbacks. */
export const NUM_RETRIES = 1;

export interface LocalModelRoute {
  /** Ollama name:tag, also the model_name clients use */
  name: string;
  /**
   * An embedding model: served on /v1/embeddings through LiteLLM's ollama provider (Ollama's /api/embed)
   * rather than as a chat model. Default false.
   */
  embedding?: boolean;
  /** requests per minute, optional */
  rpm?: number;
  /** tokens per minute, optional */
  tpm?: number;
}


export interface CloudModelRoute {
  /** The name clients use, e.g. "gpt-4o-mini" or "cloud-fallback" */
  name: string;
  provider: CloudProvider;
  /** The provider's model id, e.g. "gpt-4o-mini", "claude-3-5-haiku-latest" */
  model: string;
  /** Required for openai-compatible, optional otherwise (the provider's public API) */
  apiBase?: string;
  /**
   * Name of the environment variable that holds the key inside the container, e.g. "LITELLM_CLOUD_KEY_0";
   * the config references it as os.environ/<name>, never the key itself
   */
  apiKeyEnv: string;
  /** requests per minute, optional */
  rpm?: number;
  /** tokens per minute, optional */
  tpm?: number;
}

export interface LiteLlmSpec {
  /** Ollama's API on the Docker network, e.g. "http://ollama:<its port>". */
  ollamaApiBase: string;
  localModels: LocalModelRoute[];
  cloudModels: CloudModelRoute[];
  /** local (or cloud) model name -> names of models to fall back to, in order */
  fallbacks: Record<string, string[]>;
  /** true: DATABASE_URL (env) enables virtual keys and spend tracking */
  database: boolean;
  /** Ollama's per-request timeout in seconds, default 600 (CPU inference is slow) */
  requestTimeoutSeconds?: number;
  /**
   * Servers besides the node's own Ollama that serve some of the models: other inference nodes, the team's own
   * GPU machines. Default none, and then the config is what it was before backends existed.
   */
  backends?: BackendRoute[];
  /**
   * LiteLLM's `order` of the node's own Ollama deployments when there are backends, default 1. LiteLLM tries
   * the lowest order among a model's deployments that are not cooled down (utils.py
   * get_order_filtered_deployments), so 2 here and 1 on a backend prefer the backend, and the node takes its
   * requests while it is cooled down.
   */
  localOrder?: number;
  /**
   * How LiteLLM's router picks among a model's deployments and steps around a failing one, written to
   * router_settings. Default none: LiteLLM's own defaults, and the config is what it was before routing settings.
   */
  routing?: LiteLlmRouting;
  /**
   * Whether LiteLLM's Prometheus callback fills its metrics, default true. They are served without a key on the
   * metrics port ({@link liteLlmCommand}) and behind LiteLLM's auth on the API port's /metrics.
   */
  metrics?: boolean;
}

/** A server besides the node's own Ollama that serves some of the models (another inference node, a GPU box). */
export interface BackendRoute {
  /** Its name in the settings, e.g. "gpu-box"; each of its deployments' model_info.id is `<model>@<name>`. */
  name: string;
  /**
   * "ollama": Ollama's API (LiteLLM's ollama_chat and ollama providers); "openai": an OpenAI-compatible server
   * (vLLM, llama.cpp, LM Studio) through LiteLLM's openai provider against its /v1 base.
   */
  kind: "ollama" | "openai";
  /** e.g. "http://gpu-box.tail1234.ts.net:11434" (ollama) or "http://100.101.102.103:8000/v1" (openai). */
  apiBase: string;
  /** The models it serves, by the name clients use; a name no node serves is served by the backends alone. */
  models: { name: string; embedding?: boolean }[];
  /** LiteLLM's deployment `order`: 1 is tried first. Default 1. */
  order?: number;
  /** Share of a model's requests among its deployments of the same order (LiteLLM's `weight`). Default 1. */
  weight?: number;
  /**
   * For an "openai" server that wants a key: the environment variable holding it inside the container, referenced
   * as os.environ/<name>. Default none (the server is sent a placeholder it ignores).
   */
  apiKeyEnv?: string;
}

/**
 * LiteLLM's router settings, as LiteLLM 1.110.2 reads them (its source, under the package's litellm/), measured
 * with the real proxy in test/render/litellmRouting.test.ts:
 *
 * - Which deployments: those of the model not cooled down, and of them the ones with the lowest `order`
 *   (utils.py get_order_filtered_deployments; a deployment without an order is left out once another has one,
 *   so every deployment gets one here). A request that fails on every deployment of that order, retries
 *   included, moves on to the next order (the router's order chain, `_target_order` in
 *   router_utils/fallback_event_handlers.py), before the model's fallbacks.
 * - Which one of those: "simple-shuffle" draws one at random in proportion to `weight` (router_strategy/
 *   simple_shuffle.py; a deployment without a weight weighs nothing once another has one, so every deployment
 *   gets one here). It is the one strategy offered (LITELLM_ROUTING_STRATEGIES, with why the others are not):
 *   "least-busy" would suit CPU inference in principle, sending a request that takes minutes to the deployment
 *   with the fewest in flight (router_strategy/least_busy.py), but it ignores weight, hands ties to the first
 *   deployment listed, and keeps choosing one that refuses connections.
 * - Around a failure: `enable_weighted_failover` (router.py, simple-shuffle only) makes a failed attempt draw
 *   again among the model's other deployments of that order before anything else; it is what keeps every request
 *   succeeding while one deployment refuses connections, which LiteLLM never cools down (router_utils/
 *   cooldown_handlers.py _is_cooldown_required skips any APIConnectionError). `num_retries` then tries the model
 *   again, drawing anew, the failed deployment included.
 * - Cooldown: a deployment whose failures within `cooldown_time` seconds exceed `allowed_fails` is left out for
 *   `cooldown_time` seconds (cooldown_handlers.py should_cooldown_based_on_allowed_fails_policy). A failure is a
 *   timeout (408), a 5xx, a 429, 401, 402 or 404 (_is_cooldown_required); not a refused connection, and not the
 *   other 4xx. A model's only deployment is never cooled down unless the model has fallbacks
 *   (_should_cooldown_deployment). LiteLLM shows a cooldown in its metrics: litellm_deployment_cooled_down_total
 *   and litellm_deployment_state 2, labelled with the deployment's model_id.
 */
export interface LiteLlmRouting {
  strategy: LiteLlmRoutingStrategy;
  /** Failures of one deployment within cooldownSeconds that LiteLLM tolerates; one more cools it down. */
  allowedFails: number;
  /** How long a cooled-down deployment is left out, and the window its failures are counted in, seconds. */
  cooldownSeconds: number;
  /** Times LiteLLM tries a model again after a failed attempt (each a new draw among its deployments). */
  numRetries: number;
}

/** The node's own deployments' name in model_info.id, `<model>@local`, once there are backends. */
export const LOCAL_DEPLOYMENT = "local";

/**
 * What an OpenAI-compatible backend without a key is given as its key: LiteLLM's openai provider (the OpenAI
 * client) refuses to send without one, and such a server ignores it. Not a credential.
 */
const NO_KEY = "no-key";

/** One entry of `model_list`: the name clients ask for and how LiteLLM reaches it. */
interface ModelDeployment {
  model_name: string;
  litellm_params: {
    model: string;
    api_base?: string;
    api_key?: string;
    timeout?: number;
    rpm?: number;
    tpm?: number;
    order?: number;
    weight?: number;
  };
  /**
   * `mode: embedding` tells LiteLLM's health checks and model list what the deployment serves; `id` names the
   * deployment (`<model>@<backend>`) in LiteLLM's logs, cooldowns and metrics' model_id label.
   */
  model_info?: { id?: string; mode?: "embedding" };
}

/** The config as LiteLLM reads it; key order here is the order in the file. */
interface LiteLlmConfig {
  model_list: ModelDeployment[];
  router_settings: {
    fallbacks: Record<string, string[]>[];
    routing_strategy?: LiteLlmRoutingStrategy;
    enable_weighted_failover?: boolean;
    num_retries?: number;
    allowed_fails?: number;
    cooldown_time?: number;
  };
  litellm_settings: {
    drop_params: boolean;
    request_timeout: number;
    num_retries: number;
    callbacks?: string[];
    require_auth_for_metrics_endpoint: boolean;
  };
  general_settings: { master_key: string; database_url?: string };
}

const envRef = (name: string) => `os.environ/${name}`;

// A name, not a value: this also rejects a key pasted where its variable's name belongs.
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

const PROVIDER_PREFIX: Record<CloudProvider, string> = {
  openai: "openai",
  anthropic: "anthropic",
  // LiteLLM's openai provider with an api_base speaks to any OpenAI-compatible server.
  "openai-compatible": "openai",
};

function checkLimit(model: string, what: "rpm" | "tpm", value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw new Error(`LiteLLM model "${model}": ${what} must be a positive integer, got ${value}`);
  }
}

function limits(route: { rpm?: number; tpm?: number }): { rpm?: number; tpm?: number } {
  return {
    ...(route.rpm === undefined ? {} : { rpm: route.rpm }),
    ...(route.tpm === undefined ? {} : { tpm: route.tpm }),
  };
}

function localDeployment(route: LocalModelRoute, apiBase: string, timeout: number): ModelDeployment {
  if (route.name.trim() === "") throw new Error("LiteLLM local model: name must not be empty");
  checkLimit(route.name, "rpm", route.rpm);
  checkLimit(route.name, "tpm", route.tpm);
  if (route.embedding === true) {
    return {
      model_name: route.name,
      litellm_params: { model: `ollama/${route.name}`, api_base: apiBase, timeout, ...limits(route) },
      model_info: { mode: "embedding" },
    };
  }
  return {
    model_name: route.name,
    litellm_params: { model: `ollama_chat/${route.name}`, api_base: apiBase, timeout, ...limits(route) },
  };
}

function cloudDeployment(route: CloudModelRoute): ModelDeployment {
  if (route.name.trim() === "") throw new Error("LiteLLM cloud model: name must not be empty");
  if (route.model.trim() === "") throw new Error(`LiteLLM cloud model "${route.name}": model must not be empty`);
  if (route.provider === "openai-compatible" && (route.apiBase ?? "").trim() === "") {
    throw new Error(
      `LiteLLM cloud model "${route.name}": provider "openai-compatible" needs apiBase (the server's URL, e.g. https://host/v1)`,
    );
  }
  if (!ENV_NAME.test(route.apiKeyEnv)) {
    throw new Error(
      `LiteLLM cloud model "${route.name}": apiKeyEnv must be the name of an environment variable ` +
        `(upper-case letters, digits and _), not a key; got a value of ${route.apiKeyEnv.length} characters`,
    );
  }
  checkLimit(route.name, "rpm", route.rpm);
  checkLimit(route.name, "tpm", route.tpm);
  return {
    model_name: route.name,
    litellm_params: {
      model: `${PROVIDER_PREFIX[route.provider]}/${route.model}`,
      ...(route.apiBase === undefined ? {} : { api_base: route.apiBase }),
      api_key: envRef(route.apiKeyEnv),
      ...limits(route),
    },
  };
}

/** A deployment with its place among a model's several: `<model>@<where>`, its order and weight. */
function named(d: ModelDeployment, where: string, order: number, weight = 1): ModelDeployment {
  return {
    model_name: d.model_name,
    litellm_params: { ...d.litellm_params, order, weight },
    model_info: { id: `${d.model_name}@${where}`, ...(d.model_info?.mode ? { mode: d.model_info.mode } : {}) },
  };
}

/** Every backend's deployments, checked: names unique, orders and weights positive, URLs http(s), no cloud name. */
function backendDeployments(
  backends: BackendRoute[],
  localOrder: number,
  timeout: number,
  clouds: ModelDeployment[],
): ModelDeployment[] {
  const positiveInteger = (n: number) => Number.isInteger(n) && n >= 1;
  if (!positiveInteger(localOrder)) throw new Error(`LiteLLM localOrder must be a whole number from 1, got ${localOrder}`);
  const cloudNames = new Set(clouds.map((c) => c.model_name));
  const seen = new Set<string>([LOCAL_DEPLOYMENT]);
  return backends.flatMap((b) => {
    const what = `LiteLLM backend "${b.name}"`;
    if (!/^[a-z0-9][a-z0-9-]*$/.test(b.name)) throw new Error(`${what}: the name must be lowercase letters, digits and dashes`);
    if (seen.has(b.name)) throw new Error(`${what}: the name is used twice (or is "${LOCAL_DEPLOYMENT}", the node's own)`);
    seen.add(b.name);
    if (!/^https?:\/\/[^/\s]+/.test(b.apiBase)) throw new Error(`${what}: apiBase must be an http:// or https:// URL, got ${JSON.stringify(b.apiBase)}`);
    // LiteLLM's ollama providers add /api/chat or /api/embed to the base: a path there (say /v1) is a 404 each time.
    if (b.kind === "ollama" && /^https?:\/\/[^/]+\/./.test(b.apiBase)) {
      throw new Error(`${what}: an Ollama backend's apiBase is its server's root, with no path (LiteLLM adds /api/...), got ${JSON.stringify(b.apiBase)}`);
    }
    const order = b.order ?? 1;
    const weight = b.weight ?? 1;
    if (!positiveInteger(order)) throw new Error(`${what}: order must be a whole number from 1, got ${order}`);
    if (!(Number.isFinite(weight) && weight > 0)) throw new Error(`${what}: weight must be a positive number, got ${weight}`);
    if (b.apiKeyEnv !== undefined && b.kind !== "openai") throw new Error(`${what}: apiKeyEnv is for an "openai" backend; Ollama takes no key`);
    if (b.apiKeyEnv !== undefined && !ENV_NAME.test(b.apiKeyEnv)) {
      throw new Error(
        `${what}: apiKeyEnv must be the name of an environment variable (upper-case letters, digits and _), not a key; ` +
          `got a value of ${b.apiKeyEnv.length} characters`,
      );
    }
    if (b.models.length === 0) throw new Error(`${what}: it serves no model`);
    const names = b.models.map((m) => m.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw new Error(`${what}: "${twice}" is listed twice`);
    return b.models.map((m) => {
      if (m.name.trim() === "") throw new Error(`${what}: a model name is empty`);
      if (cloudNames.has(m.name)) throw new Error(`${what}: "${m.name}" is a cloud model's name`);
      const deployment: ModelDeployment =
        b.kind === "ollama"
          ? localDeployment({ name: m.name, embedding: m.embedding }, b.apiBase, timeout)
          : {
              model_name: m.name,
              litellm_params: {
                model: `openai/${m.name}`,
                api_base: b.apiBase,
                api_key: b.apiKeyEnv === undefined ? NO_KEY : envRef(b.apiKeyEnv),
                timeout,
              },
              ...(m.embedding ? { model_info: { mode: "embedding" as const } } : {}),
            };
      return named(deployment, b.name, order, weight);
    });
  });
}

/**
 * One model's deployments serve one kind of request: an embedding deployment beside a chat one under the same
 * name would answer half of the requests with an error.
 */
function checkOneModeEach(deployments: ModelDeployment[]): void {
  const mode = new Map<string, { mode: string; where: string }>();
  for (const d of deployments) {
    const own = { mode: d.model_info?.mode ?? "chat", where: d.model_info?.id ?? d.model_name };
    const first = mode.get(d.model_name);
    if (first === undefined) mode.set(d.model_name, own);
    else if (first.mode !== own.mode) {
      throw new Error(`LiteLLM model "${d.model_name}" is served as ${first.mode} by ${first.where} but as ${own.mode} by ${own.where}`);
    }
  }
}

/** router_settings' routing keys, checked; see {@link LiteLlmRouting}. */
function routingSettings(routing: LiteLlmRouting): Omit<LiteLlmConfig["router_settings"], "fallbacks"> {
  const wholeFrom = (n: number, min: number) => Number.isInteger(n) && n >= min;
  if (!(LITELLM_ROUTING_STRATEGIES as readonly string[]).includes(routing.strategy)) {
    throw new Error(`LiteLLM routing strategy "${routing.strategy}" is not one of ${LITELLM_ROUTING_STRATEGIES.join(", ")}`);
  }
  if (!wholeFrom(routing.allowedFails, 0)) throw new Error(`LiteLLM allowedFails must be a whole number from 0, got ${routing.allowedFails}`);
  // LiteLLM reads a cooldown of 0 as no cooldown at all (cooldown_handlers.py _should_run_cooldown_logic).
  if (!wholeFrom(routing.cooldownSeconds, 1)) throw new Error(`LiteLLM cooldownSeconds must be a whole number from 1, got ${routing.cooldownSeconds}`);
  if (!wholeFrom(routing.numRetries, 0)) throw new Error(`LiteLLM numRetries must be a whole number from 0, got ${routing.numRetries}`);
  return {
    routing_strategy: routing.strategy,
    enable_weighted_failover: true,
    num_retries: routing.numRetries,
    allowed_fails: routing.allowedFails,
    cooldown_time: routing.cooldownSeconds,
  };
}

/** `router_settings.fallbacks` in LiteLLM's form: one single-key map per model, sorted by model name. */
function fallbackList(fallbacks: Record<string, string[]>, known: ReadonlySet<string>): Record<string, string[]>[] {
  const describe = (name: string) =>
    `"${name}" is not a configured model (configured: ${[...known].map((n) => `"${n}"`).join(", ") || "none"})`;
  return Object.keys(fallbacks)
    .sort()
    .map((from) => {
      const to = fallbacks[from];
      if (!known.has(from)) throw new Error(`LiteLLM fallbacks: ${describe(from)}`);
      if (to.length === 0) throw new Error(`LiteLLM fallbacks for "${from}": the list is empty`);
      for (const target of to) {
        if (!known.has(target)) throw new Error(`LiteLLM fallbacks for "${from}": ${describe(target)}`);
        if (target === from) throw new Error(`LiteLLM fallbacks for "${from}": a model cannot fall back to itself`);
      }
      if (new Set(to).size !== to.length) throw new Error(`LiteLLM fallbacks for "${from}": a model is listed twice`);
      return { [from]: [...to] };
    });
}

/** The config as data, validated; {@link renderLiteLlmConfig} serializes it. */
export function buildLiteLlmConfig(spec: LiteLlmSpec): LiteLlmConfig {
  const timeout = spec.requestTimeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_SECONDS;
  const metrics = spec.metrics ?? true;
  if (!(timeout > 0)) throw new Error(`LiteLLM requestTimeoutSeconds must be a positive number, got ${timeout}`);
  if (spec.ollamaApiBase.trim() === "" && spec.localModels.length > 0) {
    throw new Error(`LiteLLM ollamaApiBase must be set when there are local models, e.g. http://ollama:${port("ollama")}`);
  }

  const backends = spec.backends ?? [];
  const locals = spec.localModels.map((m) => localDeployment(m, spec.ollamaApiBase, timeout));
  const clouds = spec.cloudModels.map(cloudDeployment);
  const known = new Set<string>();
  for (const { model_name } of [...locals, ...clouds]) {
    // Two deployments under one name would silently become a load-balanced pair.
    if (known.has(model_name)) throw new Error(`LiteLLM model name "${model_name}" is configured twice`);
    known.add(model_name);
  }
  const routed = backends.length === 0 ? [] : backendDeployments(backends, spec.localOrder ?? 1, timeout, clouds);
  const models = backends.length === 0 ? [...locals, ...clouds] : [...locals.map((d) => named(d, LOCAL_DEPLOYMENT, spec.localOrder ?? 1)), ...routed, ...clouds];
  if (models.length === 0) throw new Error("LiteLLM needs at least one local or cloud model");
  checkOneModeEach(models);
  for (const { model_name } of routed) known.add(model_name);

  return {
    model_list: models,
    router_settings: {
      fallbacks: fallbackList(spec.fallbacks, known),
      ...(spec.routing === undefined ? {} : routingSettings(spec.routing)),
    },
    litellm_settings: {
      // Clients send OpenAI parameters that Ollama or Anthropic may not take; drop them rather than fail.
      drop_params: true,
      request_timeout: timeout,
      // The router's own num_retries, when set, is the one routed requests use; the same number here.
      num_retries: spec.routing?.numRetries ?? NUM_RETRIES,
      ...(metrics ? { callbacks: ["prometheus"] } : {}),
      // LiteLLM's default, said outright: /metrics on the API port, which users reach, needs a key LiteLLM
      // lets read it (the master key or an admin's; an ordinary virtual key is refused it as an admin-only
      // route, proxy/auth/route_checks.py). Its labels name keys' aliases, teams, users' e-mails and clients'
      // addresses, which one team's key must not read of another's.
      require_auth_for_metrics_endpoint: true,
    },
    general_settings: {
      master_key: envRef(LITELLM_MASTER_KEY_ENV),
      ...(spec.database ? { database_url: envRef(LITELLM_DATABASE_URL_ENV) } : {}),
    },
  };
}

/** LiteLLM's config.yaml for the spec. Pure and deterministic; throws a plain Error on an invalid spec. */
export function renderLiteLlmConfig(spec: LiteLlmSpec): string {
  const doc = new Document(buildLiteLlmConfig(spec));
  doc.commentBefore = " Generated by components/render/litellm.ts; secrets are os.environ/ references only.";
  return doc.toString({ lineWidth: 0 });
}
