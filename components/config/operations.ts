/** The operations node: Coolify, how long Prometheus keeps metrics, and where alerts go. */
import * as pulumi from "@pulumi/pulumi";
import { OPERATIONS_VOLUME_RESERVE_GB, RECEIVER_KINDS, ReceiverKind } from "./limits";
import type { Environment } from "./naming";
import { isHttpUrl, SettingsReader } from "./reader";

export interface AlertRoute {
  kind: ReceiverKind;
  /** The URL for webhook and ntfy, a secret. */
  url?: pulumi.Output<string>;
}

export interface OperationsSettings {
  coolify: boolean;
  coolifyAdminEmail: string;
  retention: { days: number; gb: number };
  paging: AlertRoute;
  chat: AlertRoute;
  email?: { to: string; from: string; smarthost: string; username: string; password: pulumi.Output<string> };
  /** URL the Watchdog alert reaches, a secret. */
  deadMansSwitchUrl?: pulumi.Output<string>;
}

/**
 * The operations node's settings; `volumeGb` is its data volume, which Prometheus's retention must fit. Prod
 * must page someone and have a dead man's switch, unless alertsDeliberatelyUnsent says it goes without.
 */
export function readOperations(read: SettingsReader, volumeGb: number, environment: Environment | undefined): OperationsSettings {
  const { project, problems } = read;
  const retention = readRetention(read, volumeGb);
  const paging = readRoute(read, "alertPaging", "alertPagingUrl");
  const chat = readRoute(read, "alertChat", "alertChatUrl");
  const email = paging.kind === "email" || chat.kind === "email" ? readEmail(read) : undefined;
  const deadMansSwitch = read.secret("deadMansSwitchUrl");
  if (deadMansSwitch !== undefined && !read.sealed("deadMansSwitchUrl") && !isHttpUrl(deadMansSwitch)) {
    problems.add(`${project}:deadMansSwitchUrl is not an http(s) URL (its value is secret and not shown): give the full ping URL`);
  }
  const optOut = `or set ${project}:alertsDeliberatelyUnsent to true to run prod without alerts on purpose`;
  if (environment === "prod" && !read.boolean("alertsDeliberatelyUnsent")) {
    if (paging.kind === "none") {
      problems.add(
        `${project}:alertPaging is "none" in prod, so critical alerts would reach no one: use webhook or ntfy ` +
          `(with ${project}:alertPagingUrl) or email (with ${project}:alertEmailTo), ${optOut}`,
      );
    }
    if (deadMansSwitch === undefined) {
      problems.add(
        `${project}:deadMansSwitchUrl is not set in prod, so nobody would learn that the monitoring itself is down: ` +
          `\`pulumi config set --secret ${project}:deadMansSwitchUrl <ping URL>\` (e.g. a healthchecks.io check), ${optOut}`,
      );
    }
  }
  return {
    coolify: read.boolean("coolify"),
    coolifyAdminEmail: read.string("coolifyAdminEmail"),
    retention,
    paging,
    chat,
    ...(email ? { email } : {}),
    ...(deadMansSwitch !== undefined ? { deadMansSwitchUrl: pulumi.secret(deadMansSwitch) } : {}),
  };
}

function readRetention(read: SettingsReader, volumeGb: number): OperationsSettings["retention"] {
  const { project } = read;
  const retention = { days: read.integer("prometheusRetentionDays"), gb: read.integer("prometheusRetentionGb") };
  if (retention.gb + OPERATIONS_VOLUME_RESERVE_GB > volumeGb) {
    read.problems.add(
      `${project}:prometheusRetentionGb is ${retention.gb} but the operations node's volume ` +
        `(${project}:operationsVolumeGb) is ${volumeGb} GB, ${OPERATIONS_VOLUME_RESERVE_GB} GB of which are kept for ` +
        `Grafana and Alertmanager: lower it to ${Math.max(1, volumeGb - OPERATIONS_VOLUME_RESERVE_GB)} or raise ` +
        `operationsVolumeGb to ${retention.gb + OPERATIONS_VOLUME_RESERVE_GB}`,
    );
  }
  return retention;
}

// A route to webhook or ntfy needs its URL; the URL is a secret, so messages never print it.
function readRoute(
  read: SettingsReader,
  kindKey: "alertPaging" | "alertChat",
  urlKey: "alertPagingUrl" | "alertChatUrl",
): AlertRoute {
  const { project, problems } = read;
  const kind = read.choice(kindKey, RECEIVER_KINDS);
  const url = read.secret(urlKey);
  if (kind === "webhook" || kind === "ntfy") {
    if (url === undefined) {
      problems.add(
        `${project}:${kindKey} is "${kind}", a receiver that does not exist until ${project}:${urlKey} is set: ` +
          `\`pulumi config set --secret ${project}:${urlKey} https://...\`, or set ${kindKey} to none`,
      );
    } else if (!read.sealed(urlKey) && !isHttpUrl(url)) {
      problems.add(`${project}:${urlKey} is not an http(s) URL (its value is secret and not shown): give the full URL, e.g. https://ntfy.sh/my-topic`);
    }
    return { kind, ...(url !== undefined ? { url: pulumi.secret(url) } : {}) };
  }
  return { kind };
}

function readEmail(read: SettingsReader): NonNullable<OperationsSettings["email"]> {
  const { project, problems } = read;
  const fields = { to: read.string("alertEmailTo"), from: read.string("smtpFrom"), smarthost: read.string("smtpSmarthost"), username: read.string("smtpUsername") };
  const password = read.secret("smtpPassword");
  const required: [string, string][] = [
    ["alertEmailTo", fields.to],
    ["smtpFrom", fields.from],
    ["smtpSmarthost", fields.smarthost],
    ["smtpUsername", fields.username],
  ];
  const missing = [
    ...required.filter(([, value]) => value === "").map(([key]) => key),
    ...(password === undefined ? ["smtpPassword (secret)"] : []),
  ];
  if (missing.length > 0) {
    problems.add(`alerts go by e-mail but ${missing.map((k) => `${project}:${k}`).join(", ")} ${missing.length === 1 ? "is" : "are"} not set: set ${missing.length === 1 ? "it" : "them"}, or choose another receiver`);
  }
  for (const [key, value] of [["alertEmailTo", fields.to], ["smtpFrom", fields.from]] as const) {
    if (value !== "" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) problems.add(`${project}:${key} is "${value}", which is not an e-mail address`);
  }
  if (fields.smarthost !== "" && !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(fields.smarthost)) {
    problems.add(`${project}:smtpSmarthost is "${fields.smarthost}": write host:port, e.g. smtp.example.com:587`);
  }
  return { ...fields, password: pulumi.secret(password ?? "") };
}
