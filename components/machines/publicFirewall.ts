/** The Hetzner Cloud Firewall in front of one node's public interfaces. */
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import type { FirewallRuleSpec } from "../plan/exposure";

export interface PublicFirewallArgs {
  /** Rules from plan/exposure.ts; inbound traffic matching none of them is dropped. */
  rules: FirewallRuleSpec[];
  labels: Record<string, string>;
}

export class PublicFirewall extends pulumi.ComponentResource {
  /** The firewall's id as the number `hcloud.Server.firewallIds` takes. */
  readonly firewallId: pulumi.Output<number>;

  constructor(name: string, args: PublicFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:network:PublicFirewall", name, {}, opts);
    const firewall = new hcloud.Firewall(
      name,
      {
        labels: args.labels,
        rules: args.rules.map((r) => ({
          direction: r.direction,
          protocol: r.protocol,
          port: r.port,
          sourceIps: r.sourceIps,
          description: r.description,
        })),
      },
      { parent: this },
    );
    this.firewallId = firewall.id.apply(Number);
    this.registerOutputs({ firewallId: this.firewallId });
  }
}
