/** The policy pack's rules run over recorded resources, as the pack would run them in `pulumi preview`. */
import { RESOURCE_RULES, STACK_RULES, type PolicyResource, type StackOutputs } from "../../policy/rules";

export interface Violation {
  rule: string;
  /** The resource's name, or "stack" for a stack rule. */
  resource: string;
  message: string;
}

/** Every violation of every rule over a set of resources and, when given, the stack's outputs. */
export function checkAll(resources: readonly PolicyResource[], stack?: StackOutputs): Violation[] {
  const found: Violation[] = [];
  for (const rule of RESOURCE_RULES) {
    for (const r of resources.filter((x) => rule.types.includes(x.type))) {
      for (const message of rule.check(r)) found.push({ rule: rule.name, resource: r.name, message });
    }
  }
  if (stack) {
    for (const rule of STACK_RULES) {
      for (const message of rule.check(stack)) found.push({ rule: rule.name, resource: "stack", message });
    }
  }
  return found;
}
