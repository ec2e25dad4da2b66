/**
 * The self-hosted AI platform: settings -> plan -> components -> stack outputs. Wiring only; what each
 * piece does lives in components/.
 */
import * as pulumi from "@pulumi/pulumi";
import { nodeTag } from "./components/catalog/identities";
import { NodeRole, port, Role, ROLES, WORKER } from "./components/catalog/services";
import { BACKENDS_SETTING, DEPLOYERS_SETTING, INFERENCE_NODES_SETTING, loadSettings, qdrantPeers, Settings, SettingsError } from "./components/config";
import { DeletionGuard } from "./components/deletionGuard";
import { HetznerNode, SERVER_IMAGE } from "./components/machines/hetznerNode";
import { HostFirewall } from "./components/machines/hostFirewall";
import { NodeReadiness } from "./components/machines/nodeReadiness";
import { PublicFirewall } from "./components/machines/publicFirewall";
import { RootAccess } from "./components/machines/rootAccess";
import { ServerGeneration } from "./components/machines/serverGeneration";
import { TailnetAuthKey, TailnetDevice, TailnetPolicyFile } from "./components/machines/tailnetMembership";
import { buildOutputs } from "./components/outputs";
import { alertDestinations, alertmanagerSpec } from "./components/plan/alertRouting";
import { BackupPlan, planBackup, storageBoxLocation } from "./components/plan/backup";
import { CapacityPlan, capacityProblems, planCapacity, planWorkers, WorkerBudget, workerCapacityProblems } from "./components/plan/capacity";
import { compareWithCloud, estimateCost } from "./components/plan/cost";
import { hostFirewallSpec, publicFirewallRules } from "./components/plan/exposure";
import { planThroughput } from "./components/plan/throughput";
import { qdrantClusterCautions } from "./components/plan/qdrantCluster";
import { buildTailnetPolicy, stackPolicySpec } from "./components/plan/tailnetPolicy";
import { renderCloudInit } from "./components/render/cloudInit";
import { renderTailnetPolicy } from "./components/render/tailnetPolicy";
import { Backups } from "./components/services/backup";
import { Coolify } from "./components/services/coolify";
import { Exporters } from "./components/services/exporters";
import { imageTagsTransformation } from "./components/services/imageTags";
import { InferenceServices } from "./components/services/inference";
import { Monitoring } from "./components/services/monitoring";
import { WorkerInference } from "./components/services/ollama";
import { ServiceContainer } from "./components/services/container";
import { qdrantContainer } from "./components/services/qdrant";
import { checkTailnetPolicy } from "./components/machines/tailnetPreflight";

/** Where each node mounts its data volume. */
const DATA_MOUNT_POINT = "/srv/data";

export = async () => {
  const settings = loadSettings();
  const budgets = planCapacity(settings);
  const workerBudgets = planWorkers(settings);
  const misfits = [...capacityProblems(settings, budgets), ...workerCapacityProblems(settings, workerBudgets)];
  if (misfits.length > 0) throw new SettingsError(misfits);
  // A policy this stack does not write must already define the nodes' tags: checked before the first resource.
  if (!settings.tailnet.managePolicy) {
    await checkTailnetPolicy({
      stack: settings.environment,
      project: settings.project,
      nodeTags: [...ROLES, ...(workerBudgets.length > 0 ? [WORKER] : [])].map((role) => nodeTag(settings.namePrefix, settings.environment, role)),
      deployers: settings.tailnet.deployers[settings.environment],
      deployersSetting: `${settings.project}:${DEPLOYERS_SETTING[settings.environment]}`,
      backends: settings.backends[settings.environment],
      litellmNodeTag: nodeTag(settings.namePrefix, settings.environment, "inference"),
      backendsSetting: `${settings.project}:${BACKENDS_SETTING[settings.environment]}`,
      ...(workerBudgets.length > 0
        ? {
            workers: {
              tag: nodeTag(settings.namePrefix, settings.environment, WORKER),
              port: port("ollama"),
              qdrantPeerPort: port("qdrantP2p"),
              setting: `${settings.project}:${INFERENCE_NODES_SETTING[settings.environment]}`,
            },
          }
        : {}),
    });
  }

  // A service whose image the stack pins ahead of the catalog pulls that tag (components/services/imageTags.ts).
  pulumi.runtime.registerStackTransformation(imageTagsTransformation(settings.imageTags));

  // One policy for the whole tailnet, covering every environment: written by the one stack that manages it,
  // an output to merge by hand everywhere else.
  const tailnetPolicy = renderTailnetPolicy(buildTailnetPolicy(stackPolicySpec(settings)));
  const policyFile = settings.tailnet.managePolicy
    ? new TailnetPolicyFile(`${settings.namePrefix}-tailnet-policy`, { policy: tailnetPolicy })
    : undefined;

  const rootAccess = new RootAccess(`${settings.stem}-root`, { labels: labelsFor(settings) });
  const context = { settings, rootAccess, policyFile };
  const nodes = ROLES.map((role) => declareNode(fixedNode(settings, budgets, role), context));
  // The extra inference nodes, each named after its entry: a stack without them declares what it always did.
  const workers = workerBudgets.map((budget) => declareWorker(budget, context));
  const services = declareServices(settings, budgets, nodes, workers, rootAccess);
  const backupPlan = planBackup(settings);
  const backups = declareBackups(settings, backupPlan, nodes, services.inference, rootAccess);

  new DeletionGuard(`${settings.stem}-deletion-guard`, {
    protection: settings.protection,
    guards: [
      rootAccess,
      ...(policyFile ? [policyFile] : []),
      ...nodes.flatMap((n) => n.parts),
      ...workers.flatMap((w) => w.parts),
      ...services.parts,
      backups,
    ],
  });

  const cost = estimateCost(settings);
  const throughput = planThroughput(settings, cost.totalEurMonth);
  // Not an error: the stack still deploys, and the plan says what would fit.
  if (throughput?.warning) void pulumi.log.warn(throughput.warning);
  for (const caution of qdrantClusterCautions(settings.project, settings.environment, qdrantPeers(settings.workers[settings.environment]), settings.qdrant)) {
    void pulumi.log.warn(caution);
  }
  return buildOutputs({
    settings,
    budgets,
    cost,
    comparison: compareWithCloud(settings, cost.totalEurMonth, throughput),
    throughput,
    rootAccess,
    nodes,
    workers: workers.map((w, i) => ({ name: w.worker.name, models: w.worker.models.map((m) => m.name), budget: workerBudgets[i], node: w.node, device: w.device })),
    inference: services.inference,
    monitoring: services.monitoring,
    coolify: services.coolify,
    backups,
    backupPlan,
    alertRoutes: alertDestinations(alertmanagerSpec(settings.operations)),
    tailnetPolicy: policyFile ? undefined : tailnetPolicy,
  });
};

/** The labels of every Hetzner resource; a node's carry its role, which the plan reads back. */
function labelsFor(settings: Settings, role?: NodeRole): Record<string, string> {
  return {
    "managed-by": "pulumi",
    project: settings.project,
    environment: settings.environment,
    ...(role ? { role } : {}),
  };
}

interface NodeContext {
  settings: Settings;
  rootAccess: RootAccess;
  policyFile?: TailnetPolicyFile;
}

/** What makes one node: its role, its resources' stem, its server and volume, its exporters' memory. */
interface NodeSpec<R extends NodeRole> {
  role: R;
  /** The stem of its resources' names, e.g. "ai-dev-inference" or "ai-dev-inference-b". */
  name: string;
  serverType: string;
  backups: boolean;
  volumeGb: number;
  labels: Record<string, string>;
  exportersMib: { nodeExporter: number; cadvisor: number };
}

/** One of the two nodes every environment has, as its settings and budget give it. */
function fixedNode(settings: Settings, budgets: CapacityPlan, role: Role): NodeSpec<Role> {
  return {
    role,
    name: `${settings.stem}-${role}`,
    serverType: settings.nodes[role].serverType.name,
    backups: settings.nodes[role].backups,
    volumeGb: settings.nodes[role].volumeGb,
    labels: labelsFor(settings, role),
    exportersMib: { nodeExporter: budgets[role].limits.nodeExporter, cadvisor: budgets[role].limits.cadvisor },
  };
}

/** One node: its firewall, server generation, tailnet key, server and volume, tailnet device, readiness and exporters. */
function declareNode<R extends NodeRole>(spec: NodeSpec<R>, { settings, rootAccess, policyFile }: NodeContext) {
  const { role, name, labels } = spec;
  const tags = [nodeTag(settings.namePrefix, settings.environment, role)];
  const firewall = new PublicFirewall(name, { rules: publicFirewallRules(role, settings.network), labels });
  // A managed policy must define the node's tag before a key or a device can carry it.
  const policyFirst = { dependsOn: policyFile ? [policyFile] : [] };
  const bootstrap = (hostname: string, tailscaleAuthKey: string) =>
    renderCloudInit({
      hostname,
      tailscaleAuthKey,
      tailscaleTags: tags,
      swapGiB: settings.swapGiB,
      dockerAddressPool: settings.network.dockerAddressPool,
      dataMountPoint: DATA_MOUNT_POINT,
    });
  // Whatever replaces the server starts a new generation: a host name and an auth key of its own.
  const generation = new ServerGeneration(name, {
    baseName: name,
    replacedBy: { bootstrap: bootstrap(name, "(the generation's key)"), location: settings.location, image: SERVER_IMAGE },
  });
  const authKey = new TailnetAuthKey(name, { hostname: generation.hostname, tags }, policyFirst);
  const userData = pulumi.all([generation.hostname, authKey.key]).apply(([hostname, key]) => bootstrap(hostname, key));
  const node = new HetznerNode(name, {
    serverType: spec.serverType,
    location: settings.location,
    sshKeyId: rootAccess.sshKeyId,
    firewallId: firewall.firewallId,
    userData: pulumi.secret(userData),
    backups: spec.backups,
    volumeGb: spec.volumeGb,
    protection: settings.protection,
    labels,
    api: settings.hetznerApi,
  });
  // The device is removed when its server goes: its removal step depends on the server (./tailnetMembership.ts).
  const device = new TailnetDevice(
    name,
    { hostname: generation.hostname, tags, serverId: node.serverId, api: settings.tailscaleApi },
    { dependsOn: [...policyFirst.dependsOn, node] },
  );
  // The node's tailnet IPv4 address: every SSH, Docker and published port goes there.
  const tailnetAddress = device.addresses.apply((a) => a[0]);
  // Everything on the node depends on the wait, and the wait on the device: all of it goes before the device.
  const readiness = new NodeReadiness(
    name,
    { tailnetAddress, privateKey: rootAccess.privateKey, serverId: node.serverId, serverType: node.serverType },
    { dependsOn: [device] },
  );
  const exporters = new Exporters(`${name}-exporters`, {
    provider: readiness.dockerProvider,
    role,
    tailnetAddress,
    memoryMib: spec.exportersMib,
  }, { transformations: [readiness.onThisServer] });
  return { role, name, node, device, readiness, tailnetAddress, parts: [firewall, generation, authKey, node, device, readiness, exporters] };
}

type DeclaredNode<R extends NodeRole = Role> = ReturnType<typeof declareNode<R>>;

/**
 * An extra inference node: a node like the others (`<stem>-inference-<name>`, tagged as the environment's
 * worker), its Ollama on its tailnet address with the models it serves, and its host firewall.
 */
function declareWorker(budget: WorkerBudget, context: NodeContext) {
  const { settings, rootAccess } = context;
  const worker = settings.workers[settings.environment].find((w) => w.name === budget.name)!;
  const node = declareNode(
    {
      role: WORKER,
      name: `${settings.stem}-inference-${worker.name}`,
      serverType: worker.serverType.name,
      backups: false,
      volumeGb: worker.volumeGb,
      labels: { ...labelsFor(settings, WORKER), node: worker.name },
      exportersMib: { nodeExporter: budget.limits.nodeExporter, cadvisor: budget.limits.cadvisor },
    },
    context,
  );
  const ssh = sessionOn(node, rootAccess);
  const inference = new WorkerInference(
    `${node.name}-services`,
    { provider: node.readiness.dockerProvider, tailnetAddress: node.tailnetAddress, models: worker.models, ollama: settings.ollama, memoryMib: budget.limits.ollama, ssh },
    { transformations: [node.readiness.onThisServer] },
  );
  const hostFirewall = new HostFirewall(`${node.name}-host-firewall`, { spec: hostFirewallSpec(WORKER, false), ssh, after: [] });
  return { ...node, worker, budget, inference, parts: [...node.parts, inference, hostFirewall] };
}

type DeclaredWorker = ReturnType<typeof declareWorker>;

/** How a command reaches a node: over Tailscale SSH as root, once the node is ready. */
function sessionOn(node: DeclaredNode<NodeRole>, rootAccess: RootAccess) {
  return { host: node.tailnetAddress, privateKey: rootAccess.privateKey, ready: node.readiness.ready, serverId: node.node.serverId };
}

/** The services on the nodes: inference and its models, monitoring, and Coolify when it is asked for. */
function declareServices(settings: Settings, budgets: CapacityPlan, nodes: DeclaredNode[], workers: DeclaredWorker[], rootAccess: RootAccess) {
  const nodeOf = (role: Role) => nodes.find((n) => n.role === role)!;
  const sshTo = (node: DeclaredNode) => sessionOn(node, rootAccess);
  const inferenceNode = nodeOf("inference");
  const operationsNode = nodeOf("operations");
  // With extra inference nodes, Qdrant is a cluster of a peer on each of them and on the inference node.
  const { replicationFactor, writeConsistency } = settings.qdrant;
  const clusterSettings = { replicationFactor, writeConsistency };
  const qdrantCluster = workers.length > 0 ? clusterSettings : undefined;

  const inference = new InferenceServices(`${settings.stem}-inference-services`, {
    provider: inferenceNode.readiness.dockerProvider,
    tailnetAddress: inferenceNode.tailnetAddress,
    dataDir: DATA_MOUNT_POINT,
    models: settings.models,
    ollama: settings.ollama,
    litellm: settings.litellm,
    backends: settings.backends[settings.environment],
    workers: workers.map((w) => ({
      name: w.worker.name,
      address: w.tailnetAddress,
      models: w.worker.models.map((m) => ({ name: m.name, embedding: m.embedding })),
      ready: w.inference.models,
    })),
    qdrantCluster,
    memoryMib: budgets.inference.limits,
    pulls: {
      name: `${settings.stem}-models`,
      ssh: sshTo(inferenceNode),
      formerHome: { type: "aiplatform:services:Inference", name: `${settings.stem}-inference-services` },
    },
  }, { transformations: [inferenceNode.readiness.onThisServer] });

  // Each extra inference node's Qdrant peer joins the cluster through the inference node's, with its keys.
  const workerQdrants = workers.map(
    (w) =>
      new ServiceContainer(
        `${w.name}-qdrant`,
        {
          provider: w.readiness.dockerProvider,
          ...qdrantContainer({
            role: WORKER,
            tailnetAddress: w.tailnetAddress,
            dataDir: DATA_MOUNT_POINT,
            memoryMib: w.budget.limits.qdrant,
            keys: inference.qdrantKeys,
            cluster: { ...clusterSettings, bootstrap: inferenceNode.tailnetAddress },
          }),
        },
        { dependsOn: [inference.qdrant], transformations: [w.readiness.onThisServer] },
      ),
  );

  // Monitoring and Coolify were one component, aiplatform:services:Operations, before they were split:
  // the aliases keep an existing stack's resources where they are.
  const formerOperations = { type: "aiplatform:services:Operations", name: `${settings.stem}-operations-services` };
  const { paging, chat, email, deadMansSwitchUrl } = settings.operations;
  const monitoring = new Monitoring(
    `${settings.stem}-monitoring`,
    {
      provider: operationsNode.readiness.dockerProvider,
      environment: settings.environment,
      tailnetAddress: operationsNode.tailnetAddress,
      inferenceAddress: inferenceNode.tailnetAddress,
      backends: settings.backends[settings.environment],
      workers: workers.map((w) => ({ name: w.worker.name, address: w.tailnetAddress })),
      qdrantReadOnlyApiKey: inference.qdrantReadOnlyApiKey,
      dataDir: DATA_MOUNT_POINT,
      retention: settings.operations.retention,
      alerting: { paging, chat, email, deadMansSwitchUrl },
      memoryMib: budgets.operations.limits,
      ssh: sshTo(operationsNode),
    },
    { aliases: [formerOperations], transformations: [operationsNode.readiness.onThisServer] },
  );
  // What each node's containers may reach (components/plan/exposure.ts hostFirewallSpec). The operations
  // node's rules let the platform's network through to the tailnet, so they come once that network exists.
  const hostFirewalls = nodes.map(
    (n) =>
      new HostFirewall(`${n.name}-host-firewall`, {
        spec: hostFirewallSpec(n.role, settings.operations.coolify),
        ssh: sshTo(n),
        after: n.role === "operations" ? [monitoring] : [],
      }),
  );
  const coolify = settings.operations.coolify
    ? new Coolify(`${settings.stem}-coolify`, {
        tailnetAddress: operationsNode.tailnetAddress,
        adminEmail: settings.operations.coolifyAdminEmail,
        dockerAddressPool: settings.network.dockerAddressPool,
        publicWeb: settings.network.publicWeb
          ? { ipv4: operationsNode.node.ipv4Address, ipv6: operationsNode.node.ipv6Address }
          : undefined,
        ssh: sshTo(operationsNode),
        after: hostFirewalls.filter((_, i) => nodes[i].role === "operations"),
        formerHome: formerOperations,
      })
    : undefined;
  return { inference, monitoring, coolify, parts: [inference, ...workerQdrants, monitoring, ...hostFirewalls, ...(coolify ? [coolify] : [])] };
}

/**
 * The nightly backups (components/services/backup.ts): the environment's Storage Box (or an existing target)
 * and, on each node, the backup of its stores, installed over Tailscale SSH once the node is ready.
 */
function declareBackups(settings: Settings, plan: BackupPlan, nodes: DeclaredNode[], inference: InferenceServices, rootAccess: RootAccess) {
  return new Backups(`${settings.stem}-backups`, {
    settings: settings.backup,
    environment: settings.environment,
    boxName: `${settings.stem}-backups`,
    location: storageBoxLocation(settings.location),
    resticImage: plan.resticImage,
    dataDir: DATA_MOUNT_POINT,
    nodes: nodes.map((n) => ({
      role: n.role,
      ssh: sessionOn(n, rootAccess),
      stores: plan.stores[n.role],
      configFiles: plan.configFiles[n.role],
      // Qdrant's snapshot API, on the inference node's tailnet address, with the read-write key (a snapshot is a write).
      ...(plan.stores[n.role].includes("qdrant") ? { qdrant: { url: inference.qdrantUrl, apiKey: inference.qdrantApiKey } } : {}),
    })),
    protection: settings.protection,
    labels: labelsFor(settings),
  });
}
