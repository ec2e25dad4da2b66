/**
 * The operations node as the stacks declare it: monitoring wired to the real addresses and credentials,
 * alert routes from the settings, Coolify only when asked for, and the files it renders accepted by the
 * real promtool, amtool and shellcheck.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { nodePlacement } from "../tools/nodePlacement";
import { renderedFiles } from "../tools/report";
import { ProgramRun, projectName, RecordedResource, runProgram } from "./harness";
import { assertShellcheckClean } from "./validators";
import { requirePrometheusTool, runPrometheusTool } from "./validators/promql";

const PROJECT = projectName();
const CONTAINER = "docker:index/container:Container";

/** Stand-in tailnet addresses for the validators, which need real host:port targets. */
const withAddresses = (text: string) =>
  text.replace(/known-after-deploy:tailnet-ipv4/g, "100.64.0.1").replace(/known-after-deploy:[a-z0-9:-]+/g, "100.64.0.2");

function container(run: ProgramRun, role: string, name: string): RecordedResource {
  const placement = nodePlacement(run);
  const found = run.ofType(CONTAINER).filter((c) => c.inputs.name === name && placement.roleOf(c) === role);
  assert.equal(found.length, 1, `expected one ${name} container on the ${role} node`);
  return found[0];
}

/** A container's environment, name -> value. */
const env = (c: RecordedResource): Record<string, string> =>
  Object.fromEntries(((c.inputs.envs ?? []) as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));

const upload = (c: RecordedResource, file: string) =>
  ((c.inputs.uploads ?? []) as { file: string; content: string; permissions?: string; owner?: string }[]).find((u) => u.file === file);

for (const stack of ["dev", "prod"]) {
  describe(`the ${stack} operations node`, () => {
    let run: ProgramRun;
    let dir: string;
    before(async () => {
      run = await runProgram(stack);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `ops-${stack}-`));
    });

    it("runs Prometheus, Alertmanager, Grafana and a blackbox exporter, each on the tailnet address or nowhere", () => {
      for (const name of ["prometheus", "alertmanager", "grafana", "blackbox"]) {
        const c = container(run, "operations", name);
        for (const p of (c.inputs.ports ?? []) as { ip: string }[]) assert.match(p.ip, /tailnet-ipv4/);
      }
      assert.deepEqual(container(run, "operations", "blackbox").inputs.ports, []);
    });

    it("Prometheus's config passes the real `promtool check config`, scraping both nodes over the tailnet", () => {
      requirePrometheusTool("promtool");
      const prometheus = container(run, "operations", "prometheus");
      const config = upload(prometheus, "/etc/prometheus/prometheus.yml");
      const rules = upload(prometheus, "/etc/prometheus/rules/platform.yml");
      assert.ok(config && rules);
      // promtool opens the rule and credential files the config names: write them where it looks.
      const text = withAddresses(config.content).replace(/\/etc\/prometheus\//g, `${dir}/`);
      fs.mkdirSync(path.join(dir, "rules"), { recursive: true });
      fs.mkdirSync(path.join(dir, "secrets"), { recursive: true });
      fs.writeFileSync(path.join(dir, "rules", "platform.yml"), rules.content);
      fs.writeFileSync(path.join(dir, "secrets", "qdrant-read-only-api-key"), "x");
      fs.writeFileSync(path.join(dir, "prometheus.yml"), text);
      const result = runPrometheusTool("promtool", ["check", "config", path.join(dir, "prometheus.yml")]);
      assert.equal(result.status, 0, result.output);
      const parsed = parse(config.content) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
      const targets = (job: string) => parsed.scrape_configs.find((j) => j.job_name === job)?.static_configs.flatMap((s) => s.targets) ?? [];
      assert.equal(targets("node").length, 2, "node-exporter on both nodes");
      assert.equal(targets("cadvisor").length, 2, "cAdvisor on both nodes");
      assert.deepEqual(targets("probes").sort(), [
        "http://known-after-deploy:tailnet-ipv4:4000/health/liveliness",
        "http://known-after-deploy:tailnet-ipv4:6333/healthz",
        "http://ollama:11434/api/version",
      ]);
    });

    it("Prometheus keeps metrics by time and by size, the size within the volume", () => {
      const command = container(run, "operations", "prometheus").inputs.command as string[];
      assert.ok(command.includes(`--storage.tsdb.retention.time=${stack === "dev" ? 7 : 30}d`));
      assert.ok(command.includes("--storage.tsdb.retention.size=6GB"));
    });

    it("Prometheus reads Qdrant's read-only key, its one credential, from a file only it can read", () => {
      const prometheus = container(run, "operations", "prometheus");
      // Nobody, in the root group: the file below is root's and the root group's.
      assert.equal(prometheus.inputs.user, "65534:0");
      assert.ok(prometheus.secretInputs.some((p) => p.startsWith("uploads")), "the key file is not secret");
      const secretFiles = ((prometheus.inputs.uploads ?? []) as { file: string }[]).map((u) => u.file).filter((f) => f.includes("/secrets/"));
      assert.deepEqual(secretFiles, ["/etc/prometheus/secrets/qdrant-read-only-api-key"]);
      const u = upload(prometheus, secretFiles[0]);
      assert.ok(u);
      assert.equal(u.permissions, "0440");
      assert.equal(u.owner, undefined, "files are written as root: an owner needs a provider field the engine lacks");
      // The read-only key Qdrant is started with (QDRANT__SERVICE__READ_ONLY_API_KEY, read by qdrant's
      // src/settings.rs as service.read_only_api_key; src/common/auth/mod.rs gives it read access only), not
      // the key that writes and deletes.
      const qdrant = env(container(run, "inference", "qdrant"));
      assert.equal(u.content, qdrant.QDRANT__SERVICE__READ_ONLY_API_KEY);
      assert.notEqual(u.content, qdrant.QDRANT__SERVICE__API_KEY);
    });

    it("holds no key that can spend, manage LiteLLM's keys or write to Qdrant: not in any resource on the operations node", () => {
      const masterKey = env(container(run, "inference", "litellm")).LITELLM_MASTER_KEY;
      const qdrantWriteKey = env(container(run, "inference", "qdrant")).QDRANT__SERVICE__API_KEY;
      // Under mocks each generated secret is a marker named after its resource: distinct, so a search finds one.
      assert.match(masterKey, /^sk-known-after-deploy:generated-secret:.*litellm-master-key$/);
      assert.match(qdrantWriteKey, /generated-secret:.*qdrant-api-key$/);
      const placement = nodePlacement(run);
      const onOperations = run.resources.filter((r) => placement.roleOf(r) === "operations");
      assert.ok(onOperations.some((r) => r.type === CONTAINER && r.inputs.name === "prometheus"));
      for (const r of onOperations) {
        const inputs = JSON.stringify(r.inputs);
        for (const [what, key] of [["LiteLLM's master key", masterKey.slice("sk-".length)], ["Qdrant's read-write key", qdrantWriteKey]]) {
          assert.ok(!inputs.includes(key), `${r.type} ${r.name} on the operations node carries ${what}`);
        }
      }
    });

    it("Alertmanager's config passes the real `amtool check-config`", () => {
      requirePrometheusTool("amtool");
      const config = upload(container(run, "operations", "alertmanager"), "/etc/alertmanager/alertmanager.yml");
      assert.ok(config);
      const file = path.join(dir, "alertmanager.yml");
      fs.writeFileSync(file, config.content);
      const result = runPrometheusTool("amtool", ["check-config", file]);
      assert.equal(result.status, 0, result.output);
    });

    it("Grafana: admin password generated and secret, anonymous access off, the dashboard provisioned", () => {
      const grafana = container(run, "operations", "grafana");
      const envs = grafana.inputs.envs as string[];
      assert.ok(grafana.secretInputs.includes("envs"));
      assert.ok(envs.includes("GF_AUTH_ANONYMOUS_ENABLED=false"));
      assert.ok(envs.some((e) => e.startsWith("GF_SECURITY_ADMIN_PASSWORD=")));
      const dashboard = upload(grafana, "/etc/grafana/dashboards/stack-overview.json");
      assert.ok(dashboard);
      assert.ok((JSON.parse(dashboard.content) as { panels: unknown[] }).panels.length > 5);
      assert.ok(run.secretOutputs.includes("grafana.adminPassword"));
    });

    it(stack === "prod" ? "installs Coolify, unattended, its password on standard input" : "installs no Coolify", () => {
      const install = run.ofType("command:remote:Command").filter((c) => c.name.endsWith("-coolify-install"));
      if (stack === "dev") {
        assert.equal(install.length, 0);
        assert.equal(run.outputs.coolify, undefined);
        return;
      }
      assert.equal(install.length, 1);
      const script = String(install[0].inputs.create);
      assert.match(script, /^version='4\.1\.1'$/m);
      assert.match(script, /bash "\$installer" "\$version"/);
      assert.match(script, /export AUTOUPDATE=false/);
      assert.match(script, /export DOCKER_ADDRESS_POOL_BASE='172\.30\.0\.0\/16'/, "the pool whole, as the installer reads it");
      // Coolify's ports on the node's tailnet address (known after deploy); no public address (publicWeb is off).
      assert.match(script, /^tailnet_address='known-after-deploy:tailnet-ipv4'$/m);
      assert.doesNotMatch(script, /public-ipv|ROOT_USER_PASSWORD=[^$]/, "no public address, no password in the script");
      assert.ok(install[0].secretInputs.includes("stdin"));
      assert.match(String(install[0].inputs.stdin), /^ROOT_USER_PASSWORD=/);
      assertShellcheckClean("Coolify install", script);
      assert.ok(run.secretOutputs.includes("coolify.adminPassword"));
    });

    it("every script it runs on a node passes shellcheck", () => {
      for (const file of renderedFiles(run).filter((f) => f.path.includes("/scripts/"))) assertShellcheckClean(file.path, file.content);
    });
  });
}

describe("alert routes from the settings", () => {
  it("critical alerts page, warnings go to chat, Watchdog to the dead man's switch, checked by amtool", async () => {
    requirePrometheusTool("amtool");
    const run = await runProgram("prod", {
      set: {
        [`${PROJECT}:alertPaging`]: "webhook",
        [`${PROJECT}:alertPagingUrl`]: "https://hooks.example.com/pager",
        [`${PROJECT}:alertChat`]: "ntfy",
        [`${PROJECT}:alertChatUrl`]: "https://ntfy.example.com/ai-alerts",
        [`${PROJECT}:deadMansSwitchUrl`]: "https://hc.example.com/ping/abc",
      },
    });
    const routes = (run.outputs.alertmanager as { routes: { alert: string; receiver: string; kind: string }[] }).routes;
    const to = (alert: string) => routes.find((r) => r.alert === alert);
    assert.deepEqual(to("NodeDown"), { alert: "NodeDown", severity: "critical", receiver: "pager", kind: "webhook" });
    assert.deepEqual(to("TargetDown"), { alert: "TargetDown", severity: "warning", receiver: "chat", kind: "ntfy" });
    assert.equal(to("Watchdog")?.receiver, "deadmansswitch");

    const alertmanager = run.ofType(CONTAINER).find((c) => c.inputs.name === "alertmanager")!;
    assert.equal(alertmanager.inputs.user, "65534:0");
    for (const u of (alertmanager.inputs.uploads ?? []) as { file: string; permissions?: string }[]) {
      if (u.file.includes("/secrets/")) assert.equal(u.permissions, "0440", `${u.file} is readable by others`);
    }
    const config = upload(alertmanager, "/etc/alertmanager/alertmanager.yml")!.content;
    assert.doesNotMatch(config, /hooks\.example\.com|ntfy\.example\.com|hc\.example\.com/, "URLs stay in secret files");
    for (const secret of ["paging-url", "chat-url", "dead-mans-switch-url"]) {
      assert.ok(upload(alertmanager, `/etc/alertmanager/secrets/${secret}`), `${secret} is not written`);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "am-"));
    const file = path.join(dir, "alertmanager.yml");
    fs.writeFileSync(file, config.replace(/\/etc\/alertmanager\/secrets\//g, `${dir}/`));
    for (const [labels, receiver] of [["severity=critical alertname=NodeDown", "pager"], ["severity=warning alertname=TargetDown", "chat"], ["severity=warning alertname=Watchdog", "deadmansswitch"]]) {
      const result = runPrometheusTool("amtool", ["config", "routes", "test", `--config.file=${file}`, ...labels.split(" ")]);
      assert.equal(result.stdout.trim(), receiver, `${labels}: ${result.output}`);
    }
  });
});

describe("operations capacity", () => {
  it("Coolify on a node too small for it stops the preview, naming what fits", async () => {
    await assert.rejects(runProgram("prod", { set: { [`${PROJECT}:operationsServerType`]: "cx23" } }), (err: Error) => {
      assert.match(err.message, /the operations node needs 4\.\d GB but cx23 has 4 GB \(prometheus 0\.5 GB, .*coolify 2\.0 GB.*\): turn Coolify off \(ai-platform:coolify false\), or use cx33/);
      return true;
    });
  });
});
