/**
 * The way into a node once it exists: a step that waits, over Tailscale SSH, until the node's bootstrap has
 * finished, and a Docker provider that reaches the node's Docker engine over the same path. Every container
 * goes through `dockerProvider` and every other command on the node depends on `ready`, so nothing reaches
 * the node before its bootstrap has finished, after a creation, a replacement or a resize.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { BOOTSTRAP_MARKER_PATH } from "../render/cloudInit";

/** Seconds between SSH attempts, and how many, while the node boots and joins the tailnet (about 15 min). */
const DIAL_TIMEOUT_SECONDS = 15;
const DIAL_ATTEMPTS = 60;
/** How long the bootstrap may take once SSH answers (package installs on a fresh server). */
const BOOTSTRAP_WAIT_SECONDS = 1200;

export interface NodeReadinessArgs {
  /** The node's tailnet address (or MagicDNS name); SSH to it is Tailscale SSH, never the public address. */
  tailnetAddress: pulumi.Input<string>;
  /**
   * Root's private key. Tailscale SSH authorizes by tailnet identity and ignores it; it is offered for the
   * case where the node's own sshd answers instead (before `tailscale up --ssh` has run).
   */
  privateKey: pulumi.Input<string>;
  /** The server's id: a replaced server is waited for again. */
  serverId: pulumi.Input<number>;
  /** The server type Hetzner reports: a resized server (powered off, then on) is waited for again. */
  serverType: pulumi.Input<string>;
}

/** The wait, as a shell script run on the node: cloud-init done, and our bootstrap's marker written. */
export function bootstrapWaitScript(): string {
  return [
    "set -eu",
    `timeout ${BOOTSTRAP_WAIT_SECONDS} cloud-init status --wait >/dev/null || true`,
    `test -f ${BOOTSTRAP_MARKER_PATH} || { echo "bootstrap did not finish: see /var/log/cloud-init-output.log" >&2; exit 1; }`,
    "docker info --format '{{.ServerVersion}}'",
  ].join("\n");
}

export class NodeReadiness extends pulumi.ComponentResource {
  /** Docker engine version reported by the node once it is ready. */
  readonly dockerVersion: pulumi.Output<string>;
  /** Reaches the node's Docker engine over SSH on the tailnet; resources using it wait for the bootstrap. */
  readonly dockerProvider: docker.Provider;
  /**
   * The wait itself: every other command on the node depends on it, since the node answers SSH as soon as it
   * has joined the tailnet, while the bootstrap still installs Docker and mounts the data volume.
   */
  readonly ready: pulumi.Resource;
  /**
   * For the components deployed through `dockerProvider`: ties their networks and images to the server, so a
   * new server gets them again. (The provider's new host replaces it, and the containers, whose ports name the
   * new address; a network or an image has no input that changes, and the engine would keep the former
   * server's records of them.)
   */
  readonly onThisServer: pulumi.ResourceTransformation;

  constructor(name: string, args: NodeReadinessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:infra:NodeReadiness", name, {}, opts);
    const wait = new command.remote.Command(
      `${name}-bootstrap`,
      {
        connection: {
          host: args.tailnetAddress,
          user: "root",
          privateKey: args.privateKey,
          perDialTimeout: DIAL_TIMEOUT_SECONDS,
          dialErrorLimit: DIAL_ATTEMPTS,
        },
        create: bootstrapWaitScript(),
        triggers: [args.serverId, args.serverType],
      },
      // Children do not inherit the component's dependsOn: the device's removal step goes after this wait.
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.ready = wait;
    this.dockerVersion = wait.stdout.apply((s) => s.trim());
    this.dockerProvider = new docker.Provider(
      name,
      {
        host: pulumi.interpolate`ssh://root@${args.tailnetAddress}`,
        // The tailnet has already authenticated the peer by its WireGuard key; a host key pinned in
        // known_hosts would only break on every server replacement.
        sshOpts: ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"],
      },
      // A new address is a new server (a new generation): everything on the former one (containers, networks,
      // images) is made again on the new one, which a provider updated in place would not do.
      { parent: this, dependsOn: [wait], replaceOnChanges: ["host"] },
    );
    this.onThisServer = bindToServer(args.serverId);
    this.registerOutputs({ dockerVersion: this.dockerVersion });
  }
}

/** The label and trigger that tie a Docker network and image to the server they live on. */
export const SERVER_ID_LABEL = "ai-platform.server-id";

export function bindToServer(serverId: pulumi.Input<number>): pulumi.ResourceTransformation {
  const id = pulumi.output(serverId).apply(String);
  return ({ type, props, opts }) => {
    if (type === "docker:index/network:Network") {
      return { props: { ...props, labels: [...((props.labels as unknown[] | undefined) ?? []), { label: SERVER_ID_LABEL, value: id }] }, opts };
    }
    if (type === "docker:index/remoteImage:RemoteImage") {
      return { props: { ...props, triggers: { ...((props.triggers as Record<string, unknown> | undefined) ?? {}), serverId: id } }, opts };
    }
    return undefined;
  };
}
