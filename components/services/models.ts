/**
 * The models Ollama serves, pulled one by one over Tailscale SSH: adding a model pulls only it, removing one
 * removes it from the node.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { SERVICES } from "../catalog/services";
import { FormerHome, movedFrom } from "./formerHome";

export interface ModelsArgs {
  /** Canonical `name:tag` of each model, e.g. "qwen2.5:7b". */
  models: string[];
  /** The Ollama container the pulls run in; they wait for it. */
  ollama: pulumi.Resource;
  /** How the pulls reach the node: over Tailscale SSH, like the Docker provider. */
  ssh: { host: pulumi.Input<string>; privateKey: pulumi.Input<string> };
  /** Where the pulls lived before this component existed; their aliases keep an existing stack's pulls. */
  formerHome?: FormerHome;
}

export class Models extends pulumi.ComponentResource {
  constructor(name: string, args: ModelsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:services:Models", name, {}, opts);
    for (const model of args.models) {
      const suffix = `model-${model.replace(/[^a-z0-9.-]/gi, "-")}`;
      new command.remote.Command(
        `${name}-${suffix}`,
        {
          connection: { host: args.ssh.host, user: "root", privateKey: args.ssh.privateKey },
          create: `docker exec ${SERVICES.ollama.container} ollama pull ${model}`,
          delete: `docker exec ${SERVICES.ollama.container} ollama rm ${model} || true`,
        },
        { parent: this, dependsOn: [args.ollama], aliases: movedFrom(args.formerHome, suffix) },
      );
    }
    this.registerOutputs({});
  }
}
