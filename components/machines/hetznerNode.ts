/**
 * One Hetzner node: the server, its data volume, and the attachment between them. Used for the inference
 * node and the operations node alike.
 */
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import type { HetznerApiAccess } from "../config/credentials";
import { declareShutdownBeforeResize } from "./gracefulShutdown";

/** Ubuntu LTS: the image cloud-init, Docker's and Tailscale's apt repositories all support. */
export const SERVER_IMAGE = "ubuntu-24.04";

export interface HetznerNodeArgs {
  /** Hetzner server type name, e.g. "cx43"; validated by the config module. */
  serverType: string;
  /** Hetzner location, e.g. "fsn1". */
  location: string;
  /** Hetzner id of the SSH key installed for root, so that Hetzner mails no root password. */
  sshKeyId: pulumi.Input<string>;
  /** The public firewall, attached from creation so the server is never reachable unfiltered. */
  firewallId: pulumi.Input<number>;
  /** Cloud-init user data. A change replaces the server, so it carries bootstrap only. */
  userData: pulumi.Input<string>;
  /** Hetzner backups (+20% of the server price). */
  backups: boolean;
  /** Size of the data volume in GB (10 at least). */
  volumeGb: number;
  /**
   * Hetzner delete and rebuild protection on the server and the volume, and Pulumi `protect` on the
   * volume, which holds the node's state.
   */
  protection: boolean;
  /** Labels on every Hetzner resource of the node (environment, role, managed-by); they find its server. */
  labels: Record<string, string>;
  /** The Hetzner API access of the stack's config, for the ACPI shutdown before a type change. */
  api: HetznerApiAccess;
}

export class HetznerNode extends pulumi.ComponentResource {
  readonly serverId: pulumi.Output<number>;
  readonly serverName: pulumi.Output<string>;
  /** The server type Hetzner reports, once a resize has finished. */
  readonly serverType: pulumi.Output<string>;
  readonly ipv4Address: pulumi.Output<string>;
  readonly ipv6Address: pulumi.Output<string>;
  readonly volumeId: pulumi.Output<number>;

  constructor(name: string, args: HetznerNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:infra:HetznerNode", name, {}, opts);

    // Run exactly when the server type changes, before the server's update changes it (./gracefulShutdown.ts).
    const shutdownBeforeResize = declareShutdownBeforeResize(`${name}-shutdown-before-resize`, args, this);

    const server = new hcloud.Server(
      name,
      {
        serverType: args.serverType,
        location: args.location,
        image: SERVER_IMAGE,
        sshKeys: [args.sshKeyId],
        firewallIds: [args.firewallId],
        userData: args.userData,
        backups: args.backups,
        deleteProtection: args.protection,
        rebuildProtection: args.protection,
        labels: args.labels,
        publicNets: [{ ipv4Enabled: true, ipv6Enabled: true }],
        // A type change keeps the disk's size, so the server can go back to a smaller type (an upgraded disk
        // cannot shrink: Hetzner's "Change the Type of a Server", upgrade_disk). The provider would power a
        // running server off hard first (terraform-provider-hcloud internal/server/resource.go,
        // resourceServerUpdate); shutdownBeforeResize has shut it down by then, and the containers restart with it.
        keepDisk: true,
        // A replaced or destroyed server is shut down by ACPI first, so its databases stop cleanly before it
        // goes (resource.go, resourceServerDelete: Shutdown, then wait for "off").
        shutdownBeforeDeletion: true,
      },
      {
        parent: this,
        // A new image release must not replace a running server.
        ignoreChanges: ["image"],
        dependsOn: [shutdownBeforeResize],
        // A new server gets the volume only once the former one is gone: the attachment's create attaches
        // without detaching (internal/volume/resource_attachment.go), and Hetzner refuses a volume still
        // attached elsewhere (volume_already_attached). The host name is the generation's, so no clash.
        deleteBeforeReplace: true,
      },
    );

    // The volume lives apart from the server so that a server replacement keeps Qdrant's and the
    // databases' data; Hetzner formats it, cloud-init mounts it without knowing its id.
    const volume = new hcloud.Volume(
      `${name}-data`,
      {
        size: args.volumeGb,
        location: args.location,
        format: "ext4",
        deleteProtection: args.protection,
        labels: args.labels,
      },
      { parent: this, protect: args.protection },
    );

    new hcloud.VolumeAttachment(
      `${name}-data`,
      { serverId: server.id.apply(Number), volumeId: volume.id.apply(Number), automount: false },
      // Detached before the former server goes, attached once the new one exists; the volume itself stays.
      { parent: this, deleteBeforeReplace: true },
    );

    this.serverId = server.id.apply(Number);
    this.serverName = server.name;
    this.serverType = server.serverType;
    this.ipv4Address = server.ipv4Address;
    this.ipv6Address = server.ipv6Address;
    this.volumeId = volume.id.apply(Number);
    this.registerOutputs({
      serverId: this.serverId,
      serverName: this.serverName,
      serverType: this.serverType,
      ipv4Address: this.ipv4Address,
      ipv6Address: this.ipv6Address,
      volumeId: this.volumeId,
    });
  }
}
