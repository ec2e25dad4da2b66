/**
 * A protected stack's guard against `pulumi destroy`. Pulumi checks a resource's `protect` only when it comes
 * to delete that resource, and a destroy deletes dependents first: the containers, networks and commands on
 * the nodes would all be gone before the engine reached a protected server or volume. The guard depends on
 * every other resource of the stack, so a destroy must delete it first; protected, it stops the destroy
 * before anything else is touched. It holds nothing and calls no API, so it is never replaced and never
 * blocks an update.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

export interface DeletionGuardArgs {
  /** Whether the stack is protected: then the guard is, and `pulumi destroy` stops at it. */
  protection: boolean;
  /** Everything the guard stands in front of: components count with all their children. */
  guards: pulumi.Resource[];
}

export class DeletionGuard extends pulumi.ComponentResource {
  constructor(name: string, args: DeletionGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:stack:DeletionGuard", name, {}, opts);
    // The protected resource must be a custom one: `protect` on a component only passes to its children.
    new random.RandomId(name, { byteLength: 4 }, { parent: this, protect: args.protection, dependsOn: args.guards });
    this.registerOutputs({});
  }
}
