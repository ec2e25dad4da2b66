/**
 * The host firewall of one node (components/render/hostFirewall.ts): installed over Tailscale SSH once the node
 * is ready, applied at once, and by systemd at every boot and every few minutes after.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { type HostFirewallSpec, renderHostFirewallInstall } from "../render/hostFirewall";
import type { NodeSession } from "../services/nodeSession";

export interface HostFirewallArgs {
  /** What the rules keep in and out: components/plan/exposure.ts hostFirewallSpec. */
  spec: HostFirewallSpec;
  /** How the install reaches the node: over Tailscale SSH, after its readiness wait. */
  ssh: NodeSession;
  /** What must exist first: on the operations node, the platform's network, which the rules exempt by its bridge. */
  after?: pulumi.Resource[];
}

export class HostFirewall extends pulumi.ComponentResource {
  /** The install: whatever must not run before the rules are in place depends on it. */
  readonly installed: command.remote.Command;

  constructor(name: string, args: HostFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:machines:HostFirewall", name, {}, opts);
    this.installed = new command.remote.Command(
      name,
      {
        connection: { host: args.ssh.host, user: "root", privateKey: args.ssh.privateKey },
        // A change of the rules runs it again (an update runs create); a new server gets it too.
        create: renderHostFirewallInstall(args.spec),
        triggers: [args.ssh.serverId],
      },
      { parent: this, dependsOn: [args.ssh.ready, ...(args.after ?? [])] },
    );
    this.registerOutputs({});
  }
}
