/**
 * The models Ollama serves, pulled one by one over Tailscale SSH: adding a model pulls only it, removing one
 * removes it from the node. InferenceServices declares this between Ollama and LiteLLM: LiteLLM's config
 * names only models already pulled, and a removed model leaves LiteLLM's config (its container is replaced)
 * before `ollama rm` runs, as a removed resource is deleted only after the update's creates and replaces.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { modelResourceSuffix } from "../catalog/models";
import { SERVICES } from "../catalog/services";
import { FormerHome, movedFrom } from "./formerHome";

/** A pull may take this long whatever the model's size (the registry's manifest, a slow start). */
export const PULL_BASE_SECONDS = 300;
/**
 * And this much more per GB of the model's file: 5 minutes a GB fails a pull that runs slower than about
 * 3.4 MB/s, a tenth of what a Hetzner server normally gets from Ollama's registry, rather than letting it
 * hang `pulumi up` without end (pulumi-command sets no timeout of its own).
 */
export const PULL_SECONDS_PER_GB = 300;

/** The bound on one model's pull, in seconds, e.g. 1710 for qwen2.5:7b's 4.7 GB. */
export function pullTimeoutSeconds(fileGb: number): number {
  return PULL_BASE_SECONDS + Math.ceil(fileGb * PULL_SECONDS_PER_GB);
}

/**
 * The pull, as the node's shell runs it. `timeout` runs inside the container, so that it ends the pull
 * itself (killing the `docker exec` client on the host would leave the pull running in the container);
 * Ollama's image is Ubuntu's, with coreutils. The progress output is kept out of stdout and stderr, which
 * pulumi-command stores in the state (its `logging` option only chooses what is shown, not what is
 * stored); on failure its last lines go to stderr, into the error `pulumi up` prints.
 */
export function pullScript(model: string, fileGb: number): string {
  const seconds = pullTimeoutSeconds(fileGb);
  const container = SERVICES.ollama.container;
  return (
    `out=$(docker exec ${container} timeout --kill-after=30 ${seconds} ollama pull ${model} 2>&1) || ` +
    `{ status=$?; echo "ollama pull ${model} failed (exit $status; 124: not done within ${seconds} s):" >&2; ` +
    `printf '%s\\n' "$out" | tr '\\r' '\\n' | tail -n 5 >&2; exit 1; }`
  );
}

/** Removing a model; a model already gone (or Ollama already gone) is not an error. */
export function removeScript(model: string): string {
  return `docker exec ${SERVICES.ollama.container} ollama rm ${model} || true`;
}

export interface ModelsArgs {
  /** Canonical `name:tag` of each model, e.g. "qwen2.5:7b", with its file size in GB (which bounds its pull). */
  models: { name: string; fileGb: number }[];
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
      const suffix = modelResourceSuffix(model.name);
      const pull = pullScript(model.name, model.fileGb);
      new command.remote.Command(
        `${name}-${suffix}`,
        {
          connection: { host: args.ssh.host, user: "root", privateKey: args.ssh.privateKey },
          create: pull,
          // A change of the pull itself (its bound, its script) pulls again in place. Without an update
          // command it would replace the resource: the new pull first, then the old one's delete, `ollama
          // rm`, which would leave the model gone.
          update: pull,
          delete: removeScript(model.name),
        },
        { parent: this, dependsOn: [args.ollama], aliases: movedFrom(args.formerHome, suffix) },
      );
    }
    this.registerOutputs({});
  }
}
