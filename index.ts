/**
 * The self-hosted AI platform: settings -> plan -> components -> stack outputs. Wiring only; what each
 * piece does lives in components/.
 */
import * as pulumi from "@pulumi/pulumi";
import { RootAccess } from "./components/machines/rootAccess";
import { nodeTag } from "./components/catalog/identities";
import { Role, ROLES } from "./components/catalog/services";
import { ENVIRONMENTS, loadSettings, SettingsError } from "./components/config";
import { PublicFirewall } from "./components/machines/publicFirewall";
import { HetznerNode } from "./components/machines/hetznerNode";
import { alertDestinations, alertmanagerSpec } from "./components/plan/alertRouting";
import { capacityProblems, planCapacity } from "./components/plan/capacity";
import { compareWithCloud, estimateCost } from "./components/plan/cost";
import { publicFirewallRules } from "./components/plan/exposure";
import { NodeReadiness } from "./components/machines/nodeReadiness";
import { Exporters } from "./components/services/exporters";
import { Coolify } from "./components/services/coolify";
import { InferenceServices } from "./components/services/inference";
import { Models } from "./components/services/models";
import { Monitoring } from "./components/services/monitoring";
import { renderCloudInit } from "./components/render/cloudInit";
import { buildTailnetPolicy } from "./components/plan/tailnetPolicy";
import { renderTailnetPolicy } from "./components/render/tailnetPolicy";
import { TailnetAuthKey, TailnetDevice, TailnetPolicyFile } from "./components/machines/tailnetMembership";
import { DeletionGuard } from "./components/deletionGuard";
import { buildOutputs } from "./components/outputs";


/** Where each node mounts its data volume. */
const DATA_MOUNT_POINT = "/srv/data";

export = () => {
  const settings = loadSettings();
  const budgets = planCapacity(settings);
  const misfits = capacityProblems(settings, budgets);
  if (misfits.length > 0) throw new SettingsError(misfits);

  const labels = (role?: Role): Record<string, string> => ({
    "managed-by": "pulumi",
    project: settings.project,
    environment: settings.environment,
    ...(role ? { role } : {}),
  });

  // One policy for the whole tailnet, covering every environment: written by the one stack that manages it,
  // an output to merge by hand everywhere else.
  const tailnetPolicy = renderTailnetPolicy(
    buildTailnetPolicy({
      prefix: settings.namePrefix,
      environments: [...ENVIRONMENTS],
      admins: settings.tailnet.admins,
      deployers: settings.tailnet.deployers,
      users: settings.tailnet.users,
    }),
  );
  const policyFile = settings.tailnet.managePolicy
    ? new TailnetPolicyFile(`${settings.namePrefix}-tailnet-policy`, { policy: tailnetPolicy })
    : undefined;

  const rootAccess = new RootAccess(`${settings.stem}-root`, { labels: labels() });

  const nodes = ROLES.map((role) => {
    const name = `${settings.stem}-${role}`;
    const tags = [nodeTag(settings.namePrefix, settings.environment, role)];
    const firewall = new PublicFirewall(name, {
      rules: publicFirewallRules(role, settings.network),
      labels: labels(role),
    });
    // A managed policy must define the node's tag before a key or a device can carry it.
    const policyFirst = { dependsOn: policyFile ? [policyFile] : [] };
    const authKey = new TailnetAuthKey(name, { hostname: name, tags }, policyFirst);
    const userData = authKey.key.apply((key) =>
      renderCloudInit({
        hostname: name,
        tailscaleAuthKey: key,
        tailscaleTags: tags,
        swapGiB: settings.swapGiB,
        dockerAddressPool: settings.network.dockerAddressPool,
        dataMountPoint: DATA_MOUNT_POINT,
      }),
    );
    const node = new HetznerNode(name, {
      serverType: settings.nodes[role].serverType.name,
      location: settings.location,
      sshKeyId: rootAccess.sshKeyId,
      firewallId: firewall.firewallId,
      userData: pulumi.secret(userData),
      backups: settings.nodes[role].backups,
      volumeGb: settings.nodes[role].volumeGb,
      protection: settings.protection,
      labels: labels(role),
    });
    const device = new TailnetDevice(name, { hostname: name, tags, serverId: node.serverId }, policyFirst);
    // The node's tailnet IPv4 address: every SSH, Docker and published port goes there.
    const tailnetAddress = device.addresses.apply((a) => a[0]);
    const readiness = new NodeReadiness(name, { tailnetAddress, privateKey: rootAccess.privateKey, serverId: node.serverId });
    const exporters = new Exporters(`${name}-exporters`, {
      provider: readiness.dockerProvider,
      role,
      tailnetAddress,
      memoryMib: { nodeExporter: budgets[role].limits.nodeExporter, cadvisor: budgets[role].limits.cadvisor },
    });
    const parts = [firewall, authKey, node, device, readiness, exporters];
    return { role, name, node, device, readiness, tailnetAddress, parts };
  });

  const nodeOf = (role: Role) => nodes.find((n) => n.role === role)!;
  const inferenceNode = nodeOf("inference");
  const sshTo = (node: { tailnetAddress: pulumi.Output<string> }) => ({ host: node.tailnetAddress, privateKey: rootAccess.privateKey });
  const inference = new InferenceServices(`${settings.stem}-inference-services`, {
    provider: inferenceNode.readiness.dockerProvider,
    tailnetAddress: inferenceNode.tailnetAddress,
    dataDir: DATA_MOUNT_POINT,
    models: settings.models,
    ollama: settings.ollama,
    litellm: settings.litellm,
    memoryMib: budgets.inference.limits,
  });
  const models = new Models(`${settings.stem}-models`, {
    models: settings.models.map((m) => m.name),
    ollama: inference.ollama,
    ssh: sshTo(inferenceNode),
    formerHome: { type: "aiplatform:services:Inference", name: `${settings.stem}-inference-services` },
  });

  // Monitoring and Coolify were one component, aiplatform:services:Operations, before they were split:
  // the aliases keep an existing stack's resources where they are.
  const operationsNode = nodeOf("operations");
  const formerOperations = { type: "aiplatform:services:Operations", name: `${settings.stem}-operations-services` };
  const alerting = settings.operations;
  const monitoring = new Monitoring(
    `${settings.stem}-monitoring`,
    {
      provider: operationsNode.readiness.dockerProvider,
      environment: settings.environment,
      tailnetAddress: operationsNode.tailnetAddress,
      inferenceAddress: inferenceNode.tailnetAddress,
      litellmMasterKey: inference.litellmMasterKey,
      qdrantReadOnlyApiKey: inference.qdrantReadOnlyApiKey,
      dataDir: DATA_MOUNT_POINT,
      retention: settings.operations.retention,
      alerting: { paging: alerting.paging, chat: alerting.chat, email: alerting.email, deadMansSwitchUrl: alerting.deadMansSwitchUrl },
      memoryMib: budgets.operations.limits,
      ssh: sshTo(operationsNode),
    },
    { aliases: [formerOperations] },
  );
  const coolify = settings.operations.coolify
    ? new Coolify(`${settings.stem}-coolify`, {
        tailnetAddress: operationsNode.tailnetAddress,
        adminEmail: settings.operations.coolifyAdminEmail,
        dockerAddressPool: settings.network.dockerAddressPool,
        ssh: sshTo(operationsNode),
        formerHome: formerOperations,
      })
    : undefined;

  new DeletionGuard(`${settings.stem}-deletion-guard`, {
    protection: settings.protection,
    guards: [
      rootAccess,
      ...(policyFile ? [policyFile] : []),
      ...nodes.flatMap((n) => n.parts),
      inference,
      models,
      monitoring,
      ...(coolify ? [coolify] : []),
    ],
  });

  const cost = estimateCost(settings);
  return buildOutputs({
    settings,
    budgets,
    cost,
    comparison: compareWithCloud(settings, cost.totalEurMonth),
    rootAccess,
    nodes,
    inference,
    monitoring,
    coolify,
    alertRoutes: alertDestinations(alertmanagerSpec(settings.operations)),
    tailnetPolicy: policyFile ? undefined : tailnetPolicy,
  });
};
