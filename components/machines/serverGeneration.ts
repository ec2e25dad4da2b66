/**
 * A server generation: what changes exactly when the server is replaced. Its id names the generation's host
 * (so the tailnet device of a new server can never be mistaken for a former one's: devices outlive their
 * servers, and `tailscale.getDevice` takes the first device of a host name) and its auth key (a single-use
 * key is spent by the server it was made for, so a new server needs a new one).
 */
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

export interface ServerGenerationArgs {
  /** The stable part of the host name, e.g. "ai-prod-inference"; the generation's id follows it. */
  baseName: string;
  /**
   * Everything whose change replaces the server, as plain text: the user data as rendered without the auth key
   * and host name (which follow from the generation), the location, the image. A change starts a new generation.
   */
  replacedBy: Record<string, string>;
}

/** Bytes of the generation id: 6 hex digits, so a host name stays well within a DNS label's 63 characters. */
const GENERATION_ID_BYTES = 3;

/** The generation's host name: the base name, then the generation id. */
export function generationHostname(baseName: string, generationHex: string): string {
  return `${baseName}-${generationHex}`;
}

/** Keepers as short digests: the rendered user data is long, and only its changes matter. */
export function generationKeepers(replacedBy: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(replacedBy).map(([key, value]) => [key, crypto.createHash("sha256").update(value).digest("hex").slice(0, 16)]),
  );
}

export class ServerGeneration extends pulumi.ComponentResource {
  /** The host and tailnet name of this generation's server, e.g. "ai-prod-inference-3fa2c1". */
  readonly hostname: pulumi.Output<string>;

  constructor(name: string, args: ServerGenerationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:infra:ServerGeneration", name, {}, opts);
    const id = new random.RandomId(
      `${name}-generation`,
      { byteLength: GENERATION_ID_BYTES, keepers: generationKeepers(args.replacedBy) },
      { parent: this },
    );
    this.hostname = id.hex.apply((hex) => generationHostname(args.baseName, hex));
    this.registerOutputs({ hostname: this.hostname });
  }
}
