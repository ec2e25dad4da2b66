/**
 * The CrossGuard pack: `pulumi preview --policy-pack policy` (or `pulumi up ...`). Only wiring: the rules and
 * their tests live in rules.ts. Never import this file from a test: `new PolicyPack()` starts the policy
 * server and waits for the CLI.
 */
import { createRequire } from "node:module";
import { PolicyPack, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { RESOURCE_RULES, secretPathsOf, STACK_RULES, withSecretPaths } from "./rules";

// The SDK hands validations plain properties with their secrets unwrapped; record which paths were secret
// first, so that the credential rules can tell a secret from plain text. Internal to @pulumi/policy, which
// package.json pins: if it moves, fail here rather than report every credential as plaintext. Loaded with
// require so that the patch lands on the module object the SDK's server itself calls through.
type Deserialize = Parameters<typeof withSecretPaths>[0];
const internals = createRequire(__filename)("@pulumi/policy/deserialize") as { deserializeProperties?: Deserialize };
if (typeof internals.deserializeProperties !== "function") {
  throw new Error(
    "@pulumi/policy no longer exposes deserialize.deserializeProperties: the credential rules cannot see which " +
      "values are secret. Update policy/index.ts for this @pulumi/policy version.",
  );
}
internals.deserializeProperties = withSecretPaths(internals.deserializeProperties);

const STACK_TYPE = "pulumi:pulumi:Stack";

const resourcePolicies: ResourceValidationPolicy[] = RESOURCE_RULES.map((rule) => ({
  name: rule.name,
  description: rule.description,
  enforcementLevel: rule.enforcementLevel,
  validateResource: (args, reportViolation) => {
    if (!rule.types.includes(args.type)) return;
    const props = args.props as Record<string, unknown>;
    const resource = { type: args.type, name: args.name, props, secretProps: secretPathsOf(props) };
    for (const message of rule.check(resource)) reportViolation(message);
  },
}));

const stackPolicies: StackValidationPolicy[] = STACK_RULES.map((rule) => ({
  name: rule.name,
  description: rule.description,
  enforcementLevel: rule.enforcementLevel,
  validateStack: (args, reportViolation) => {
    // The root stack resource's properties are the stack's outputs.
    const stack = args.resources.find((r) => r.type === STACK_TYPE);
    if (!stack) return;
    const outputs = stack.props as Record<string, unknown>;
    const check = { outputs, secretOutputs: secretPathsOf(outputs) ?? [] };
    for (const message of rule.check(check)) reportViolation(message, stack.urn);
  },
}));

new PolicyPack("ai-platform-private-by-default", {
  description:
    "Private by default: servers behind firewalls, no public TCP, pinned images, bounded containers bound to " +
    "the tailnet, and credentials only as secrets.",
  policies: [...resourcePolicies, ...stackPolicies],
});
