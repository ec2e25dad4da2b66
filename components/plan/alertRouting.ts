/**
 * Where alerts go: the Alertmanager receivers and routes the settings ask for, and, per alert, the receiver
 * that gets it. Pure: settings in, data out; Alertmanager's config is written from it by render/alertmanager.ts.
 */
import type { AlertRoute, OperationsSettings } from "../config";
import { alertRoutesFor, AlertmanagerSpec, Receiver } from "../render/alertmanager";

/** Where Alertmanager reads each credential, inside its container: never in its config file. */
export const ALERTMANAGER_SECRET_FILES = {
  pagingUrl: "/etc/alertmanager/secrets/paging-url",
  chatUrl: "/etc/alertmanager/secrets/chat-url",
  smtpPassword: "/etc/alertmanager/secrets/smtp-password",
  deadMansSwitchUrl: "/etc/alertmanager/secrets/dead-mans-switch-url",
} as const;

/** What the alert routing is worked out from: the receivers' settings, without their secrets' values. */
export type AlertingSettings = Pick<OperationsSettings, "paging" | "chat" | "email" | "deadMansSwitchUrl">;

/** The receivers and routes the settings ask for; credentials are read from files inside the container. */
export function alertmanagerSpec(settings: AlertingSettings): AlertmanagerSpec {
  const receivers: Receiver[] = [];
  const routeTo = (name: "pager" | "chat", route: AlertRoute): string | undefined => {
    if (route.kind === "none") return undefined;
    if (route.kind === "email") {
      const email = settings.email;
      if (!email) return undefined;
      receivers.push({
        name,
        kind: "email",
        to: email.to,
        from: email.from,
        smarthost: email.smarthost,
        username: email.username,
        passwordFile: ALERTMANAGER_SECRET_FILES.smtpPassword,
      });
    } else {
      const urlFile = name === "pager" ? ALERTMANAGER_SECRET_FILES.pagingUrl : ALERTMANAGER_SECRET_FILES.chatUrl;
      receivers.push({ name, kind: route.kind, urlFile });
    }
    return name;
  };
  const criticalReceiver = routeTo("pager", settings.paging);
  const warningReceiver = routeTo("chat", settings.chat);
  let deadMansSwitchReceiver: string | undefined;
  if (settings.deadMansSwitchUrl) {
    receivers.push({ name: "deadmansswitch", kind: "webhook", urlFile: ALERTMANAGER_SECRET_FILES.deadMansSwitchUrl });
    deadMansSwitchReceiver = "deadmansswitch";
  }
  return { receivers, criticalReceiver, warningReceiver, deadMansSwitchReceiver };
}

/** Where one alert goes: its name, severity, receiver and the receiver's kind. Plain data for the plan and outputs. */
export interface AlertDestination {
  alert: string;
  severity: string;
  receiver: string;
  kind: string;
}

/** Each alert's destination under a spec. */
export function alertDestinations(spec: AlertmanagerSpec): AlertDestination[] {
  const kindOf = (receiver: string) => spec.receivers.find((r) => r.name === receiver)?.kind ?? "nothing is sent";
  return alertRoutesFor(spec)
    .filter((r) => r.labels.alertname !== "UnknownSeverity")
    .map((r) => ({
      alert: r.labels.alertname,
      severity: r.labels.severity,
      receiver: r.expectedReceivers[0],
      kind: kindOf(r.expectedReceivers[0]),
    }));
}
