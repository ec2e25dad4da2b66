/**
 * The self-hosted AI platform: settings -> plan -> components -> stack outputs. Wiring only; what each
 * piece does lives in components/.
 */
import * as pulumi from "@pulumi/pulumi";
import { RootAccess } from "./components/machines/rootAccess";
import { ENVIRONMENTS, loadSettings, Role, SettingsError } from "./components/config";
import { PublicFirewall } from "./components/machines/publicFirewall";
import { HetznerNode } from "./components/machines/hetznerNode";
import { capacityProblems, memoryLimitMib, planCapacity } from "./components/plan/capacity";
import { compareWithCloud, estimateCost } from "./components/plan/cost";
import { publicFirewallRules } from "./components/plan/exposure";
import { NodeReadiness } from "./components/machines/nodeReadiness";
import { Exporters } from "./components/services/exporters";
import { InferenceServices } from "./components/services/inference";
import { OperationsServices } from "./components/services/operations";
import { renderCloudInit } from "./components/render/cloudInit";
import { buildTailnetPolicy, nodeTag, renderTailnetPolicy } from "./components/render/tailnetPolicy";
import { TailnetAuthKey, TailnetDevice, TailnetPolicyFile } from "./components/machines/tailnetMembership";
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

  const nodes = (["inference", "operations"] as Role[]).map((role) => {
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
    new Exporters(`${name}-exporters`, {
      provider: readiness.dockerProvider,
      tailnetAddress,
      memoryMib: {
        nodeExporter: memoryLimitMib(budgets[role], "nodeExporter"),
        cadvisor: memoryLimitMib(budgets[role], "cadvisor"),
      },
    });
    return { role, name, node, device, readiness, tailnetAddress };
  });

  const nodeOf = (role: Role) => nodes.find((n) => n.role === role)!;
  const inferenceNode = nodeOf("inference");
  const inference = new InferenceServices(`${settings.stem}-inference-services`, {
    provider: inferenceNode.readiness.dockerProvider,
    tailnetAddress: inferenceNode.tailnetAddress,
    dataDir: DATA_MOUNT_POINT,
    models: settings.models,
    ollama: settings.ollama,
    litellm: settings.litellm,
    memoryMib: {
      ollama: memoryLimitMib(budgets.inference, "ollama"),
      litellm: memoryLimitMib(budgets.inference, "litellm"),
      postgres: settings.litellm.database ? memoryLimitMib(budgets.inference, "postgres") : undefined,
      qdrant: memoryLimitMib(budgets.inference, "qdrant"),
      blackbox: memoryLimitMib(budgets.inference, "blackbox"),
    },
    ssh: { host: inferenceNode.tailnetAddress, privateKey: rootAccess.privateKey },
  });

  const operationsNode = nodeOf("operations");
  const operations = new OperationsServices(`${settings.stem}-operations-services`, {
    provider: operationsNode.readiness.dockerProvider,
    environment: settings.environment,
    tailnetAddress: operationsNode.tailnetAddress,
    inferenceAddress: inferenceNode.tailnetAddress,
    litellmMasterKey: inference.litellmMasterKey,
    qdrantApiKey: inference.qdrantReadOnlyApiKey,
    dataDir: DATA_MOUNT_POINT,
    settings: settings.operations,
    dockerAddressPool: settings.network.dockerAddressPool,
    memoryMib: {
      prometheus: memoryLimitMib(budgets.operations, "prometheus"),
      alertmanager: memoryLimitMib(budgets.operations, "alertmanager"),
      blackbox: memoryLimitMib(budgets.operations, "blackbox"),
      grafana: memoryLimitMib(budgets.operations, "grafana"),
    },
    ssh: { host: operationsNode.tailnetAddress, privateKey: rootAccess.privateKey },
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
    operations,
    tailnetPolicy: policyFile ? undefined : tailnetPolicy,
  });
};
