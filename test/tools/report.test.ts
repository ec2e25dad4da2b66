/** The plan's report on variants of the stacks that the stack files do not hold. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildReport } from "../../tools/report";
import { projectName, runProgram } from "../harness";

const PROJECT = projectName();

describe("the exposure table", () => {
  it("with public web on, lists TCP 80/443 from the ranges on the operations node and nothing else new", async () => {
    const run = await runProgram("prod", {
      set: { [`${PROJECT}:publicWeb`]: "true", [`${PROJECT}:publicWebSourceRanges`]: ["173.245.48.0/20"] },
    });
    const publicLines = buildReport(run)
      .split("\n")
      .filter((l) => l.includes("public internet"))
      .map((l) => l.replace(/\s+/g, " ").trim());
    assert.deepEqual(publicLines.map((l) => l.split(" ").slice(0, 5).join(" ")).sort(), [
      "inference public internet udp/41641 0.0.0.0/0",
      "operations public internet tcp/443 173.245.48.0/20",
      "operations public internet tcp/80 173.245.48.0/20",
      "operations public internet udp/41641 0.0.0.0/0",
    ]);
  });

  it("shows Coolify's ports as the install publishes them: on the tailnet address, its proxy on loopback or, with public web, public", async () => {
    const exposure = (report: string) =>
      report
        .slice(report.indexOf("## Exposure"), report.indexOf("## Tailnet access"))
        .split("\n")
        .filter((l) => l.includes("coolify"))
        .map((l) => l.replace(/\s{2,}/g, " | ").trim());
    assert.deepEqual(exposure(buildReport(await runProgram("prod"))), [
      "operations | tailnet | tcp/8000 | per the tailnet policy | coolify (Coolify's UI; also on loopback)",
      "operations | tailnet | tcp/6001 | per the tailnet policy | coolify-realtime (Coolify's realtime websockets; also on loopback)",
      "operations | tailnet | tcp/6002 | per the tailnet policy | coolify-realtime (Coolify's terminal; also on loopback)",
      "operations | inside the node | tcp/80 | loopback | coolify-proxy (Coolify's apps; public only with publicWeb)",
      "operations | inside the node | tcp/443 | loopback | coolify-proxy (Coolify's apps; public only with publicWeb)",
      "operations | inside the node | tcp/8080 | loopback | coolify-proxy (Traefik's dashboard)",
    ]);
    const publicWeb = buildReport(
      await runProgram("prod", { set: { [`${PROJECT}:publicWeb`]: "true", [`${PROJECT}:publicWebSourceRanges`]: ["173.245.48.0/20"] } }),
    );
    assert.deepEqual(exposure(publicWeb).filter((l) => / tcp\/(80|443) /.test(l)), [
      "operations | PUBLIC (public addresses) | tcp/80 | the cloud firewall's sources (above) | coolify-proxy (Coolify's apps; also on loopback)",
      "operations | PUBLIC (public addresses) | tcp/443 | the cloud firewall's sources (above) | coolify-proxy (Coolify's apps; also on loopback)",
    ]);
    assert.deepEqual(exposure(buildReport(await runProgram("dev"))), [], "dev has no Coolify");
    assert.match(publicWeb, /ai-prod-operations\s+6001\s+coolifyRealtime\s+autogroup:admin\n/);
    assert.match(publicWeb, /none reaches Hetzner's metadata service \(169\.254\.169\.254\), and on the operations node none but the platform's \(ai-operations\) reaches the tailnet/);
  });

  it("says who may reach each tailnet port, and that nobody reaches Ollama", async () => {
    const run = await runProgram("prod", { set: { [`${PROJECT}:tailnetUsers`]: ["alice@example.com"] } });
    const report = buildReport(run);
    assert.match(report, /ai-prod-inference\s+11434\s+ollama\s+nobody/);
    assert.match(report, /ai-prod-inference\s+4000\s+litellm\s+.*group:ai-users/);
    assert.match(report, /ai-prod-inference\s+22\s+ssh\s+.*tag:ai-prod-deployer/);
    assert.doesNotMatch(report, /ai-dev-/, "prod's report covers prod's nodes only");
    assert.match(report, /merge tailnet-policy.hujson into the tailnet's policy by hand/);
  });
});

describe("the throughput section", () => {
  it("prod with the default workload: capacity, busy hours, utilization, peak delay, cost per million output tokens; it fits", async () => {
    const report = buildReport(await runProgram("prod"));
    assert.match(report, /## Throughput of the inference node \(cx43; measured on cx43; SpareCores/);
    assert.match(report, /qwen2\.5:7b\s+100 %\s+27\.8\s+15\.9\s+67\.5 s/);
    assert.match(report, /Capacity at 70 % utilization: 27264 requests, 13632000 output tokens a month\./);
    assert.match(report, /Workload: 10000 requests a month, 187\.4 busy hours, utilization 25\.7 %: it fits\./);
    assert.match(report, /At the peak hour \(3 x the average; M\/M\/1\): utilization 77 %, mean queueing delay 226\.2 s/);
    // EUR 31.52 a month (the cost table, the backups' Storage Box included) over 5 M output tokens.
    assert.match(report, /Per million output tokens: EUR 6\.30 here/);
    assert.match(report, /gpt-4o-mini\s+4\.50\s+3\.91\s+never within capacity \(27264 requests\/month\)/);
    assert.doesNotMatch(report, /WARNING/);
  });

  it("prod with an extra inference node: the nodes serving each model, each node's part, the busiest node's figures", async () => {
    const report = buildReport(await runProgram("prod", { set: { [`${PROJECT}:prodInferenceNodes`]: ["name=b type=cx33"] } }));
    const section = report.slice(report.indexOf("## Throughput")).split("\n## ")[0];
    assert.match(section, /^## Throughput of the inference nodes \(the first on cx43, measured on cx43; and 1 more;/);
    assert.match(section, /served by \(equal shares\)\n/);
    assert.match(section, /qwen2\.5:7b\s+100 %\s+27\.8\s+15\.9\s+67\.5 s\s+-\s+inference, b\n/);
    assert.match(section, /\ninference\s+cx43\s+qwen2\.5:7b\s+5000\s+93\.7\s+12\.8 %/);
    assert.match(section, /\nb\s+cx33\s+qwen2\.5:7b\s+5000\s+\d+(\.\d)?\s+[\d.]+ %/);
    assert.match(section, /until the busiest node \(b\) reaches it\./);
    assert.match(section, /busy hours on b, utilization/);
  });

  it("prod with ten times the load: it does not fit, and a warning says what would (also logged at preview)", async () => {
    const pulumi = await import("@pulumi/pulumi");
    const warnings: string[] = [];
    const log = pulumi.log as { warn: (message: string) => Promise<void> };
    const original = log.warn;
    log.warn = (message: string) => {
      warnings.push(message);
      return Promise.resolve();
    };
    let report: string;
    try {
      report = buildReport(await runProgram("prod", { set: { [`${PROJECT}:comparisonRequestsPerMonth`]: "100000" } }));
    } finally {
      log.warn = original;
    }
    assert.match(report, /Workload: 100000 requests a month, 1874\.\d busy hours, utilization 256\.\d %: it does not fit; 27264 served here\./);
    assert.match(report, /Above capacity, with no cloud fallback: 72\.7 % \(72736 requests a month\)\./);
    assert.match(report, /WARNING: the workload needs 1874\.\d busy hours a month on cx43 .*above the 70 % ceiling: it serves 27264 of 100000 requests a month and 72736 have no cloud fallback\. What would fit: /);
    assert.match(report, /a smaller model, \S+ \(ai-platform:models; capacity \d+ requests on cx43\)/);
    assert.match(report, /ai-platform:fallbacks, e\.g\. qwen2\.5:7b=gpt-4o-mini/);
    assert.ok(warnings.some((w) => w.includes("above the 70 % ceiling")), "pulumi.log.warn at preview");
  });
});

describe("the backups section", () => {
  const section = (report: string) => report.slice(report.indexOf("## Backups"), report.indexOf("\n\n", report.indexOf("## Backups")));

  it("prod: what each node backs up to its repository on the Storage Box, when, kept how long, at what price", async () => {
    const text = section(buildReport(await runProgram("prod")));
    assert.match(text, /^Where: a Hetzner Storage Box of the environment's own, ai-prod-backups \(bx11, 1 TB\) in fsn1, reachable from Hetzner's network only,/m);
    assert.match(text, /^inference\s+postgres, qdrant, config\s+sftp:\/\/<sub-account>@<its host>:23\/inference$/m);
    assert.match(text, /^operations\s+grafana, coolify, config\s+sftp:\/\/<sub-account>@<its host>:23\/operations$/m);
    assert.match(text, /^When: daily at 03:00-03:30 UTC;/m);
    assert.match(text, /^Kept: 7 daily, 4 weekly and 6 monthly snapshots of each store per node/m);
    assert.match(text, /^Not backed up: Ollama's models \(pulled again\); Prometheus's metrics \(backupPrometheus is off\)\.$/m);
    // The price is not verified against a current source: the plan says it is an estimate, and as of when.
    assert.match(text, /^Costs: EUR 3\.20 a month for the Storage Box, an estimate \(BX11's pre-2026 price, not verified on 2026-11-30\)/m);
    assert.match(text, /^Restore, on the node as root: \/usr\/local\/sbin\/ai-platform-restore \[--snapshot ID\] --yes STORE\.\.\.\|all/m);
  });

  it("an existing SFTP target with Prometheus's data kept: no box, nothing to pay here, every store listed", async () => {
    const run = await runProgram("prod", {
      set: {
        [`${PROJECT}:backupTarget`]: "sftp",
        [`${PROJECT}:backupRepositoryUrl`]: "sftp://team@nas.example.com:22/ai",
        [`${PROJECT}:backupTargetPassword`]: "pw",
        [`${PROJECT}:backupPrometheus`]: "true",
        [`${PROJECT}:backupKeepDaily`]: "14",
      },
    });
    const text = section(buildReport(run));
    assert.match(text, /^Where: the team's existing sftp target \(ai-platform:backupRepositoryUrl, a secret\), its login shared by both nodes\.$/m);
    assert.match(text, /^operations\s+grafana, coolify, config, prometheus\s+<ai-platform:backupRepositoryUrl>\/operations$/m);
    assert.match(text, /^Kept: 14 daily,/m);
    assert.match(text, /^Not backed up: Ollama's models \(pulled again\)\.$/m);
    assert.match(text, /^Costs: nothing here: the existing target is paid for where it is\.$/m);
    assert.doesNotMatch(buildReport(run), /nas\.example\.com/, "the target's URL is a secret");
  });
});

describe("the plan's models and their routes", () => {
  it("names each model's deployments in the order LiteLLM tries them, and its fallbacks", async () => {
    const run = await runProgram("dev", {
      set: {
        [`${projectName()}:tailnetDevBackends`]: [
          "name=gpu-box url=http://100.101.102.103:11434 tag=tag:ai-dev-gpu models=gemma3:1b,qwen3:8b preferred=true",
        ],
      },
    });
    const text = buildReport(run);
    const row = (model: string) => text.split("\n").find((l) => l.startsWith(`${model} `)) ?? "";
    assert.match(row("gemma3:1b"), /backend gpu-box \(http:\/\/100\.101\.102\.103:11434\), order 1, weight 1; this node's Ollama, order 2, weight 1/);
    assert.match(row("qwen3:8b"), /backend gpu-box .*order 1/);
    assert.doesNotMatch(row("qwen3:8b"), /this node's Ollama/);
    assert.match(text, /^gpu-box +http:\/\/100\.101\.102\.103:11434 +ollama +tag:ai-dev-gpu +gemma3:1b, qwen3:8b +first \(order 1\) +backend-gpu-box$/m);
    const plain = buildReport(await runProgram("dev"));
    assert.match(plain, /^gemma3:1b +this node's Ollama +-$/m);
    assert.doesNotMatch(plain, /## External backends/);
  });
});

describe("the plan's routing line", () => {
  it("says how LiteLLM picks among a model's deployments once the config has routing settings, and not before", async () => {
    const routed = buildReport(
      await runProgram("dev", {
        set: {
          [`${projectName()}:tailnetDevBackends`]: ["name=gpu-box url=http://100.101.102.103:11434 tag=tag:ai-dev-gpu models=gemma3:1b"],
          [`${projectName()}:litellmCooldownSeconds`]: "120",
        },
      }),
    );
    assert.match(
      routed,
      /^LiteLLM picks among a model's deployments of the lowest order by simple-shuffle \(at random, by weight; a failed attempt draws again among the others\) and tries a failed request 1 more time\(s\); a deployment with more than 1 failure\(s\) \(timeouts, errors\) within 120 s is left out for 120 s\. One that refuses connections or does not answer at all is not/m,
    );
    assert.doesNotMatch(buildReport(await runProgram("dev")), /LiteLLM picks among/);
  });
});
