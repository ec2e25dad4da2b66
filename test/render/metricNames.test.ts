// Every metric name a dashboard panel or an alert rule queries exists: the real exporters at the deployed
// versions run on loopback, a real Prometheus scrapes them under the stack's job names, and each series
// selector of each query (read by that Prometheus's own PromQL parser) must name a metric that the exporter
// of its job exposes. cAdvisor and Qdrant cannot run here; their names come from their source
// (test/validators/sourceMetricNames.ts).
//
// Needs .tools/bin (bash .ci/install-prometheus-tools.sh) and .venv-litellm (bash .ci/install-litellm.sh);
// without them the tests fail, saying which script to run.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { IMAGES } from "../../components/catalog/images";
import { liteLlmDeploymentState } from "../../components/render/alertRules";
import { buildStackOverviewDashboard } from "../../components/render/grafana";
import { LITELLM_MASTER_KEY_ENV, renderLiteLlmConfig } from "../../components/render/litellm";
import { BLACKBOX_HTTP_MODULE, renderAlertRules, renderBlackboxConfig, SCRAPE_JOBS } from "../../components/render/prometheus";
import { CADVISOR_FLAGS, NODE_EXPORTER_FLAGS, NODE_EXPORTER_TEXTFILE_DIR } from "../../components/services/exporters";
import { installPrograms, mustRun, requireProgram, TOOLS_BIN, writeEnv } from "../backup/drill";
import { dashboardTargets, GRAFANA_VARIABLE_STANDINS } from "./dashboardQueries";
import { exposedNames, freePort, metricNamesOfJob, parsedSelectors, prometheusApi, RunningProgram, sleep, startProgram } from "../validators/exporters";
import { assertLiteLlmInstalled, type Recorded, type Reply, startLiteLlmProxy, startStandIn } from "../validators/litellm";
import { requirePrometheusTool, substituteVariables } from "../validators/promql";
import { CADVISOR_METRICS, cadvisorNames, QDRANT_METRICS, qdrantNames } from "../validators/sourceMetricNames";

/** A query and where it is used, e.g. `dashboard panel "Node disk free"`. */
interface Use {
  where: string;
  expr: string;
}

/** What the stack queries: every panel's queries (macros replaced) and every alert rule's; and what recording rules produce. */
function stackQueries(): { uses: Use[]; recorded: Set<string> } {
  // With extra inference nodes: every panel of the dashboard without them, and the Inference nodes row.
  const dashboard = buildStackOverviewDashboard({ environment: "dev", prometheusUrl: "http://prometheus:9090", inferenceNodes: true });
  const uses: Use[] = dashboardTargets(dashboard).map((t) => ({
    where: `dashboard panel "${t.panel}"`,
    expr: substituteVariables(t.expr, GRAFANA_VARIABLE_STANDINS),
  }));
  const recorded = new Set<string>();
  const rules = parse(renderAlertRules("dev", undefined, { nodeNames: true, qdrantCluster: true })) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
  for (const rule of rules.groups.flatMap((g) => g.rules)) {
    if (rule.record !== undefined) {
      recorded.add(rule.record);
      uses.push({ where: `recording rule "${rule.record}"`, expr: rule.expr });
    } else {
      uses.push({ where: `alert rule "${rule.alert}"`, expr: rule.expr });
    }
  }
  return { uses, recorded };
}

/** One scrape job's exporter: what it is and the names it exposes. */
interface Exporter {
  what: string;
  names: Set<string>;
}

const LOCAL = "qwen3:0.6b";
/**
 * The stand-in Ollama answers 500 for this model, which has no fallback: LiteLLM counts a failed request. It has
 * two deployments, the node's and a backend's (the same stand-in), so that LiteLLM cools them down (it never cools
 * a model's only deployment) and exposes its cool-down series.
 */
const BROKEN = "broken:1b";
/** The external backend that serves {@link BROKEN} too. */
const SPARE = "spare";
const EMBED = "nomic-embed-text:latest";

/**
 * The backups' results as a node's own backup program writes them for node-exporter's textfile collector: a
 * real run of it, with the pinned restic, backing up the config store into a repository in `dir`. Returns the
 * directory the results are in.
 */
function backupResults(dir: string): string {
  const restic = requireProgram("restic (built by .ci/install-backup-tools.sh)", [path.join(TOOLS_BIN, "restic")]);
  const programs = installPrograms(dir);
  const secrets = path.join(dir, "backup-secrets");
  const results = path.join(dir, "textfile");
  fs.mkdirSync(secrets, { mode: 0o700 });
  fs.writeFileSync(path.join(secrets, "repository-password"), randomBytes(16).toString("hex"));
  const env = path.join(dir, "backup.env");
  writeEnv(
    env,
    {
      node: "operations",
      repository: "sftp://unused@127.0.0.1:23/operations",
      stores: ["config"],
      retention: { daily: 7, weekly: 4, monthly: 6 },
      hourUtc: 3,
      dataDir: dir,
      resticImage: `docker.io/restic/restic:${IMAGES.restic.version}`,
    },
    {
      RESTIC_REPOSITORY: path.join(dir, "backup-repository"),
      BACKUP_SECRETS_DIR: secrets,
      BACKUP_WORK_DIR: path.join(dir, "backup-work"),
      BACKUP_METRICS_DIR: results,
      BACKUP_LOCK_FILE: path.join(dir, "backup.lock"),
    },
  );
  mustRun(path.join(programs, "backup"), [], {
    env: { PATH: `${path.dirname(restic)}:/usr/local/bin:/usr/bin:/bin`, AI_BACKUP_ENV: env, HOME: dir, TZ: "UTC" },
  });
  return results;
}

/** What LiteLLM's ollama_chat and ollama providers call, answered as Ollama would, with token counts. */
function ollamaReply({ method, url, body }: Recorded): Reply {
  if (method === "POST" && url === "/api/chat") {
    if (body.model === BROKEN) return { status: 500, body: { error: "stand-in ollama: model runner crashed" } };
    return {
      status: 200,
      body: {
        model: body.model,
        created_at: new Date(0).toISOString(),
        message: { role: "assistant", content: "hello" },
        done: true,
        done_reason: "stop",
        prompt_eval_count: 7,
        eval_count: 5,
      },
    };
  }
  if (method === "POST" && url === "/api/embed") {
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    return { status: 200, body: { model: body.model, embeddings: inputs.map(() => [0.25, -0.5]), prompt_eval_count: 3 } };
  }
  if (method === "GET" && (url === "/" || url === "/api/tags")) return { status: 200, body: { models: [] } };
  return { status: 404, body: { error: `stand-in ollama: no ${method} ${url}` } };
}

describe("metric names the dashboards and alert rules query", { timeout: 300_000 }, () => {
  const programs: RunningProgram[] = [];
  const closers: (() => Promise<void>)[] = [];
  const exporters = new Map<string, Exporter>();
  let prometheusUrl = "";
  let workDir = "";
  let egressRequests: Recorded[] = [];
  // Set when the programs could not be started; every test then fails with it (a failed hook would only cancel them).
  let startupError: string | undefined;
  const requireStarted = () => assert.equal(startupError, undefined, startupError);
  const { uses, recorded } = stackQueries();

  before(async () => {
    try {
      await startAll();
    } catch (e) {
      startupError = e instanceof Error ? e.message : String(e);
    }
  });

  after(async () => {
    for (const program of programs.reverse()) await program.stop();
    for (const close of closers) await close();
    if (workDir !== "") fs.rmSync(workDir, { recursive: true, force: true });
  });

  async function startAll(): Promise<void> {
    const binaries = {
      prometheus: requirePrometheusTool("prometheus"),
      alertmanager: requirePrometheusTool("alertmanager"),
      nodeExporter: requirePrometheusTool("node_exporter"),
      blackbox: requirePrometheusTool("blackbox_exporter"),
    };
    assertLiteLlmInstalled();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "metric-names-"));
    const file = (name: string, text: string) => {
      const p = path.join(workDir, name);
      fs.writeFileSync(p, text);
      return p;
    };

    const probeTarget = await startStandIn(() => ({ status: 200, body: { status: "ok" } }));
    const ollama = await startStandIn(ollamaReply);
    const egress = await startStandIn(() => ({ status: 403, body: { error: "egress trap: nothing may leave 127.0.0.1" } }));
    egressRequests = egress.requests;
    closers.push(probeTarget.close, ollama.close, egress.close);

    const addr = async () => `127.0.0.1:${await freePort()}`;
    const [nodeAddr, blackboxAddr, alertmanagerAddr, litellmAddr, litellmMetricsAddr, prometheusAddr] = [
      await addr(),
      await addr(),
      await addr(),
      await addr(),
      await addr(),
      await addr(),
    ];

    // node-exporter with the stack's flags, but the root filesystem it sees here is / rather than the host's /host,
    // and its textfile directory holds what a real run of the backup program wrote.
    const textfileFlag = `--collector.textfile.directory=${NODE_EXPORTER_TEXTFILE_DIR}`;
    assert.ok(NODE_EXPORTER_FLAGS.includes(textfileFlag), `node-exporter's flags lack ${textfileFlag}: the backups' results would not be scraped`);
    const textfileDir = backupResults(workDir);
    const nodeFlags = NODE_EXPORTER_FLAGS.filter((f) => !f.startsWith("--path.rootfs=")).map((f) =>
      f === textfileFlag ? `--collector.textfile.directory=${textfileDir}` : f,
    );
    programs.push(
      await startProgram("node_exporter", binaries.nodeExporter, [...nodeFlags, `--web.listen-address=${nodeAddr}`], {
        readyUrl: `http://${nodeAddr}/metrics`,
        cwd: workDir,
      }),
    );
    programs.push(
      await startProgram(
        "blackbox_exporter",
        binaries.blackbox,
        [`--config.file=${file("blackbox.yml", renderBlackboxConfig())}`, `--web.listen-address=${blackboxAddr}`],
        { readyUrl: `http://${blackboxAddr}/metrics`, cwd: workDir },
      ),
    );
    // No cluster listener: it would bind every address.
    const alertmanagerConfig = stringify({ route: { receiver: "nobody" }, receivers: [{ name: "nobody" }] });
    programs.push(
      await startProgram(
        "alertmanager",
        binaries.alertmanager,
        [
          `--config.file=${file("alertmanager.yml", alertmanagerConfig)}`,
          `--storage.path=${path.join(workDir, "alertmanager")}`,
          `--web.listen-address=${alertmanagerAddr}`,
          "--cluster.listen-address=",
        ],
        { readyUrl: `http://${alertmanagerAddr}/-/ready`, cwd: workDir },
      ),
    );

    const masterKey = `sk-test-${randomBytes(16).toString("hex")}`;
    const litellmConfig = renderLiteLlmConfig({
      ollamaApiBase: ollama.url,
      localModels: [{ name: LOCAL }, { name: BROKEN }, { name: EMBED, embedding: true }],
      cloudModels: [],
      fallbacks: {},
      database: false,
      backends: [{ name: SPARE, kind: "ollama", apiBase: ollama.url, models: [{ name: BROKEN }] }],
      // No failure allowed and no retry: the failed request cools both deployments down.
      routing: { strategy: "simple-shuffle", allowedFails: 0, cooldownSeconds: 60, numRetries: 0 },
    });
    const [, litellmPort] = litellmAddr.split(":");
    // The container's command line: Prometheus scrapes the metrics port, as the stack's does.
    programs.push(
      await startLiteLlmProxy({
        test: "metricNames",
        configPath: file("litellm.yaml", litellmConfig),
        port: Number(litellmPort),
        metricsPort: Number(litellmMetricsAddr.split(":")[1]),
        workDir,
        egress,
        env: { [LITELLM_MASTER_KEY_ENV]: masterKey },
      }),
    );

    // The stack's job names, each scraping the program that plays its part here; often, so the test is quick,
    // with time to spare for LiteLLM's /metrics on a busy machine.
    const prometheusConfig = {
      global: { scrape_interval: "2s", scrape_timeout: "2s" },
      scrape_configs: [
        { job_name: SCRAPE_JOBS.prometheus, static_configs: [{ targets: [prometheusAddr] }] },
        { job_name: SCRAPE_JOBS.alertmanager, static_configs: [{ targets: [alertmanagerAddr] }] },
        { job_name: SCRAPE_JOBS.blackboxExporter, static_configs: [{ targets: [blackboxAddr] }] },
        { job_name: SCRAPE_JOBS.node, static_configs: [{ targets: [nodeAddr] }] },
        {
          job_name: SCRAPE_JOBS.litellm,
          metrics_path: "/metrics/",
          fallback_scrape_protocol: "PrometheusText0.0.4",
          static_configs: [{ targets: [litellmMetricsAddr] }],
        },
        {
          job_name: SCRAPE_JOBS.probes,
          metrics_path: "/probe",
          params: { module: [BLACKBOX_HTTP_MODULE], target: [`${probeTarget.url}/health`] },
          static_configs: [{ targets: [blackboxAddr], labels: { probe: "stand-in" } }],
        },
      ],
    };
    prometheusUrl = `http://${prometheusAddr}`;
    programs.push(
      await startProgram(
        "prometheus",
        binaries.prometheus,
        [
          `--config.file=${file("prometheus.yml", stringify(prometheusConfig))}`,
          `--storage.tsdb.path=${path.join(workDir, "prometheus")}`,
          `--web.listen-address=${prometheusAddr}`,
        ],
        { readyUrl: `${prometheusUrl}/-/ready`, cwd: workDir },
      ),
    );

    // Real requests, so that LiteLLM's request, token, latency and failure series exist.
    const litellm = `http://${litellmAddr}`;
    const post = (route: string, body: unknown) =>
      fetch(`${litellm}${route}`, {
        method: "POST",
        headers: { authorization: `Bearer ${masterKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const ok = await post("/v1/chat/completions", { model: LOCAL, messages: [{ role: "user", content: "ping" }] });
    assert.equal(ok.status, 200, `a chat with ${LOCAL}: ${await ok.text()}`);
    const failed = await post("/v1/chat/completions", { model: BROKEN, messages: [{ role: "user", content: "ping" }] });
    assert.ok(failed.status >= 500, `a chat with ${BROKEN} should fail, got ${failed.status}: ${await failed.text()}`);
    const embedded = await post("/v1/embeddings", { model: EMBED, input: "a document" });
    assert.equal(embedded.status, 200, `an embedding with ${EMBED}: ${await embedded.text()}`);

    // The callback records after the answer is sent: wait until LiteLLM's names stop changing, then for a
    // scrape of every job after that.
    let previous = "";
    for (let tries = 0; ; tries++) {
      const res = await fetch(`http://${litellmMetricsAddr}/metrics/`);
      assert.equal(res.status, 200, `LiteLLM's metrics port answered ${res.status}`);
      const names = [...exposedNames(await res.text())].sort().join(" ");
      if (names === previous) break;
      assert.ok(tries < 30, "LiteLLM's metric names kept changing for 30 s");
      previous = names;
      await sleep(1_000);
    }
    const settled = Date.now() / 1000;
    const jobs = prometheusConfig.scrape_configs.map((c) => c.job_name);
    for (let tries = 0; ; tries++) {
      // The time of each job's last successful scrape.
      const up = await prometheusApi<{ result: { metric: { job: string }; value: [number, string] }[] }>(prometheusUrl, "query", {
        query: "timestamp(up == 1)",
      });
      const fresh = new Set(up.result.filter((s) => Number(s.value[1]) > settled).map((s) => s.metric.job));
      if (jobs.every((job) => fresh.has(job))) break;
      if (tries >= 60) {
        const targets = await prometheusApi<{ activeTargets: { labels: { job: string }; health: string; lastError: string }[] }>(prometheusUrl, "targets");
        assert.fail(
          `Prometheus did not scrape every job successfully within 60 s:\n` +
            targets.activeTargets.map((t) => `  ${t.labels.job}: ${t.health} ${t.lastError}`).join("\n"),
        );
      }
      await sleep(1_000);
    }

    const run = async (job: string, what: string) => exporters.set(job, { what, names: await metricNamesOfJob(prometheusUrl, job) });
    await run(SCRAPE_JOBS.prometheus, `Prometheus ${IMAGES.prometheus.version}'s own /metrics`);
    await run(SCRAPE_JOBS.alertmanager, `Alertmanager ${IMAGES.alertmanager.version}'s /metrics`);
    await run(SCRAPE_JOBS.blackboxExporter, `blackbox_exporter ${IMAGES.blackboxExporter.version}'s own /metrics`);
    await run(SCRAPE_JOBS.probes, `blackbox_exporter ${IMAGES.blackboxExporter.version}'s /probe (module ${BLACKBOX_HTTP_MODULE}, a probe that succeeded)`);
    await run(SCRAPE_JOBS.node, `node_exporter ${IMAGES.nodeExporter.version} (the stack's flags; its textfile collector reading a real backup run's results)`);
    await run(SCRAPE_JOBS.litellm, `LiteLLM ${IMAGES.litellm.version}'s metrics port after a chat, a failed chat that cooled its model's two deployments down, and an embedding`);

    // The series Prometheus adds to every target it scrapes (up, scrape_*): what it holds for its own job
    // beyond what its /metrics has. cAdvisor's and Qdrant's targets get them too.
    const ownMetrics = exposedNames(await (await fetch(`${prometheusUrl}/metrics`)).text());
    const perTarget = [...(exporters.get(SCRAPE_JOBS.prometheus)?.names ?? [])].filter(
      (name) => !ownMetrics.has(name) && [...exporters.values()].every((e) => e.names.has(name)),
    );
    assert.ok(perTarget.includes("up"), `the per-target series should include up: ${perTarget.join(", ")}`);
    exporters.set(SCRAPE_JOBS.cadvisor, {
      what: `cAdvisor ${IMAGES.cadvisor.version} as read from ${CADVISOR_METRICS.repository} ${CADVISOR_METRICS.files[0]}, less the stack's --disable_metrics,`,
      names: new Set([...cadvisorNames(CADVISOR_FLAGS), ...perTarget]),
    });
    exporters.set(SCRAPE_JOBS.qdrant, {
      what: `Qdrant ${IMAGES.qdrant.version} as read from ${QDRANT_METRICS.repository} ${QDRANT_METRICS.files[0]}`,
      names: new Set([...qdrantNames(), ...perTarget]),
    });
  }

  /** The job a selector asks for with `job="..."`, if it names one. */
  const jobOf = (matchers: { type: string; name: string; value: string }[]) => matchers.find((m) => m.name === "job" && m.type === "=")?.value;

  /**
   * The names of `names` that share the longest start with `name` (at most three, and none when fewer than
   * eight characters are shared): what a wrong name was probably meant to be.
   */
  function nearest(name: string, names: Iterable<string>): { shared: number; names: string[] } {
    const shared = (other: string) => {
      let i = 0;
      while (i < other.length && i < name.length && other[i] === name[i]) i++;
      return i;
    };
    const all = [...names];
    const best = Math.max(0, ...all.map(shared));
    return best < 8 ? { shared: 0, names: [] } : { shared: best, names: all.filter((n) => shared(n) === best).sort().slice(0, 3) };
  }

  /** One line per selector whose metric its exporter does not expose, naming the use, the name and the exporter. */
  async function problems(checked: Use[]): Promise<string[]> {
    const found: string[] = [];
    for (const use of checked) {
      for (const selector of await parsedSelectors(prometheusUrl, use.expr)) {
        const { name } = selector;
        if (name === "") {
          found.push(`${use.where} selects series by something other than a metric name (${use.expr}): the test cannot tell which exporter it needs`);
          continue;
        }
        if (recorded.has(name)) continue;
        const job = jobOf(selector.matchers);
        if (job !== undefined) {
          const exporter = exporters.get(job);
          if (exporter === undefined) {
            found.push(`${use.where} queries ${name} of job "${job}", which is not a scrape job of the stack (${[...exporters.keys()].sort().join(", ")})`);
          } else if (!exporter.names.has(name)) {
            const near = nearest(name, exporter.names).names;
            found.push(
              `${use.where} queries ${name}, which ${exporter.what} (job "${job}") does not expose` +
                (near.length > 0 ? `; it has ${near.join(", ")}` : ""),
            );
          }
          continue;
        }
        if ([...exporters.values()].some((e) => e.names.has(name))) continue;
        // No job named: the exporter it belongs to is the one with the names closest to it.
        const [closest] = [...exporters.entries()]
          .map(([j, e]) => ({ job: j, exporter: e, near: nearest(name, e.names) }))
          .filter((c) => c.near.shared > 0)
          .sort((a, b) => b.near.shared - a.near.shared);
        found.push(
          `${use.where} queries ${name}, which no exporter exposes` +
            (closest === undefined ? "" : `; by its name it belongs to ${closest.exporter.what} (job "${closest.job}"), which has ${closest.near.names.join(", ")}`),
        );
      }
    }
    return found;
  }

  it("has an exporter, run here or read from its source, for every scrape job of the stack", () => {
    requireStarted();
    assert.deepEqual([...exporters.keys()].sort(), Object.values(SCRAPE_JOBS).sort());
    for (const [job, exporter] of exporters) assert.ok(exporter.names.size >= 5, `job "${job}" (${exporter.what}) has only ${[...exporter.names].join(", ")}`);
  });

  it("checks the dashboards' panels and every alert rule", () => {
    assert.ok(uses.filter((u) => u.where.startsWith("dashboard panel")).length >= 20, "the dashboard's queries");
    assert.ok(uses.filter((u) => u.where.startsWith("alert rule")).length >= 10, "the alert rules");
  });

  it("finds every metric a dashboard panel or an alert rule queries in what the exporter of its job exposes", async () => {
    requireStarted();
    assert.deepEqual(await problems(uses), []);
  });

  it("reads each deployment's state from the real LiteLLM as the dashboard and LiteLLMDeploymentDown do: cooled down, healthy", async () => {
    requireStarted();
    // Right after the failed chat: both deployments of the broken model cooled down (each with a series at 1
    // under the URL it called and one at 2 under its api_base), the working model's healthy.
    const state = await prometheusApi<{ result: { metric: { model_id: string }; value: [number, string] }[] }>(prometheusUrl, "query", {
      query: liteLlmDeploymentState("model_id"),
    });
    const byId = Object.fromEntries(state.result.map((s) => [s.metric.model_id, Number(s.value[1])]));
    assert.deepEqual(byId, { [`${BROKEN}@local`]: 2, [`${BROKEN}@${SPARE}`]: 2, [`${LOCAL}@local`]: 0, [`${EMBED}@local`]: 0 });
  });

  it("reports a name no exporter has, with the panel and the exporter that should have it", async () => {
    requireStarted();
    // The names the stack overview's panels used before (issue 12): LiteLLM's and Qdrant's real names differ.
    const found = await problems([
      { where: 'dashboard panel "tokens"', expr: 'sum by (requested_model) (rate(litellm_total_tokens_total{job="litellm"}[1m]))' },
      { where: 'dashboard panel "output"', expr: "rate(litellm_output_tokens_total[1m])" },
      { where: 'dashboard panel "qdrant"', expr: 'sum(rate(rest_responses_fail_total{job="qdrant"}[1m]))' },
      { where: 'alert rule "misplaced"', expr: 'node_load1{job="cadvisor"} > 1' },
    ]);
    assert.equal(found.length, 4, found.join("\n"));
    assert.match(found[0], /^dashboard panel "tokens" queries litellm_total_tokens_total, which LiteLLM .* \(job "litellm"\) does not expose; it has .*litellm_total_tokens_metric_total/);
    assert.match(found[1], /^dashboard panel "output" queries litellm_output_tokens_total, which no exporter exposes; by its name it belongs to LiteLLM .*litellm_output_tokens_metric_total/);
    assert.match(found[2], /^dashboard panel "qdrant" queries rest_responses_fail_total, which Qdrant .* \(job "qdrant"\) does not expose/);
    assert.match(found[3], /^alert rule "misplaced" queries node_load1, which cAdvisor .* \(job "cadvisor"\) does not expose/);
  });

  it("reads cAdvisor's and Qdrant's names for the versions the stack deploys", () => {
    assert.equal(CADVISOR_METRICS.forVersion, IMAGES.cadvisor.version, "read cAdvisor's metric files again at the new version");
    assert.equal(QDRANT_METRICS.forVersion, IMAGES.qdrant.version, "read Qdrant's src/common/metrics.rs again at the new version");
    // The deployed flags disable only kinds cAdvisor has, and leave the container metrics the dashboard needs.
    const names = cadvisorNames(CADVISOR_FLAGS);
    assert.ok(names.has("container_memory_working_set_bytes") && !names.has("container_fs_usage_bytes"), "disk metrics are disabled by the stack's flags");
  });

  it("sent nothing anywhere but the stand-ins on 127.0.0.1", () => {
    requireStarted();
    assert.deepEqual(
      egressRequests.map((r) => `${r.method} ${r.url}`),
      [],
      "LiteLLM tried to reach the internet",
    );
  });
});
