// Prometheus, its alert rules and blackbox modules: the rendered files, checked and unit-tested by the real
// promtool at the deployed version. Every alert has a firing and a quiet case run by `promtool test rules`.
//
// Snapshots live in test/render/fixtures/prometheus/. After an intended change, regenerate them with
//   UPDATE_SNAPSHOTS=1 node --import tsx --test test/render/prometheus.test.ts
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { ALERTS, DEFAULT_ALERT_THRESHOLDS } from "../../components/render/alertRules";
import {
  BLACKBOX_HTTP_MODULE,
  renderAlertRules,
  renderBlackboxConfig,
  renderPrometheusConfig,
  type PrometheusSpec,
} from "../../components/render/prometheus";
import { promtoolCheckExpressions, runPrometheusTool, tempDir } from "../validators/promql";

const SNAPSHOT_DIR = path.join(__dirname, "fixtures", "prometheus");
const UPDATE_SNAPSHOTS = process.env.UPDATE_SNAPSHOTS === "1";

const INFERENCE = "100.64.0.1";
const OPERATIONS = "100.64.0.2";

const spec: PrometheusSpec = {
  environment: "prod",
  nodes: [
    { role: "operations", address: OPERATIONS },
    { role: "inference", address: INFERENCE },
  ],
  credentials: { qdrantReadOnlyKeyFile: "/etc/prometheus/secrets/qdrant-read-only-api-key" },
  probes: [
    // Ollama is published nowhere: the inference node's own blackbox exporter probes it on its Docker network.
    { name: "ollama", url: "http://ollama:11434/api/version", via: `${INFERENCE}:9115` },
    { name: "litellm", url: `http://${INFERENCE}:4000/health/liveliness` },
    { name: "qdrant", url: `http://${INFERENCE}:6333/healthz` },
  ],
  blackboxAddress: "blackbox:9115",
  alertmanagerAddress: "alertmanager:9093",
  ruleFiles: ["/etc/prometheus/rules/platform.yml"],
};

interface StaticConfig {
  targets: string[];
  labels?: Record<string, string>;
}
interface ScrapeJob {
  job_name: string;
  metrics_path?: string;
  params?: Record<string, string[]>;
  authorization?: { type: string; credentials_file: string };
  static_configs: StaticConfig[];
  relabel_configs?: { source_labels?: string[]; target_label: string; replacement?: string }[];
}
interface ParsedConfig {
  global: { scrape_interval: string; scrape_timeout: string; evaluation_interval: string; external_labels: Record<string, string> };
  alerting: { alertmanagers: { static_configs: StaticConfig[] }[] };
  rule_files: string[];
  scrape_configs: ScrapeJob[];
}
interface RuleFile {
  groups: { name: string; rules: { alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> }[] }[];
}

function job(config: ParsedConfig, name: string): ScrapeJob {
  const found = config.scrape_configs.find((j) => j.job_name === name);
  assert.ok(found, `no scrape job ${name}`);
  return found;
}

function matchesSnapshot(name: string, text: string): void {
  const snapshot = path.join(SNAPSHOT_DIR, name);
  if (UPDATE_SNAPSHOTS) {
    fs.mkdirSync(SNAPSHOT_DIR, { recursive: true });
    fs.writeFileSync(snapshot, text);
  }
  assert.ok(fs.existsSync(snapshot), `no snapshot at ${snapshot}: run with UPDATE_SNAPSHOTS=1 once`);
  assert.equal(text, fs.readFileSync(snapshot, "utf8"), `${name} changed: review, then UPDATE_SNAPSHOTS=1`);
}

/** Writes the rules and the token files where a rendered config points, as promtool checks that they exist. */
function checkConfig(configSpec: PrometheusSpec, rules: string): void {
  const dir = tempDir();
  const rulesFile = path.join(dir, "rules", "platform.yml");
  const qdrantKey = path.join(dir, "secrets", "qdrant-read-only-api-key");
  fs.mkdirSync(path.dirname(rulesFile), { recursive: true });
  fs.mkdirSync(path.dirname(qdrantKey), { recursive: true });
  fs.writeFileSync(rulesFile, rules);
  fs.writeFileSync(qdrantKey, "test\n");
  const configFile = path.join(dir, "prometheus.yml");
  fs.writeFileSync(
    configFile,
    renderPrometheusConfig({ ...configSpec, ruleFiles: [rulesFile], credentials: { qdrantReadOnlyKeyFile: qdrantKey } }),
  );
  const result = runPrometheusTool("promtool", ["check", "config", "--lint=all", "--lint-fatal", configFile]);
  assert.equal(result.status, 0, `promtool check config failed:\n${result.output}`);
  assert.match(result.output, /SUCCESS: .*prometheus\.yml is valid prometheus config file syntax/, result.output);
  assert.match(result.output, /SUCCESS: 15 rules found/, result.output);
}

describe("renderPrometheusConfig", () => {
  const text = renderPrometheusConfig(spec);
  const config = parse(text) as ParsedConfig;

  it("matches its committed snapshot", () => matchesSnapshot("prometheus.yml", text));

  it("is accepted by promtool check config, rule files and token files included", () => {
    checkConfig(spec, renderAlertRules(spec.environment));
  });

  it("is accepted without probes and without an inference node, leaving those jobs out", () => {
    const opsOnly: PrometheusSpec = { ...spec, nodes: [{ role: "operations", address: OPERATIONS }], probes: [] };
    const jobs = (parse(renderPrometheusConfig(opsOnly)) as ParsedConfig).scrape_configs.map((j) => j.job_name);
    assert.deepEqual(jobs, ["prometheus", "alertmanager", "blackbox-exporter", "node", "cadvisor"]);
    checkConfig(opsOnly, renderAlertRules(spec.environment));
  });

  it("scrapes an extra inference node's exporters labelled with its name, probes its Ollama, and promtool accepts it", () => {
    const worker = "100.64.0.9";
    const withWorker: PrometheusSpec = {
      ...spec,
      nodes: [...spec.nodes, { role: "worker", address: worker, name: "b" }],
      probes: [...spec.probes, { name: "ollama-b", url: `http://${worker}:11434/api/version`, via: `${INFERENCE}:9115` }],
    };
    const parsed = parse(renderPrometheusConfig(withWorker)) as ParsedConfig;
    for (const [name, p] of [["node", 9100], ["cadvisor", 8080]] as const) {
      assert.deepEqual(job(parsed, name).static_configs.at(-1), { targets: [`${worker}:${p}`], labels: { role: "worker", node: "b" } });
    }
    // LiteLLM and Qdrant run on the inference node only.
    assert.ok(!job(parsed, "litellm").static_configs.some((c) => c.targets[0].startsWith(worker)));
    assert.throws(() => renderPrometheusConfig({ ...withWorker, nodes: [{ role: "worker", address: worker, name: "B!" }] }), /name of the worker node at 100.64.0.9/);
    checkConfig(withWorker, renderAlertRules(spec.environment));
  });

  it("labels everything with the environment and sends alerts to Alertmanager", () => {
    assert.deepEqual(config.global.external_labels, { environment: "prod" });
    assert.equal(config.global.scrape_interval, "30s");
    assert.equal(config.global.evaluation_interval, "30s");
    assert.deepEqual(config.alerting.alertmanagers[0].static_configs[0].targets, ["alertmanager:9093"]);
    assert.deepEqual(config.rule_files, ["/etc/prometheus/rules/platform.yml"]);
  });

  it("scrapes node-exporter and cAdvisor on both nodes, labelled by role", () => {
    assert.deepEqual(job(config, "node").static_configs, [
      { targets: [`${INFERENCE}:9100`], labels: { role: "inference" } },
      { targets: [`${OPERATIONS}:9100`], labels: { role: "operations" } },
    ]);
    assert.deepEqual(
      job(config, "cadvisor").static_configs.flatMap((s) => s.targets),
      [`${INFERENCE}:8080`, `${OPERATIONS}:8080`],
    );
  });

  it("scrapes LiteLLM's metrics port with no credential, and Qdrant with its read-only key file", () => {
    const litellm = job(config, "litellm");
    assert.deepEqual(litellm.static_configs.flatMap((s) => s.targets), [`${INFERENCE}:4001`]);
    assert.equal(litellm.authorization, undefined, "LiteLLM's metrics port needs no key: Prometheus holds none of LiteLLM's");
    assert.equal(litellm.metrics_path, "/metrics/", "LiteLLM redirects /metrics to /metrics/");
    const qdrant = job(config, "qdrant");
    assert.deepEqual(qdrant.static_configs.flatMap((s) => s.targets), [`${INFERENCE}:6333`]);
    assert.deepEqual(qdrant.authorization, { type: "Bearer", credentials_file: "/etc/prometheus/secrets/qdrant-read-only-api-key" });
    assert.deepEqual(
      config.scrape_configs.flatMap((j) => (j.authorization ? [j.authorization.credentials_file] : [])),
      ["/etc/prometheus/secrets/qdrant-read-only-api-key"],
      "Qdrant's read-only key is the one credential Prometheus scrapes with",
    );
    assert.doesNotMatch(text, /sk-/, "no key in the config, only file paths");
  });

  it("probes every health URL through its blackbox exporter, keeping the URL as instance", () => {
    const probes = job(config, "probes");
    assert.equal(probes.metrics_path, "/probe");
    assert.deepEqual(probes.params, { module: [BLACKBOX_HTTP_MODULE] });
    assert.deepEqual(probes.static_configs, [
      { targets: [`http://${INFERENCE}:4000/health/liveliness`], labels: { probe: "litellm", __blackbox_address: "blackbox:9115" } },
      { targets: ["http://ollama:11434/api/version"], labels: { probe: "ollama", __blackbox_address: `${INFERENCE}:9115` } },
      { targets: [`http://${INFERENCE}:6333/healthz`], labels: { probe: "qdrant", __blackbox_address: "blackbox:9115" } },
    ]);
    assert.deepEqual(probes.relabel_configs, [
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__param_target"], target_label: "instance" },
      { source_labels: ["__blackbox_address"], target_label: "__address__" },
    ]);
  });

  it("honours port and interval overrides, keeping the scrape timeout within the interval", () => {
    const custom = parse(
      renderPrometheusConfig({ ...spec, scrapeIntervalSeconds: 5, ports: { nodeExporter: 19100, litellm: 14000 } }),
    ) as ParsedConfig;
    assert.equal(custom.global.scrape_interval, "5s");
    assert.equal(custom.global.scrape_timeout, "5s");
    assert.deepEqual(job(custom, "node").static_configs.flatMap((s) => s.targets), [`${INFERENCE}:19100`, `${OPERATIONS}:19100`]);
    assert.deepEqual(job(custom, "litellm").static_configs.flatMap((s) => s.targets), [`${INFERENCE}:14000`]);
    assert.deepEqual(job(custom, "qdrant").static_configs.flatMap((s) => s.targets), [`${INFERENCE}:6333`]);
  });

  it("is deterministic: nodes and probes in another order give the same text", () => {
    const shuffled: PrometheusSpec = { ...spec, nodes: [...spec.nodes].reverse(), probes: [...spec.probes].reverse() };
    assert.equal(renderPrometheusConfig(shuffled), text);
  });

  it("rejects a bad spec with the setting and the value", () => {
    assert.throws(() => renderPrometheusConfig({ ...spec, environment: "Prod" }), /environment must be lowercase.*"Prod"/);
    assert.throws(() => renderPrometheusConfig({ ...spec, scrapeIntervalSeconds: 0 }), /scrapeIntervalSeconds .* got 0/);
    assert.throws(() => renderPrometheusConfig({ ...spec, ports: { qdrant: 70000 } }), /ports\.qdrant must be a port number .* got 70000/);
    assert.throws(() => renderPrometheusConfig({ ...spec, nodes: [] }), /nodes must list at least one node/);
    assert.throws(
      () => renderPrometheusConfig({ ...spec, probes: [...spec.probes, { name: "qdrant", url: "http://x/" }] }),
      /probe name "qdrant" is used twice/,
    );
    assert.throws(() => renderPrometheusConfig({ ...spec, probes: [{ name: "ollama", url: "100.64.0.1:11434" }] }), /probe ollama: url must be/);
  });
});

describe("renderBlackboxConfig", () => {
  const text = renderBlackboxConfig();

  it("matches its committed snapshot", () => matchesSnapshot("blackbox.yml", text));

  it("has the module the probe job asks for: HTTP, any 2xx, IPv4, a timeout below the scrape timeout", () => {
    const parsed = parse(text) as { modules: Record<string, { prober: string; timeout: string; http: Record<string, unknown> }> };
    assert.deepEqual(Object.keys(parsed.modules), [BLACKBOX_HTTP_MODULE]);
    const module = parsed.modules[BLACKBOX_HTTP_MODULE];
    assert.equal(module.prober, "http");
    assert.equal(module.timeout, "5s");
    assert.equal(module.http.preferred_ip_protocol, "ip4");
    assert.equal(module.http.valid_status_codes, undefined, "the default is any 2xx");
  });
});

// ---------------------------------------------------------------------------------------------------------
// Alert rules

type Labels = Record<string, string>;

interface Series {
  series: string;
  values: string;
}

/** One `promtool test rules` group: series in, the alert expected at evalTime (or none). */
interface AlertCase {
  /** What the case shows, for the failure message. */
  title: string;
  series: Series[];
  evalTime: string;
  /** The alerts expected, with the series' labels and what `$value` renders as; empty for a quiet case. */
  expected: { labels: Labels; value?: string }[];
}

const ENV = "prod";
const NODE_LABELS = { instance: `${INFERENCE}:9100`, job: "node", role: "inference" };
const ROOT_FS = { device: "/dev/sda1", fstype: "ext4", mountpoint: "/", ...NODE_LABELS };
const LITELLM = { instance: `${INFERENCE}:4001`, job: "litellm" };
/** A store's backup results, as node-exporter's textfile collector exposes them (render/backupScripts.ts). */
const BACKUP_LABELS = { ...NODE_LABELS, store: "postgres" };

function selector(name: string, labels: Labels): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${name}{${pairs.join(",")}}`;
}

/**
 * One LiteLLM deployment's series as LiteLLM 1.110.2 writes them (measured with the real proxy in
 * metricNames.test.ts): the state a request left, under the URL it called; and, once cooled down, the state 2
 * and the cooldown counter under the deployment's configured api_base. An OpenAI-compatible backend's are one URL.
 */
function deploymentSeries(
  modelId: string,
  apiBase: string,
  requestUrl: string,
  values: { request: string; cooldownState?: string; cooldowns?: string },
): Series[] {
  const model = modelId.split("@")[0];
  const state = (url: string) => ({ ...LITELLM, api_base: url, api_provider: "ollama_chat", litellm_model_name: model, model_id: modelId, pid: "7" });
  const cooled = { ...LITELLM, api_base: apiBase, api_provider: "ollama_chat", exception_status: "500", litellm_model_name: model, model_id: modelId };
  return [
    { series: selector("litellm_deployment_state", state(requestUrl)), values: values.request },
    ...(values.cooldownState === undefined ? [] : [{ series: selector("litellm_deployment_state", state(apiBase)), values: values.cooldownState }]),
    ...(values.cooldowns === undefined ? [] : [{ series: selector("litellm_deployment_cooled_down_total", cooled), values: values.cooldowns }]),
  ];
}

const GPU_BOX = "http://gpu-box.tail1234.ts.net:11434";

function latencyBuckets(countsPerMinute: Record<string, number>): Series[] {
  return Object.entries(countsPerMinute).map(([le, perMinute]) => ({
    series: selector("litellm_request_total_latency_metric_bucket", { ...LITELLM, model: "qwen2.5:7b", le }),
    values: `0+${perMinute}x40`,
  }));
}

/**
 * For every alert: cases that must fire and cases that must stay quiet. Watchdog cannot be quiet by design;
 * its second case asserts instead that it already fires at the first evaluation, with nothing scraped at all.
 */
const CASES: Record<string, { firing: AlertCase[]; quiet: AlertCase[] }> = {
  Watchdog: {
    firing: [{ title: "fires at any time", series: [], evalTime: "10m", expected: [{ labels: {} }] }],
    quiet: [{ title: "is never quiet: fires at the first evaluation", series: [], evalTime: "0m", expected: [{ labels: {} }] }],
  },
  NodeDown: {
    firing: [
      {
        title: "node-exporter down for 4 minutes",
        series: [{ series: selector("up", NODE_LABELS), values: "1 0 0 0 0 0" }],
        evalTime: "5m",
        expected: [{ labels: NODE_LABELS }],
      },
    ],
    quiet: [
      {
        title: "down for 1 minute, less than `for`",
        series: [{ series: selector("up", NODE_LABELS), values: "1 1 1 1 0 0" }],
        evalTime: "5m",
        expected: [],
      },
    ],
  },
  TargetDown: {
    firing: [
      {
        title: "qdrant unscrapable for 10 minutes",
        series: [{ series: selector("up", { instance: `${INFERENCE}:6333`, job: "qdrant", role: "inference" }), values: "0x10" }],
        evalTime: "10m",
        expected: [{ labels: { instance: `${INFERENCE}:6333`, job: "qdrant", role: "inference" } }],
      },
    ],
    quiet: [
      {
        title: "node-exporter down is NodeDown's, not TargetDown's",
        series: [{ series: selector("up", NODE_LABELS), values: "0x10" }],
        evalTime: "10m",
        expected: [],
      },
    ],
  },
  DiskSpaceLow: {
    firing: [
      {
        title: "5% free on / for 10 minutes",
        series: [
          { series: selector("node_filesystem_avail_bytes", ROOT_FS), values: "5x10" },
          { series: selector("node_filesystem_size_bytes", ROOT_FS), values: "100x10" },
        ],
        evalTime: "10m",
        expected: [{ labels: ROOT_FS, value: "5%" }],
      },
    ],
    quiet: [
      {
        title: "20% free on /, and a full tmpfs that does not count",
        series: [
          { series: selector("node_filesystem_avail_bytes", ROOT_FS), values: "20x10" },
          { series: selector("node_filesystem_size_bytes", ROOT_FS), values: "100x10" },
          { series: selector("node_filesystem_avail_bytes", { ...ROOT_FS, device: "tmpfs", fstype: "tmpfs", mountpoint: "/run" }), values: "0x10" },
          { series: selector("node_filesystem_size_bytes", { ...ROOT_FS, device: "tmpfs", fstype: "tmpfs", mountpoint: "/run" }), values: "100x10" },
        ],
        evalTime: "10m",
        expected: [],
      },
    ],
  },
  DiskWillFillIn24h: {
    firing: [
      {
        title: "10 GB free, losing 10 MB a minute (full in under 17 h)",
        series: [{ series: selector("node_filesystem_avail_bytes", ROOT_FS), values: "10000000000-10000000x480" }],
        evalTime: "8h",
        expected: [{ labels: ROOT_FS }],
      },
    ],
    quiet: [
      {
        title: "10 GB free, losing 1 MB a minute (full in about a week)",
        series: [{ series: selector("node_filesystem_avail_bytes", ROOT_FS), values: "10000000000-1000000x480" }],
        evalTime: "8h",
        expected: [],
      },
    ],
  },
  MemoryPressure: {
    firing: [
      {
        title: "0.5 of 8 GB available for 10 minutes",
        series: [
          { series: selector("node_memory_MemAvailable_bytes", NODE_LABELS), values: "500000000x10" },
          { series: selector("node_memory_MemTotal_bytes", NODE_LABELS), values: "8000000000x10" },
        ],
        evalTime: "10m",
        expected: [{ labels: NODE_LABELS, value: "6.25%" }],
      },
    ],
    quiet: [
      {
        title: "half the memory available",
        series: [
          { series: selector("node_memory_MemAvailable_bytes", NODE_LABELS), values: "4000000000x10" },
          { series: selector("node_memory_MemTotal_bytes", NODE_LABELS), values: "8000000000x10" },
        ],
        evalTime: "10m",
        expected: [],
      },
    ],
  },
  OOMKill: {
    firing: [
      {
        title: "one OOM kill 5 minutes ago",
        series: [{ series: selector("node_vmstat_oom_kill", NODE_LABELS), values: "0 0 0 0 0 1 1 1 1 1 1" }],
        evalTime: "10m",
        expected: [{ labels: NODE_LABELS }],
      },
    ],
    quiet: [
      {
        title: "old OOM kills, none in the last 15 minutes",
        series: [{ series: selector("node_vmstat_oom_kill", NODE_LABELS), values: "3x30" }],
        evalTime: "30m",
        expected: [],
      },
    ],
  },
  ContainerRestarting: {
    firing: [
      {
        title: "ollama started three times in 8 minutes",
        series: [
          {
            series: selector("container_start_time_seconds", {
              id: "/system.slice/docker-0123abcd.scope",
              image: "docker.io/ollama/ollama:0.17.1",
              instance: `${INFERENCE}:8080`,
              job: "cadvisor",
              name: "ollama",
              role: "inference",
            }),
            values: "1000 1000 1120 1120 1240 1240 1360 1360",
          },
        ],
        evalTime: "7m",
        expected: [
          {
            labels: {
              id: "/system.slice/docker-0123abcd.scope",
              image: "docker.io/ollama/ollama:0.17.1",
              instance: `${INFERENCE}:8080`,
              job: "cadvisor",
              name: "ollama",
              role: "inference",
            },
          },
        ],
      },
    ],
    quiet: [
      {
        title: "two restarts, and a cgroup without a container name",
        series: [
          {
            series: selector("container_start_time_seconds", { id: "/system.slice/docker-0123abcd.scope", instance: `${INFERENCE}:8080`, job: "cadvisor", name: "ollama" }),
            values: "1000 1000 1120 1120 1240 1240 1240 1240",
          },
          {
            series: selector("container_start_time_seconds", { id: "/system.slice/cron.service", instance: `${INFERENCE}:8080`, job: "cadvisor" }),
            values: "1 2 3 4 5 6 7 8",
          },
        ],
        evalTime: "7m",
        expected: [],
      },
    ],
  },
  ProbeFailed: {
    firing: [
      {
        title: "Ollama's health check failing for 5 minutes",
        series: [{ series: selector("probe_success", { instance: `http://${INFERENCE}:11434/api/version`, job: "probes", probe: "ollama" }), values: "0x5" }],
        evalTime: "5m",
        expected: [{ labels: { instance: `http://${INFERENCE}:11434/api/version`, job: "probes", probe: "ollama" } }],
      },
    ],
    quiet: [
      {
        title: "one failed probe, then success",
        series: [{ series: selector("probe_success", { instance: `http://${INFERENCE}:11434/api/version`, job: "probes", probe: "ollama" }), values: "1 1 0 1 1 1" }],
        evalTime: "5m",
        expected: [],
      },
    ],
  },
  LiteLLMErrorRate: {
    firing: [
      {
        title: "6 of 60 requests a minute fail",
        series: [
          { series: selector("litellm_proxy_total_requests_metric_total", { ...LITELLM, requested_model: "qwen2.5:7b", status_code: "200" }), values: "0+60x20" },
          { series: selector("litellm_proxy_failed_requests_metric_total", { ...LITELLM, requested_model: "qwen2.5:7b", exception_class: "APIConnectionError", exception_status: "500" }), values: "0+6x20" },
        ],
        evalTime: "20m",
        expected: [{ labels: LITELLM, value: "10%" }],
      },
    ],
    quiet: [
      {
        title: "1 of 60 requests a minute fails",
        series: [
          { series: selector("litellm_proxy_total_requests_metric_total", { ...LITELLM, requested_model: "qwen2.5:7b", status_code: "200" }), values: "0+60x20" },
          { series: selector("litellm_proxy_failed_requests_metric_total", { ...LITELLM, requested_model: "qwen2.5:7b", exception_class: "APIConnectionError", exception_status: "500" }), values: "0+1x20" },
        ],
        evalTime: "20m",
        expected: [],
      },
    ],
  },
  LiteLLMLatencyHigh: {
    firing: [
      {
        title: "every request takes 30-60 s",
        series: latencyBuckets({ "1": 0, "10": 0, "30": 0, "60": 100, "+Inf": 100 }),
        evalTime: "40m",
        expected: [{ labels: LITELLM, value: "58.5s" }],
      },
    ],
    quiet: [
      {
        title: "every request takes 1-10 s",
        series: latencyBuckets({ "1": 0, "10": 100, "30": 100, "60": 100, "+Inf": 100 }),
        evalTime: "40m",
        expected: [],
      },
    ],
  },
  LiteLLMDeploymentDown: {
    firing: [
      {
        title: "the GPU box's deployment failing and cooled down again and again while the node's serves the model",
        series: [
          ...deploymentSeries("qwen3:8b@gpu-box", GPU_BOX, `${GPU_BOX}/api/chat`, { request: "0 1x10", cooldownState: "_ 2x10", cooldowns: "_ 1+1x10" }),
          ...deploymentSeries("qwen3:8b@local", "http://ollama:11434", "http://ollama:11434/api/chat", { request: "0x11" }),
        ],
        evalTime: "8m",
        expected: [{ labels: { ...LITELLM, model_id: "qwen3:8b@gpu-box" } }],
      },
      {
        title: "an OpenAI-compatible backend cooled down, its one series at 2",
        series: deploymentSeries("qwen3:8b@vllm", "http://vllm.tail1234.ts.net:8000/v1", "http://vllm.tail1234.ts.net:8000/v1", {
          request: "0 1 2x10",
          cooldowns: "_ _ 1x10",
        }),
        evalTime: "8m",
        expected: [{ labels: { ...LITELLM, model_id: "qwen3:8b@vllm" } }],
      },
    ],
    quiet: [
      {
        title: "cooled down once, then answering again: the cooldown's series stays at 2, the requests' is back at 0",
        series: deploymentSeries("qwen3:8b@gpu-box", GPU_BOX, `${GPU_BOX}/api/chat`, { request: "0 1 1 0x10", cooldownState: "_ 2x12", cooldowns: "_ 1x12" }),
        evalTime: "10m",
        expected: [],
      },
      {
        title: "one failed request, then successes",
        series: deploymentSeries("qwen3:8b@local", "http://ollama:11434", "http://ollama:11434/api/chat", { request: "0 1 0x10" }),
        evalTime: "8m",
        expected: [],
      },
    ],
  },
  ClockSkew: {
    firing: [
      {
        title: "200 ms off",
        series: [
          { series: selector("node_timex_offset_seconds", NODE_LABELS), values: "0.2x20" },
          { series: selector("node_timex_sync_status", NODE_LABELS), values: "1x20" },
        ],
        evalTime: "15m",
        expected: [{ labels: NODE_LABELS }],
      },
      {
        title: "on time, but the kernel reports the clock unsynchronised",
        series: [
          { series: selector("node_timex_offset_seconds", NODE_LABELS), values: "0x20" },
          { series: selector("node_timex_sync_status", NODE_LABELS), values: "0x20" },
        ],
        evalTime: "15m",
        expected: [{ labels: NODE_LABELS }],
      },
    ],
    quiet: [
      {
        title: "1 ms off, synchronised",
        series: [
          { series: selector("node_timex_offset_seconds", NODE_LABELS), values: "-0.001x20" },
          { series: selector("node_timex_sync_status", NODE_LABELS), values: "1x20" },
        ],
        evalTime: "15m",
        expected: [],
      },
    ],
  },
  // Timestamps are Unix seconds; promtool's clock starts at 0, so at 27h time() is 97200.
  BackupStale: {
    firing: [
      {
        title: "the last success 27 hours ago",
        series: [
          { series: selector("aiplatform_backup_enabled_timestamp_seconds", BACKUP_LABELS), values: "0x1700" },
          { series: selector("aiplatform_backup_last_success_timestamp_seconds", BACKUP_LABELS), values: "0x1700" },
        ],
        evalTime: "27h",
        expected: [{ labels: BACKUP_LABELS, value: "1d 3h 0m 0s" }],
      },
      {
        title: "set up 27 hours ago, never a success",
        series: [{ series: selector("aiplatform_backup_enabled_timestamp_seconds", BACKUP_LABELS), values: "0x1700" }],
        evalTime: "27h",
        expected: [{ labels: BACKUP_LABELS, value: "1d 3h 0m 0s" }],
      },
    ],
    quiet: [
      {
        title: "set up 27 hours ago, the last success 25 hours ago",
        series: [
          { series: selector("aiplatform_backup_enabled_timestamp_seconds", BACKUP_LABELS), values: "0x1700" },
          { series: selector("aiplatform_backup_last_success_timestamp_seconds", BACKUP_LABELS), values: "7200x1700" },
        ],
        evalTime: "27h",
        expected: [],
      },
      {
        title: "set up 2 hours ago, no backup yet",
        series: [{ series: selector("aiplatform_backup_enabled_timestamp_seconds", BACKUP_LABELS), values: "90000x1700" }],
        evalTime: "27h",
        expected: [],
      },
    ],
  },
  BackupFailed: {
    firing: [
      {
        title: "the last run failed",
        series: [{ series: selector("aiplatform_backup_last_run_success", BACKUP_LABELS), values: "1x10 0x10" }],
        evalTime: "15m",
        expected: [{ labels: BACKUP_LABELS }],
      },
    ],
    quiet: [
      {
        title: "a failed run, then one that succeeded",
        series: [{ series: selector("aiplatform_backup_last_run_success", BACKUP_LABELS), values: "0x5 1x10" }],
        evalTime: "15m",
        expected: [],
      },
    ],
  },
};

/**
 * The annotation as Prometheus renders it for these labels; the only templates used are $labels.x, $value | fn,
 * and `{{ with $labels.x }}...{{ . }}...{{ end }}` (nothing when the series has no label x).
 */
function expandAnnotation(template: string, labels: Labels, value: string | undefined, where: string): string {
  const text = template
    .replace(/\{\{ with \$labels\.(\w+) \}\}(.*?)\{\{ end \}\}/g, (_, name: string, inner: string) =>
      labels[name] === undefined || labels[name] === "" ? "" : inner.split("{{ . }}").join(labels[name]),
    )
    .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => {
      assert.ok(name in labels, `${where}: the annotation uses $labels.${name}, which the case does not set`);
      return labels[name];
    })
    .replace(/\{\{ \$value \| \w+ \}\}/g, () => {
      assert.ok(value !== undefined, `${where}: the annotation uses $value; give the case its rendered value`);
      return value;
    });
  assert.doesNotMatch(text, /\{\{/, `${where}: a template this test cannot expand: ${template}`);
  return text;
}

/** The `promtool test rules` file: one test group per case, each checking one alert at one time. */
function ruleTests(rulesFile: string, rules: RuleFile, cases: Partial<Record<string, { firing: AlertCase[]; quiet: AlertCase[] }>> = CASES): string {
  const byName = new Map(rules.groups.flatMap((g) => g.rules).map((r) => [r.alert, r]));
  const tests = Object.entries(cases).flatMap(([alertname, { firing, quiet } = { firing: [], quiet: [] }]) =>
    [...firing, ...quiet].map((c) => {
      const rule = byName.get(alertname);
      assert.ok(rule, `no rule for ${alertname}`);
      return {
        name: `${alertname}: ${c.title}`,
        interval: "1m",
        input_series: c.series,
        alert_rule_test: [
          {
            eval_time: c.evalTime,
            alertname,
            exp_alerts: c.expected.map(({ labels, value }) => ({
              exp_labels: { ...labels, ...rule.labels },
              exp_annotations: Object.fromEntries(
                Object.entries(rule.annotations).map(([key, template]) => [key, expandAnnotation(template, labels, value, `${alertname} (${c.title})`)]),
              ),
            })),
          },
        ],
      };
    }),
  );
  return stringify({ rule_files: [rulesFile], evaluation_interval: "1m", tests }, { lineWidth: 0 });
}

describe("renderAlertRules", () => {
  const text = renderAlertRules(ENV);
  const rules = parse(text) as RuleFile;
  const all = rules.groups.flatMap((g) => g.rules);

  it("matches its committed snapshot", () => matchesSnapshot("rules.yml", text));

  it("is accepted by promtool check rules, lint errors fatal", () => {
    const file = path.join(tempDir(), "rules.yml");
    fs.writeFileSync(file, text);
    const result = runPrometheusTool("promtool", ["check", "rules", "--lint=all", "--lint-fatal", file]);
    assert.equal(result.status, 0, `promtool check rules failed:\n${result.output}`);
    assert.match(result.output, /SUCCESS: 15 rules found/, result.output);
  });

  it("fires and stays quiet as intended for every alert (promtool test rules)", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "rules.yml"), text);
    fs.writeFileSync(path.join(dir, "tests.yml"), ruleTests("rules.yml", rules));
    const result = runPrometheusTool("promtool", ["test", "rules", "tests.yml"], dir);
    assert.equal(result.status, 0, `promtool test rules failed:\n${result.output}`);
    assert.match(result.output, /SUCCESS/, result.output);
  });

  it("has a firing and a quiet case for every alert it emits, and only for those", () => {
    assert.deepEqual(Object.keys(CASES).sort(), all.map((r) => r.alert).sort());
    for (const [name, { firing, quiet }] of Object.entries(CASES)) {
      assert.ok(firing.length > 0 && firing.every((c) => c.expected.length > 0), `${name} needs a firing case`);
      assert.ok(quiet.length > 0, `${name} needs a quiet case`);
      if (name !== "Watchdog") assert.ok(quiet.every((c) => c.expected.length === 0), `${name}: a quiet case expects no alert`);
    }
  });

  it("emits exactly ALERTS, each with severity, environment, summary and a description", () => {
    assert.deepEqual(
      all.map((r) => ({ name: r.alert, severity: r.labels.severity, summary: r.annotations.summary })),
      ALERTS.map((a) => ({ ...a })),
    );
    for (const rule of all) {
      assert.deepEqual(Object.keys(rule.labels).sort(), ["environment", "severity"], rule.alert);
      assert.equal(rule.labels.environment, ENV);
      assert.ok(rule.annotations.description.length > 40, `${rule.alert} needs a description that says what to check`);
    }
    assert.deepEqual(
      ALERTS.filter((a) => a.severity === "critical").map((a) => a.name),
      ["NodeDown", "DiskSpaceLow", "MemoryPressure", "ProbeFailed"],
    );
  });

  it("uses the metrics LiteLLM and cAdvisor really expose", () => {
    const expr = (name: string) => all.find((r) => r.alert === name)?.expr ?? "";
    assert.match(expr("LiteLLMErrorRate"), /litellm_proxy_failed_requests_metric_total/);
    assert.match(expr("LiteLLMErrorRate"), /litellm_proxy_total_requests_metric_total/);
    assert.match(expr("LiteLLMLatencyHigh"), /litellm_request_total_latency_metric_bucket/);
    assert.match(expr("ContainerRestarting"), /changes\(container_start_time_seconds\{name!=""\}\[15m\]\)/);
  });

  it("puts the thresholds into the expressions and summaries", () => {
    const custom = (parse(renderAlertRules(ENV, { diskFreeRatio: 0.2, predictFullHours: 48, restartsIn15m: 5, litellmP95Seconds: 60 })) as RuleFile).groups[0].rules;
    const rule = (name: string) => custom.find((r) => r.alert === name);
    assert.match(rule("DiskSpaceLow")?.expr ?? "", /< 0\.2$/);
    assert.equal(rule("DiskSpaceLow")?.annotations.summary, "Less than 20% free on a filesystem");
    assert.match(rule("DiskWillFillIn24h")?.expr ?? "", /, 48 \* 3600\) < 0$/);
    assert.match(rule("ContainerRestarting")?.expr ?? "", />= 5$/);
    assert.match(rule("LiteLLMLatencyHigh")?.expr ?? "", /> 60$/);
    assert.match(rule("MemoryPressure")?.expr ?? "", new RegExp(`< ${DEFAULT_ALERT_THRESHOLDS.memoryAvailableRatio}$`));
  });

  it("rejects thresholds out of range, naming them", () => {
    assert.throws(() => renderAlertRules(ENV, { diskFreeRatio: 10 }), /threshold diskFreeRatio must be a fraction .* got 10/);
    assert.throws(() => renderAlertRules(ENV, { restartsIn15m: 0.5 }), /threshold restartsIn15m must be a whole number.* got 0\.5/);
    assert.throws(() => renderAlertRules(ENV, { clockOffsetSeconds: -1 }), /threshold clockOffsetSeconds must be a positive number; got -1/);
    assert.throws(() => renderAlertRules(ENV, { backupMaxAgeHours: 0 }), /threshold backupMaxAgeHours must be a positive number; got 0/);
  });
});

describe("renderAlertRules in an environment with extra inference nodes (nodeNames)", () => {
  const WORKER_ADDRESS = "100.64.0.9";
  const named = renderAlertRules(ENV, undefined, { nodeNames: true });
  const namedRules = parse(named) as RuleFile;
  const plainRules = parse(renderAlertRules(ENV)) as RuleFile;

  /** A case of CASES moved onto a node: its series and expected labels relabelled as that node's. */
  function onNode(c: AlertCase, to: { address: string; role: string; node?: string }): AlertCase {
    const relabel = (labels: Labels): Labels => {
      const moved = Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, k === "instance" ? v.replace(INFERENCE, to.address) : k === "role" ? to.role : v]));
      return to.node === undefined ? moved : { ...moved, node: to.node };
    };
    const series = c.series.map(({ series, values }) => {
      const match = /^(\w+)\{(.*)\}$/.exec(series);
      assert.ok(match, series);
      const labels = Object.fromEntries([...match[2].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      return { series: selector(match[1], relabel(labels)), values };
    });
    return { ...c, title: `${c.title}, on ${to.node ?? to.role}`, series, expected: c.expected.map((e) => ({ ...e, labels: relabel(e.labels) })) };
  }
  const worker = { address: WORKER_ADDRESS, role: "worker", node: "b" };
  const first = { address: INFERENCE, role: "inference", node: "inference" };
  const operations = { address: OPERATIONS, role: "operations" };
  const firing = (name: string, to: typeof worker | typeof operations) => ({ firing: CASES[name].firing.map((c) => onNode(c, to)), quiet: [] });
  const NODE_LEVEL = ["NodeDown", "DiskSpaceLow", "DiskWillFillIn24h", "MemoryPressure", "OOMKill", "ContainerRestarting", "ClockSkew", "TargetDown"];

  /** The description Prometheus gives the first firing case of `alert` moved onto `to`, as this test expands it. */
  function description(alert: string, to: typeof worker | typeof operations): string {
    const rule = namedRules.groups.flatMap((g) => g.rules).find((r) => r.alert === alert)!;
    const c = onNode(CASES[alert].firing[0], to);
    return expandAnnotation(rule.annotations.description, c.expected[0].labels, c.expected[0].value, alert);
  }

  it("is the unchanged file when the environment has no extra inference node", () => {
    assert.equal(renderAlertRules(ENV, undefined, { nodeNames: false }), renderAlertRules(ENV));
    matchesSnapshot("rules.yml", renderAlertRules(ENV, undefined, {}));
  });

  it("changes only descriptions: the same alerts, expressions, labels and summaries", () => {
    const strip = (f: RuleFile) => f.groups.flatMap((g) => g.rules).map((r) => ({ ...r, annotations: { ...r.annotations, description: "" } }));
    assert.deepEqual(strip(namedRules), strip(plainRules));
    assert.notEqual(named, renderAlertRules(ENV));
  });

  it("names the node in the description of every node-level alert of a worker, and of the first inference node", () => {
    const down = 'node-exporter on 100.64.0.9:9100 (worker node "b") has not answered for 2 minutes. ';
    assert.equal(description("NodeDown", worker).slice(0, down.length), down);
    assert.match(description("MemoryPressure", worker), /^100\.64\.0\.9:9100 \(worker node "b"\) has 6\.25% of its memory available/);
    assert.match(description("DiskSpaceLow", worker), /^\/ on 100\.64\.0\.9:9100 \(node "b"\) has 5% free/);
    assert.match(description("NodeDown", first), /^node-exporter on 100\.64\.0\.1:9100 \(inference node "inference"\)/);
    for (const alert of NODE_LEVEL) assert.match(description(alert, worker), /node "b"/, alert);
    // The operations node has no node label: its text is what it was.
    assert.match(description("NodeDown", operations), /^node-exporter on 100\.64\.0\.2:9100 \(operations node\) has not answered/);
  });

  it("promtool check rules accepts the file, and promtool test rules expands every alert as expected on every kind of node", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "rules.yml"), named);
    const check = runPrometheusTool("promtool", ["check", "rules", "--lint=all", "--lint-fatal", path.join(dir, "rules.yml")]);
    assert.equal(check.status, 0, `promtool check rules failed:\n${check.output}`);
    // Every case as it is (no node label: the text without a name), then the node-level ones moved onto a worker,
    // the first inference node and the operations node, and Ollama's probe on a worker.
    const cases: Record<string, { firing: AlertCase[]; quiet: AlertCase[] }> = { ...CASES };
    const suites = [cases];
    for (const to of [worker, first, operations]) suites.push(Object.fromEntries(NODE_LEVEL.map((name) => [name, firing(name, to)])));
    const probe = { instance: `http://${WORKER_ADDRESS}:11434/api/version`, job: "probes", probe: "ollama-b", node: "b" };
    suites.push({
      ProbeFailed: {
        firing: [{ title: "a worker's Ollama failing", series: [{ series: selector("probe_success", probe), values: "0x5" }], evalTime: "5m", expected: [{ labels: probe }] }],
        quiet: [],
      },
    });
    const probeText = expandAnnotation(
      namedRules.groups.flatMap((g) => g.rules).find((r) => r.alert === "ProbeFailed")!.annotations.description,
      probe,
      undefined,
      "ProbeFailed",
    );
    assert.match(probeText, /^The ollama-b health check at http:\/\/100\.64\.0\.9:11434\/api\/version \(node "b"\) has failed/);
    suites.forEach((suite, i) => fs.writeFileSync(path.join(dir, `tests-${i}.yml`), ruleTests("rules.yml", namedRules, suite)));
    const result = runPrometheusTool("promtool", ["test", "rules", ...suites.map((_, i) => `tests-${i}.yml`)], dir);
    assert.equal(result.status, 0, `promtool test rules failed:\n${result.output}`);
    assert.match(result.output, /SUCCESS/, result.output);
  });
});

describe("renderAlertRules where Qdrant is a cluster (qdrantCluster)", () => {
  const rules = renderAlertRules(ENV, undefined, { nodeNames: true, qdrantCluster: true });
  const parsed = parse(rules) as RuleFile;
  const peer = { instance: "100.64.0.9:6333", job: "qdrant", role: "worker", node: "b" };
  const shown = { instance: peer.instance, role: peer.role, node: peer.node };

  it("adds the alert on inactive shard copies only there: the rules of an environment without a cluster are unchanged", () => {
    assert.equal(renderAlertRules(ENV, undefined, { nodeNames: true }).includes("QdrantReplicaInactive"), false);
    assert.deepEqual(
      parsed.groups.flatMap((g) => g.rules).map((r) => r.alert).filter((a) => !(parse(renderAlertRules(ENV, undefined, { nodeNames: true })) as RuleFile).groups.flatMap((g) => g.rules).some((r) => r.alert === a)),
      ["QdrantReplicaInactive"],
    );
  });

  it("promtool accepts it; it fires for a peer whose shard copy stays inactive 15 minutes, naming the node, and not for a transfer that ends", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "rules.yml"), rules);
    const check = runPrometheusTool("promtool", ["check", "rules", "--lint=all", "--lint-fatal", path.join(dir, "rules.yml")]);
    assert.equal(check.status, 0, `promtool check rules failed:\n${check.output}`);
    const series = (values: string) => [{ series: selector("collection_dead_replicas", peer), values }];
    const cases = {
      QdrantReplicaInactive: {
        firing: [{ title: "a copy dead on b", series: series("0 1x20"), evalTime: "17m", expected: [{ labels: shown, value: "1" }] }],
        quiet: [
          { title: "a copy filled in 10 minutes", series: series("0 1x9 0x10"), evalTime: "19m", expected: [] },
          { title: "every copy active", series: series("0x20"), evalTime: "19m", expected: [] },
        ],
      },
    };
    fs.writeFileSync(path.join(dir, "tests.yml"), ruleTests("rules.yml", parsed, cases));
    const result = runPrometheusTool("promtool", ["test", "rules", "tests.yml"], dir);
    assert.equal(result.status, 0, `promtool test rules failed:\n${result.output}`);
    const rule = parsed.groups.flatMap((g) => g.rules).find((r) => r.alert === "QdrantReplicaInactive")!;
    assert.match(expandAnnotation(rule.annotations.description, shown, "1", "QdrantReplicaInactive"), /^Qdrant on 100\.64\.0\.9:6333 \(node "b"\) has reported 1 shard\(s\)/);
  });
});

describe("promtoolCheckExpressions", () => {
  it("accepts the rules' own expressions and Grafana-style queries once variables are given", () => {
    const exprs = (parse(renderAlertRules(ENV)) as RuleFile).groups[0].rules.map((r) => r.expr);
    promtoolCheckExpressions(exprs);
    promtoolCheckExpressions(['sum by (name) (rate(container_cpu_usage_seconds_total{job="$job",name!=""}[$__rate_interval]))'], {
      job: "cadvisor",
      __rate_interval: "2m",
    });
  });

  it("rejects a query that is not PromQL, naming it", () => {
    assert.throws(() => promtoolCheckExpressions(["up", "rate(up[5m]"]), /promtool rejects PromQL[\s\S]*check:expr_1: rate\(up\[5m\]/);
  });
});
