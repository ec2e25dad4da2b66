/**
 * A node's membership of the tailnet: the auth key it joins with, then, once it has joined, its device with
 * key expiry turned off and the expected tags.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tailscale from "@pulumi/tailscale";

/** The auth key is used within minutes of its creation, by the server created in the same update. */
export const AUTH_KEY_EXPIRY_SECONDS = 3600;

export interface TailnetMemberArgs {
  /** Tailnet host name the node joins as, e.g. "ai-prod-inference". */
  hostname: string;
  /** Tags the node carries, e.g. ["tag:ai-prod-inference"]. */
  tags: string[];
  /**
   * Resolves once the server exists. The device lookup waits on it, so that the first preview of a new
   * stack neither waits for nor fails on a device that does not exist yet.
   */
  serverId: pulumi.Input<number>;
  /** How long `pulumi up` waits for the device to appear, e.g. "10m". */
  joinTimeout?: string;
}

export class TailnetAuthKey extends pulumi.ComponentResource {
  /** The single-use key; a secret that only the user data carries. */
  readonly key: pulumi.Output<string>;

  constructor(name: string, args: { hostname: string; tags: string[] }, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:tailnet:AuthKey", name, {}, opts);
    const key = new tailscale.TailnetKey(
      name,
      {
        description: `bootstrap ${args.hostname}`.slice(0, 50),
        reusable: false,
        ephemeral: false,
        preauthorized: true,
        tags: args.tags,
        expiry: AUTH_KEY_EXPIRY_SECONDS,
        // A used or expired single-use key is expected: recreating it would change the user data and so
        // replace the server.
        recreateIfInvalid: "never",
      },
      // Children do not inherit the component's dependsOn; a tagged key needs the policy that owns its tag.
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.key = pulumi.secret(key.key);
    this.registerOutputs({ key: this.key });
  }
}

export class TailnetDevice extends pulumi.ComponentResource {
  readonly deviceId: pulumi.Output<string>;
  /** The node's tailnet addresses (IPv4 first). */
  readonly addresses: pulumi.Output<string[]>;
  /** MagicDNS name, e.g. ai-prod-inference.tail1234.ts.net. */
  readonly dnsName: pulumi.Output<string>;

  constructor(name: string, args: TailnetMemberArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:tailnet:Device", name, {}, opts);
    const device = tailscale.getDeviceOutput(
      {
        hostname: pulumi.output(args.serverId).apply(() => args.hostname),
        waitFor: args.joinTimeout ?? "10m",
      },
      { parent: this },
    );
    const after = { parent: this, dependsOn: opts?.dependsOn };
    new tailscale.DeviceKey(name, { deviceId: device.nodeId, keyExpiryDisabled: true }, after);
    // Kept on delete: the provider's delete sets the device's tags to [] (terraform-provider-tailscale,
    // resource_device_tags.go, resourceDeviceTagsDelete: SetDeviceTags(ctx, deviceID, []string{})), which the
    // API refuses for a tagged device ("a device with a tag-based identity must have at least one tag"), so
    // `pulumi destroy` failed (found in the local cloud, test/lifecycle/dev.test.ts). The device outlives its
    // server anyway, offline, until someone removes it.
    new tailscale.DeviceTags(name, { deviceId: device.nodeId, tags: args.tags }, { ...after, retainOnDelete: true });
    this.deviceId = device.nodeId;
    this.addresses = device.addresses;
    this.dnsName = device.apply((d) => d.name ?? args.hostname);
    this.registerOutputs({ deviceId: this.deviceId, addresses: this.addresses, dnsName: this.dnsName });
  }
}

export interface TailnetPolicyFileArgs {
  /** The whole policy file (HuJSON), from render/tailnetPolicy.ts. */
  policy: string;
}

/**
 * The tailnet's policy file, written whole. The control plane runs the policy's own tests before it accepts
 * it, so a change that breaks an accept or a deny fails `pulumi up` instead of reaching the tailnet.
 */
export class TailnetPolicyFile extends pulumi.ComponentResource {
  constructor(name: string, args: TailnetPolicyFileArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:tailnet:PolicyFile", name, {}, opts);
    new tailscale.Acl(
      name,
      // Opting in to management is opting in to replacing what the tailnet has.
      { acl: args.policy, overwriteExistingContent: true },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
