// Alertmanager's config: accepted by the real amtool at the deployed version, and every alert the rules emit
// routed where it should go (critical pages, warnings to chat, Watchdog to the dead-man's switch).
//
// Snapshots live in test/render/fixtures/prometheus/. After an intended change, regenerate them with
//   UPDATE_SNAPSHOTS=1 node --import tsx --test test/render/alertmanager.test.ts
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import {
  NULL_RECEIVER,
  alertRoutesFor,
  renderAlertmanagerConfig,
  type AlertmanagerSpec,
} from "../../components/render/alertmanager";
import { ALERTS } from "../../components/render/alertRules";
import { runPrometheusTool, tempDir } from "../validators/promql";

const SNAPSHOT_DIR = path.join(__dirname, "fixtures", "prometheus");
const UPDATE_SNAPSHOTS = process.env.UPDATE_SNAPSHOTS === "1";

const full: AlertmanagerSpec = {
  receivers: [
    { name: "pager", kind: "webhook", urlFile: "/etc/alertmanager/secrets/pager-url" },
    { name: "chat", kind: "ntfy", urlFile: "/etc/alertmanager/secrets/ntfy-url" },
    {
      name: "mail",
      kind: "email",
      to: "ops@example.com",
      from: "alertmanager@example.com",
      smarthost: "smtp.example.com:587",
      username: "alertmanager",
      passwordFile: "/etc/alertmanager/secrets/smtp-password",
    },
    { name: "deadman", kind: "webhook", urlFile: "/etc/alertmanager/secrets/deadman-url" },
  ],
  criticalReceiver: "pager",
  warningReceiver: "mail",
  deadMansSwitchReceiver: "deadman",
};

const none: AlertmanagerSpec = { receivers: [] };

interface ParsedConfig {
  route: { receiver: string; routes: { receiver: string; matchers: string[]; repeat_interval?: string; group_interval?: string }[] };
  inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[];
  receivers: { name: string; webhook_configs?: Record<string, unknown>[]; email_configs?: Record<string, unknown>[] }[];
}

/** Points every secret file of the spec into a temporary directory that holds them, as the container's mounts would. */
function withSecretFiles(spec: AlertmanagerSpec, dir: string): AlertmanagerSpec {
  const write = (name: string, content: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
  };
  return {
    ...spec,
    receivers: spec.receivers.map((r) =>
      r.kind === "email"
        ? { ...r, passwordFile: write(`${r.name}-password`, "secret\n") }
        : { ...r, urlFile: write(`${r.name}-url`, "https://hooks.example.invalid/alert\n") },
    ),
  };
}

/** Writes the rendered config with its secret files and returns its path. */
function writeConfig(spec: AlertmanagerSpec): string {
  const dir = tempDir("alertmanager-");
  const file = path.join(dir, "alertmanager.yml");
  fs.writeFileSync(file, renderAlertmanagerConfig(withSecretFiles(spec, dir)));
  return file;
}

function assertCheckConfig(spec: AlertmanagerSpec, receivers: number): void {
  const file = writeConfig(spec);
  const result = runPrometheusTool("amtool", ["check-config", file]);
  assert.equal(result.status, 0, `amtool check-config failed:\n${result.output}`);
  assert.match(result.output, /SUCCESS/, result.output);
  assert.match(result.output, new RegExp(`- ${receivers} receivers`), result.output);
}

/** Runs `amtool config routes test` for every label set alertRoutesFor gives and asserts the printed receivers. */
function assertRoutes(spec: AlertmanagerSpec): void {
  const file = writeConfig(spec);
  for (const { labels, expectedReceivers } of alertRoutesFor(spec)) {
    const args = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    const result = runPrometheusTool("amtool", ["config", "routes", "test", `--config.file=${file}`, ...args]);
    assert.equal(result.status, 0, `amtool config routes test ${args.join(" ")} failed:\n${result.output}`);
    assert.equal(result.stdout.trim(), expectedReceivers.join(","), `${args.join(" ")} routed to ${result.stdout.trim()}`);
  }
}

describe("renderAlertmanagerConfig", () => {
  const text = renderAlertmanagerConfig(full);
  const config = parse(text) as ParsedConfig;

  it("matches its committed snapshot", () => {
    const snapshot = path.join(SNAPSHOT_DIR, "alertmanager.yml");
    if (UPDATE_SNAPSHOTS) {
      fs.mkdirSync(SNAPSHOT_DIR, { recursive: true });
      fs.writeFileSync(snapshot, text);
    }
    assert.ok(fs.existsSync(snapshot), `no snapshot at ${snapshot}: run with UPDATE_SNAPSHOTS=1 once`);
    assert.equal(text, fs.readFileSync(snapshot, "utf8"), "alertmanager.yml changed: review, then UPDATE_SNAPSHOTS=1");
  });

  it("is accepted by amtool check-config with webhook, ntfy, email and dead-man's-switch receivers", () => {
    assertCheckConfig(full, 4);
  });

  it("is accepted by amtool check-config without any receiver, dropping everything into the null receiver", () => {
    assertCheckConfig(none, 1);
    const empty = parse(renderAlertmanagerConfig(none)) as ParsedConfig;
    assert.deepEqual(empty.receivers, [{ name: NULL_RECEIVER }]);
    assert.equal(empty.route.receiver, NULL_RECEIVER);
  });

  it("keeps secrets in files: webhook and ntfy URLs as url_file, the SMTP password as auth_password_file", () => {
    const receiver = (name: string) => config.receivers.find((r) => r.name === name);
    assert.deepEqual(receiver("pager")?.webhook_configs, [{ url_file: "/etc/alertmanager/secrets/pager-url", send_resolved: true }]);
    // ntfy goes through a webhook: Alertmanager 0.35 has no ntfy integration.
    assert.deepEqual(receiver("chat")?.webhook_configs, [{ url_file: "/etc/alertmanager/secrets/ntfy-url", send_resolved: true, max_alerts: 5 }]);
    assert.deepEqual(receiver("mail")?.email_configs, [
      {
        to: "ops@example.com",
        from: "alertmanager@example.com",
        smarthost: "smtp.example.com:587",
        auth_username: "alertmanager",
        auth_password_file: "/etc/alertmanager/secrets/smtp-password",
        require_tls: true,
        send_resolved: true,
      },
    ]);
    assert.equal(receiver(NULL_RECEIVER), undefined, "no null receiver when no route needs it");
  });

  it("repeats Watchdog to the dead-man's switch every 5 minutes, ahead of the severity routes", () => {
    const [watchdog] = config.route.routes;
    assert.deepEqual(watchdog.matchers, ['alertname="Watchdog"']);
    assert.equal(watchdog.receiver, "deadman");
    assert.equal(watchdog.repeat_interval, "5m");
    assert.equal(watchdog.group_interval, "1m", "the repeat can happen no more often than the group interval");
  });

  it("lets a critical alert mute the warning of the same alert and instance", () => {
    assert.deepEqual(config.inhibit_rules, [
      { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ["alertname", "environment", "instance"] },
    ]);
  });

  it("throws when a route names a receiver that does not exist", () => {
    assert.throws(
      () => renderAlertmanagerConfig({ ...full, criticalReceiver: "pagerduty" }),
      { message: 'criticalReceiver names receiver "pagerduty", which is not among the receivers ("pager", "chat", "mail", "deadman")' },
    );
    assert.throws(() => renderAlertmanagerConfig({ receivers: [], deadMansSwitchReceiver: "deadman" }), /deadMansSwitchReceiver names receiver "deadman", which is not among the receivers \(none\)/);
    assert.throws(() => alertRoutesFor({ receivers: [], warningReceiver: "chat" }), /warningReceiver names receiver "chat"/);
  });

  it("rejects duplicate and reserved receiver names", () => {
    assert.throws(() => renderAlertmanagerConfig({ receivers: [...full.receivers, full.receivers[0]] }), /receiver name "pager" is used twice/);
    assert.throws(() => renderAlertmanagerConfig({ receivers: [{ name: NULL_RECEIVER, kind: "webhook", urlFile: "/x" }] }), /"null" is reserved/);
  });

  it("is deterministic: receivers in another order give the same text", () => {
    assert.equal(renderAlertmanagerConfig({ ...full, receivers: [...full.receivers].reverse() }), text);
  });
});

describe("alertRoutesFor", () => {
  it("covers every alert the rules emit: critical pages, warnings go to chat, Watchdog to the dead-man's switch", () => {
    const routes = alertRoutesFor(full);
    assert.deepEqual(
      routes.slice(0, ALERTS.length).map((r) => r.labels.alertname),
      ALERTS.map((a) => a.name),
    );
    const to = (alertname: string) => routes.find((r) => r.labels.alertname === alertname)?.expectedReceivers;
    assert.deepEqual(to("NodeDown"), ["pager"]);
    assert.deepEqual(to("DiskWillFillIn24h"), ["mail"]);
    assert.deepEqual(to("Watchdog"), ["deadman"]);
    assert.deepEqual(to("UnknownSeverity"), ["mail"]);
  });

  it("matches what amtool config routes test resolves, with every receiver", () => {
    assertRoutes(full);
  });

  it("matches amtool without receivers: everything, Watchdog included, goes to null", () => {
    assert.ok(alertRoutesFor(none).every((r) => r.expectedReceivers.join() === NULL_RECEIVER));
    assertRoutes(none);
  });

  it("matches amtool with chat only: critical falls back to chat, Watchdog stays out of chat", () => {
    const chatOnly: AlertmanagerSpec = { receivers: [full.receivers[1]], warningReceiver: "chat" };
    const routes = alertRoutesFor(chatOnly);
    assert.deepEqual(routes.find((r) => r.labels.alertname === "NodeDown")?.expectedReceivers, ["chat"]);
    assert.deepEqual(routes.find((r) => r.labels.alertname === "Watchdog")?.expectedReceivers, [NULL_RECEIVER]);
    assertRoutes(chatOnly);
  });
});
