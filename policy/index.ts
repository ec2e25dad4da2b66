/**
 * The CrossGuard pack: `pulumi preview --policy-pack policy` (or `pulumi up ...`). Only wiring: the rules and
 * their tests live in rules.ts. Never import this file from a test: `new PolicyPack()` starts the policy
 * server and waits for the CLI.
 */
import { createRequire } from "node:module";
import { PolicyPack, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { RESOURCE_RULES, secretPathsOf, STACK_RULES, UNKNOWN, withSecretPaths } from "./rules";

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

// During a preview the SDK hands validations a proxy that throws on any value a deployment has yet to assign,
// and a throwing rule is reported as "can't run during preview" and checks nothing, not even what is known
// (a port with no address at all, a credential in plain text). So the rules get the values under the proxy,
// with each unknown one as UNKNOWN: they check what is known now, and everything at `up`.
const proxy = createRequire(__filename)("@pulumi/policy/proxy") as Record<string, unknown>;
const UNKNOWN_SENTINELS = new Set<unknown>(
  ["unknownBooleanValue", "unknownNumberValue", "unknownStringValue", "unknownArrayValue", "unknownAssetValue", "unknownArchiveValue", "unknownObjectValue"]
    .map((name) => proxy[name])
    .filter((value): value is string | object => value !== undefined && value !== null),
);
const PROXY_TARGET = proxy.getSpecialProxyTarget;
if (UNKNOWN_SENTINELS.size !== 7 || typeof PROXY_TARGET !== "string") {
  throw new Error("@pulumi/policy/proxy no longer exposes its unknown values: update policy/index.ts for this version.");
}

/** The value under the SDK's proxy, with every unknown replaced by UNKNOWN. */
function knownOrUnknown(value: unknown): unknown {
  const raw = value !== null && typeof value === "object" ? ((value as Record<string, unknown>)[PROXY_TARGET as string] ?? value) : value;
  if (UNKNOWN_SENTINELS.has(raw)) return UNKNOWN;
  if (Array.isArray(raw)) return raw.map(knownOrUnknown);
  if (raw !== null && typeof raw === "object") {
    return Object.fromEntries(Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k, knownOrUnknown(v)]));
  }
  return raw;
}

const resourcePolicies: ResourceValidationPolicy[] = RESOURCE_RULES.map((rule) => ({
  name: rule.name,
  description: rule.description,
  enforcementLevel: rule.enforcementLevel,
  validateResource: (args, reportViolation) => {
    if (!rule.types.includes(args.type)) return;
    const proxied = args.props as Record<string, unknown>;
    const props = knownOrUnknown(proxied) as Record<string, unknown>;
    const resource = { type: args.type, name: args.name, props, secretProps: secretPathsOf(proxied) };
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
    const proxied = stack.props as Record<string, unknown>;
    const check = { outputs: knownOrUnknown(proxied) as Record<string, unknown>, secretOutputs: secretPathsOf(proxied) ?? [] };
    for (const message of rule.check(check)) reportViolation(message, stack.urn);
  },
}));

new PolicyPack("ai-platform-private-by-default", {
  description:
    "Private by default: servers behind firewalls, no public TCP, pinned images, bounded containers bound to " +
    "the tailnet, and credentials only as secrets.",
  policies: [...resourcePolicies, ...stackPolicies],
});
