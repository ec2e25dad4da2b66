/**
 * The check a first `pulumi up` needs before it creates anything: does the tailnet's policy file, which this
 * stack does not manage, define the tags the nodes join with? Without them the control plane refuses the
 * nodes' auth keys, and an unchecked `up` stopped there, halfway, after the firewalls, the SSH key and the
 * (protected) volumes existed.
 *
 * When it runs: only in an update (`pulumi up`, not `pulumi preview` or the preview that `pulumi up` shows
 * first), and before the program declares its first resource, so nothing is created when it fails. A preview
 * does not read the policy: the read is a call to the Tailscale API, and a preview must work offline with
 * placeholder credentials (the tests run real previews so, and so does `npm run plan`'s kind of review).
 */
import * as pulumi from "@pulumi/pulumi";
import * as tailscale from "@pulumi/tailscale";
import { tagOwnershipProblems, TagOwnershipNeeds } from "../plan/tagOwnership";

/** The tailnet's policy does not let this stack's nodes join (or LiteLLM's node reach its backends). Its message is the whole story, as a SettingsError's. */
export class TailnetPolicyError extends pulumi.RunError {
  constructor(
    readonly problems: string[],
    stack: string,
    project: string,
  ) {
    super(
      `The tailnet's policy file does not let this stack's nodes join or reach what they need, so \`pulumi up\` stopped before creating anything:\n` +
        problems.map((p) => `  - ${p}\n`).join("") +
        `Merge plan-out/${stack}/tailnet-policy.hujson (written by \`npm run plan -- ${stack}\`) into the tailnet's ` +
        `policy file (admin console, Access controls), at least its tagOwners and grants, then run \`pulumi up\` again. Or let ` +
        `the prod stack write the whole policy file: \`pulumi config set --stack prod ${project}:manageTailnetPolicy true\`, ` +
        `with ${project}:tailnetUsers.`,
    );
    this.name = "TailnetPolicyError";
    // As SettingsError: Pulumi prints a RunError's message alone, and a stack would only be inspected.
    this.stack = `${this.name}: ${this.message}`;
  }
}

export interface TailnetPreflightArgs extends TagOwnershipNeeds {
  stack: string;
  project: string;
}

/**
 * Reads the tailnet's policy file and throws a TailnetPolicyError naming every missing tag or owner. Does
 * nothing in a preview (see above). Await it before declaring any resource.
 */
export async function checkTailnetPolicy(args: TailnetPreflightArgs): Promise<void> {
  if (pulumi.runtime.isDryRun()) return;
  const policy = await tailscale.getAcl();
  const problems = tagOwnershipProblems(policy.json, args);
  if (problems.length > 0) throw new TailnetPolicyError(problems, args.stack, args.project);
}
