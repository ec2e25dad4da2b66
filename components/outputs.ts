/**
 * The stack outputs: a contract for other projects, which read them with `StackReference`. Renaming or
 * dropping one breaks them; the README documents each.
 */
import * as pulumi from "@pulumi/pulumi";
import type { RootAccess } from "./access";
import type { Role, Settings } from "./config";
import type { HetznerNode } from "./node";
import type { NodeBudget } from "./plan/capacity";
import type { CloudComparison, CostEstimate } from "./plan/cost";
import type { NodeReadiness } from "./readiness";
import type { InferenceServices } from "./services/inference";
import type { OperationsServices } from "./services/operations";
import type { TailnetDevice } from "./tailnet";

export interface OutputSources {
  settings: Settings;
  budgets: Record<Role, NodeBudget>;
  cost: CostEstimate;
  comparison: CloudComparison;
  rootAccess: RootAccess;
  nodes: { role: Role; name: string; node: HetznerNode; device: TailnetDevice; readiness: NodeReadiness }[];
  inference: InferenceServices;
  operations: OperationsServices;
  /** The tailnet policy to merge by hand, when this stack does not manage it. */
  tailnetPolicy?: string;
}

export function buildOutputs(s: OutputSources) {
  const nodeOutputs = Object.fromEntries(
    s.nodes.map(({ role, name, node, device, readiness }) => [
      role,
      {
        hostname: name,
        serverName: node.serverName,
        serverType: s.settings.nodes[role].serverType.name,
        location: s.settings.location,
        publicIpv4: node.ipv4Address,
        publicIpv6: node.ipv6Address,
        tailnetName: device.dnsName,
        tailnetAddresses: device.addresses,
        dockerVersion: readiness.dockerVersion,
      },
    ]),
  );
  return {
    environment: s.settings.environment,
    nodes: nodeOutputs,
    models: s.settings.models.map((m) => m.name),
    litellm: {
      url: s.inference.litellmUrl,
      /** Secret: the master key; create virtual keys per application with it. */
      masterKey: s.inference.litellmMasterKey,
      models: [
        ...s.settings.models.filter((m) => !m.embedding).map((m) => m.name),
        ...s.settings.litellm.cloudModels.map((m) => m.name),
      ],
    },
    qdrant: {
      url: s.inference.qdrantUrl,
      apiKey: s.inference.qdrantApiKey,
      readOnlyApiKey: s.inference.qdrantReadOnlyApiKey,
    },
    grafana: { url: s.operations.grafanaUrl, adminUser: "admin", adminPassword: s.operations.grafanaAdminPassword },
    prometheus: { url: s.operations.prometheusUrl },
    alertmanager: { url: s.operations.alertmanagerUrl, routes: s.operations.alertRoutes },
    ...(s.operations.coolifyUrl
      ? {
          coolify: {
            url: s.operations.coolifyUrl,
            adminEmail: s.settings.operations.coolifyAdminEmail,
            adminPassword: s.operations.coolifyAdminPassword,
          },
        }
      : {}),
    monthlyCostEur: s.cost.totalEurMonth,
    costBreakdown: { pricesAsOf: s.cost.pricesAsOf, lines: s.cost.lines },
    costComparison: s.comparison,
    memoryBudget: Object.fromEntries(
      Object.values(s.budgets).map((b) => [
        b.role,
        {
          totalMib: b.totalMib,
          reserveMib: b.reserveMib,
          headroomMib: b.headroomMib,
          items: b.items,
          diskGb: b.diskGb,
          diskUsedGb: b.diskUsedGb,
        },
      ]),
    ),
    ...(s.tailnetPolicy === undefined ? {} : { tailnetPolicy: s.tailnetPolicy }),
    /** Break-glass root key for the Hetzner rescue console; a secret. */
    rootSshPrivateKey: pulumi.secret(s.rootAccess.privateKey),
  };
}
