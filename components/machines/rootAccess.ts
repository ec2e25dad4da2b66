/**
 * Root's SSH key on Hetzner. Day-to-day access is Tailscale SSH; this key exists so that Hetzner mails no
 * root password, and its private half (a secret output) is the break-glass way in through the rescue system.
 */
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

export interface RootAccessArgs {
  labels: Record<string, string>;
}

export class RootAccess extends pulumi.ComponentResource {
  /** Hetzner id of the SSH key, for `hcloud.Server.sshKeys`. */
  readonly sshKeyId: pulumi.Output<string>;
  readonly publicKey: pulumi.Output<string>;
  /** OpenSSH private key; a secret. */
  readonly privateKey: pulumi.Output<string>;

  constructor(name: string, args: RootAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:infra:RootAccess", name, {}, opts);
    const key = new tls.PrivateKey(name, { algorithm: "ED25519" }, { parent: this });
    const sshKey = new hcloud.SshKey(name, { publicKey: key.publicKeyOpenssh, labels: args.labels }, { parent: this });
    this.sshKeyId = sshKey.id;
    this.publicKey = key.publicKeyOpenssh;
    this.privateKey = pulumi.secret(key.privateKeyOpenssh);
    this.registerOutputs({ sshKeyId: this.sshKeyId, publicKey: this.publicKey, privateKey: this.privateKey });
  }
}
