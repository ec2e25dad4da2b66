/** Coolify on the operations node, installed unattended over Tailscale SSH, for the team's other apps. */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { COOLIFY_VERSION } from "../catalog/images";
import { port } from "../catalog/services";
import { COOLIFY_PASSWORD_ENV, renderCoolifyInstall } from "../render/coolify";
import { FormerHome, movedFrom } from "./formerHome";
import type { NodeSession } from "./nodeSession";

export interface CoolifyArgs {
  /** The node's tailnet address: Coolify's UI is reached there. */
  tailnetAddress: pulumi.Input<string>;
  /** E-mail of Coolify's root user. */
  adminEmail: string;
  /** Docker's address pool, handed to Coolify's installer whole (x.x.x.x/nn). */
  dockerAddressPool: string;
  /**
   * The node's public addresses, when Coolify's proxy is to answer there on 80 and 443 (publicWeb); omitted, it
   * stays on loopback.
   */
  publicWeb?: { ipv4: pulumi.Input<string>; ipv6: pulumi.Input<string> };
  /** How the installer reaches the node: over Tailscale SSH. */
  ssh: NodeSession;
  /** What must be in place on the node before Coolify is: its host firewall. */
  after?: pulumi.Resource[];
  /** Where these resources lived before this component existed; their aliases keep an existing stack's. */
  formerHome?: FormerHome;
}

export class Coolify extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly adminPassword: pulumi.Output<string>;

  constructor(name: string, args: CoolifyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:services:Coolify", name, {}, opts);
    // Coolify asks for mixed case, digits and a symbol; the symbols are safe in an env file.
    const password = new random.RandomPassword(
      `${name}-admin-password`,
      { length: 32, minUpper: 2, minLower: 2, minNumeric: 2, minSpecial: 2, overrideSpecial: "-_.+" },
      { parent: this, aliases: movedFrom(args.formerHome, "coolify-admin-password") },
    ).result;
    this.adminPassword = pulumi.secret(password);
    new command.remote.Command(
      `${name}-install`,
      {
        connection: { host: args.ssh.host, user: "root", privateKey: args.ssh.privateKey },
        create: pulumi
          .all([args.tailnetAddress, args.publicWeb?.ipv4, args.publicWeb?.ipv6])
          .apply(([tailnetAddress, ipv4, ipv6]) =>
            renderCoolifyInstall({
              version: COOLIFY_VERSION,
              adminEmail: args.adminEmail,
              dockerAddressPool: args.dockerAddressPool,
              tailnetAddress,
              publicWeb: args.publicWeb ? { ipv4: ipv4!, ipv6 } : undefined,
            }),
          ),
        stdin: pulumi.secret(pulumi.interpolate`${COOLIFY_PASSWORD_ENV}=${password}\n`),
        // A new version runs the installer again, which upgrades Coolify to it; so does a new server. Any other
        // change of the script (the addresses, publicWeb) runs it again too, as an update.
        triggers: [COOLIFY_VERSION, args.ssh.serverId],
      },
      // Only once the bootstrap has finished (the installer's apt would race the bootstrap's for dpkg's lock),
      // and once the host firewall keeps the apps' containers off the tailnet and the metadata service.
      { parent: this, aliases: movedFrom(args.formerHome, "coolify"), dependsOn: [args.ssh.ready, ...(args.after ?? [])] },
    );
    this.url = pulumi.interpolate`http://${args.tailnetAddress}:${port("coolify")}`;
    this.registerOutputs({ url: this.url });
  }
}
