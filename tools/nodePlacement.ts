/**
 * Which node a recorded resource is on, read off what the program declared rather than off resource names:
 *
 * - a Hetzner resource carries its node's role as its `role` label (index.ts's `labels(role)`);
 * - a Docker resource runs on the node whose engine its Docker provider reaches;
 * - that provider, a remote command and a device's settings reach their node through one input (the provider's
 *   `host`, the command's `connection`, the device's `deviceId`) whose value waits for the node's server, so
 *   the server is the one dependency of that input.
 *
 * Other inputs are no guide: the operations node's containers carry the inference node's address in their
 * configs, so they depend on its server too.
 */
import { NODE_ROLES, type NodeRole } from "../components/catalog/services";
import type { ProgramRun, RecordedResource } from "./mocksRunner";

const SERVER = "hcloud:index/server:Server";

/** The input through which a resource of each type reaches its node. */
const WAY_IN: Record<string, string> = {
  "pulumi:providers:docker": "host",
  "command:remote:Command": "connection",
  "tailscale:index/deviceTags:DeviceTags": "deviceId",
  "tailscale:index/deviceKey:DeviceKey": "deviceId",
};

export interface NodePlacement {
  /** The server of the node the resource is on; undefined for what belongs to no node (the root key). */
  serverOf: (resource: RecordedResource) => RecordedResource | undefined;
  /** The role of the node the resource is on. */
  roleOf: (resource: RecordedResource) => NodeRole | undefined;
  /** The node's name when it is an extra inference node (its `node` label, e.g. "b"); undefined otherwise. */
  workerOf: (resource: RecordedResource) => string | undefined;
}

/** A resource's `role` label; a label that names no role is the program's mistake, said as such. */
function roleLabel(resource: RecordedResource): NodeRole | undefined {
  const role = (resource.inputs.labels as Record<string, unknown> | undefined)?.role;
  if (role === undefined) return undefined;
  if (!(NODE_ROLES as readonly unknown[]).includes(role)) {
    throw new Error(`${resource.type} ${resource.name} has the role label ${JSON.stringify(role)}; roles are ${NODE_ROLES.join(", ")}`);
  }
  return role as NodeRole;
}

/** An extra inference node's name: its `node` label (index.ts declareWorker). */
function nodeLabel(resource: RecordedResource): string | undefined {
  const node = (resource.inputs.labels as Record<string, unknown> | undefined)?.node;
  return typeof node === "string" ? node : undefined;
}

/** The URN of a provider reference, `<urn>::<id>` (a URN holds "::" itself, the id does not). */
const providerUrn = (reference: string): string => reference.slice(0, reference.lastIndexOf("::"));

export function nodePlacement(run: ProgramRun): NodePlacement {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const servers = run.ofType(SERVER);

  function serverOf(resource: RecordedResource): RecordedResource | undefined {
    if (resource.type === SERVER) return resource;
    const label = roleLabel(resource);
    if (label !== undefined) return servers.find((s) => roleLabel(s) === label && nodeLabel(s) === nodeLabel(resource));
    if (resource.provider !== "") {
      const provider = byUrn.get(providerUrn(resource.provider));
      return provider === undefined ? undefined : serverOf(provider);
    }
    const wayIn = WAY_IN[resource.type];
    if (wayIn === undefined) return undefined;
    const reached = (resource.propertyDependencies[wayIn] ?? []).flatMap((urn) => {
      const dependency = byUrn.get(urn);
      return dependency?.type === SERVER ? [dependency] : [];
    });
    if (reached.length > 1) {
      throw new Error(`${resource.type} ${resource.name}: its ${wayIn} depends on ${reached.length} servers, expected one`);
    }
    return reached[0];
  }

  return {
    serverOf,
    roleOf: (resource) => {
      const server = serverOf(resource);
      return roleLabel(resource) ?? (server === undefined ? undefined : roleLabel(server));
    },
    workerOf: (resource) => {
      const server = serverOf(resource);
      return server === undefined ? undefined : nodeLabel(server);
    },
  };
}
