/**
 * A node's membership of the tailnet: the auth key a server generation joins with, then, once it has joined,
 * its device, found by the generation's own host name.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tailscale from "@pulumi/tailscale";
import type { TailscaleApiAccess } from "../config/credentials";

/** The auth key is used within minutes of its creation, by the server created in the same update. */
export const AUTH_KEY_EXPIRY_SECONDS = 3600;

export interface TailnetMemberArgs {
  /** Tailnet host name the node joins as: the server generation's, e.g. "ai-prod-inference-3fa2c1". */
  hostname: pulumi.Input<string>;
  /** Tags the node carries, e.g. ["tag:ai-prod-inference"]. */
  tags: string[];
  /**
   * Resolves once the server exists. The device lookup waits on it, so that the first preview of a new
   * stack neither waits for nor fails on a device that does not exist yet.
   */
  serverId: pulumi.Input<number>;
  /** How long `pulumi up` waits for the device to appear, e.g. "10m". */
  joinTimeout?: string;
  /** The Tailscale API access of the stack's config, for removing the device when its server goes. */
  api: TailscaleApiAccess;
}

export class TailnetAuthKey extends pulumi.ComponentResource {
  /** The single-use key; a secret that only the user data carries. */
  readonly key: pulumi.Output<string>;

  constructor(name: string, args: { hostname: pulumi.Input<string>; tags: string[] }, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:tailnet:AuthKey", name, {}, opts);
    const key = new tailscale.TailnetKey(
      name,
      {
        // The host name is the server generation's: a new generation changes the description, which replaces
        // the key (RequiresReplace, terraform-provider-tailscale resource_tailnet_key.go), so every new server
        // joins with a key of its own; the former one was spent by the former server.
        description: pulumi.output(args.hostname).apply((hostname) => `bootstrap ${hostname}`.slice(0, 50)),
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

/**
 * The device a server generation joined as. Its host name is the generation's, so the lookup (which takes the
 * first device of that host name: terraform-provider-tailscale data_source_device.go) can only find this
 * generation's device, never a former server's, which stays in the tailnet until it is removed.
 *
 * No DeviceTags and no DeviceKey: the tagged auth key already gives the device its tags, and "when tags are
 * first applied, the tagged device will have key expiry disabled by default" (https://tailscale.com/kb/1068/tags;
 * https://tailscale.com/blog/tagged-key-expiry). DeviceTags' delete also sets no tags, which the API refuses for a
 * tagged device, so `pulumi destroy` failed on it. The lookup checks the tags instead.
 */
export class TailnetDevice extends pulumi.ComponentResource {
  readonly deviceId: pulumi.Output<string>;
  /** The step whose delete removes the device from the tailnet; what reaches the node depends on it. */
  readonly removal: pulumi.Resource;
  /** The host name the device joined as. */
  readonly hostname: pulumi.Output<string>;
  /** The node's tailnet addresses (IPv4 first). */
  readonly addresses: pulumi.Output<string[]>;
  /** MagicDNS name, e.g. ai-prod-inference-3fa2c1.tail1234.ts.net. */
  readonly dnsName: pulumi.Output<string>;

  constructor(name: string, args: TailnetMemberArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:tailnet:Device", name, {}, opts);
    const found = tailscale.getDeviceOutput(
      {
        hostname: pulumi.all([args.serverId, args.hostname]).apply(([, hostname]) => hostname),
        waitFor: args.joinTimeout ?? "10m",
      },
      { parent: this },
    );
    // A device without the node's tags is not the node: refuse it before anything is sent to it.
    const device = found.apply((d) => {
      const missing = args.tags.filter((t) => !(d.tags ?? []).includes(t));
      if (missing.length > 0) {
        throw new Error(`tailnet device ${d.name} (${d.hostname}) lacks the tags ${missing.join(", ")}: it is not this stack's node`);
      }
      return d;
    });
    // When the server goes (replaced or destroyed), so does its device: the provider has no resource whose delete
    // removes a device (terraform-provider-tailscale: DeviceAuthorization's delete is a no-op, DeviceKey's and
    // DeviceTags' set attributes), so this step's delete calls the API's "Delete a device"
    // (DELETE /api/v2/device/{deviceId}, https://tailscale.com/api) with the provider's credentials. A new device
    // (a new generation) replaces the step, whose delete then removes the former device. Deleted before the
    // server (it depends on it) and after everything that reaches the node over the tailnet (they depend on it).
    this.removal = new command.local.Command(
      `${name}-removal`,
      {
        delete: DEVICE_REMOVAL_SCRIPT,
        interpreter: ["/bin/bash", "-c"],
        environment: pulumi.secret(
          pulumi.output(device.nodeId).apply((deviceId) => ({
            TS_DEVICE_ID: deviceId,
            ...definedOnly({
              TS_BASE_URL: args.api.baseUrl,
              TS_API_KEY: args.api.apiKey,
              TS_OAUTH_CLIENT_ID: args.api.oauthClientId,
              TS_OAUTH_CLIENT_SECRET: args.api.oauthClientSecret,
            }),
          })),
        ),
        triggers: [device.nodeId],
      },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.deviceId = device.nodeId;
    this.hostname = pulumi.all([device, args.hostname]).apply(([d, hostname]) => d.hostname ?? hostname);
    this.addresses = device.addresses;
    this.dnsName = pulumi.all([device, args.hostname]).apply(([d, hostname]) => d.name ?? hostname);
    this.registerOutputs({ deviceId: this.deviceId, hostname: this.hostname, addresses: this.addresses, dnsName: this.dnsName });
  }
}

/**
 * Removes the device $TS_DEVICE_ID through the Tailscale API, with the stack's credentials or the provider's
 * environment variables; a device already gone (404) is fine. The key goes to curl on standard input, never on
 * its command line.
 */
export const DEVICE_REMOVAL_SCRIPT = [
  "set -euo pipefail",
  'api="${TS_BASE_URL:-${TAILSCALE_BASE_URL:-https://api.tailscale.com}}"',
  'key="${TS_API_KEY:-${TAILSCALE_API_KEY:-}}"',
  'client_id="${TS_OAUTH_CLIENT_ID:-${TAILSCALE_OAUTH_CLIENT_ID:-}}"',
  'client_secret="${TS_OAUTH_CLIENT_SECRET:-${TAILSCALE_OAUTH_CLIENT_SECRET:-}}"',
  'if [ -n "$key" ]; then',
  '  auth="user = \\"$key:\\""',
  "else",
  "  token=$(printf 'data = \"client_id=%s&client_secret=%s&grant_type=client_credentials\"\\n' \"$client_id\" \"$client_secret\" |",
  `    curl -fsS -K - "$api/api/v2/oauth/token" | sed -n 's/.*"access_token" *: *"\\([^"]*\\)".*/\\1/p')`,
  '  auth="header = \\"Authorization: Bearer ${token}\\""',
  "fi",
  `status=$(printf '%s\\n' "$auth" | curl -sS -K - -o /dev/null -w '%{http_code}' -X DELETE "$api/api/v2/device/$TS_DEVICE_ID")`,
  'case "$status" in',
  '  200|204|404) echo "tailnet device $TS_DEVICE_ID removed (HTTP $status)" ;;',
  '  *) echo "removing tailnet device $TS_DEVICE_ID: HTTP $status" >&2; exit 1 ;;',
  "esac",
].join("\n");

function definedOnly(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined));
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
