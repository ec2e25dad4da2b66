/** How a service's commands reach a node: over Tailscale SSH, once the node is ready. */
import type * as pulumi from "@pulumi/pulumi";

export interface NodeSession {
  /** The node's tailnet address. */
  host: pulumi.Input<string>;
  /** Root's private key (Tailscale SSH authorizes by tailnet identity and ignores it). */
  privateKey: pulumi.Input<string>;
  /** The node's readiness wait (NodeReadiness.ready): every command on the node runs after it. */
  ready: pulumi.Resource;
  /** The server's id: a command that sets a server up runs again on a new server. */
  serverId: pulumi.Input<number>;
}
