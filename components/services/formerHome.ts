/**
 * Where a resource lived before it moved to another component. Type tokens and parents are part of a
 * resource's identity: without an alias, an existing stack would create the moved resource anew and delete
 * the old one (a second container of the same name, a model removed after it was pulled).
 */
import * as pulumi from "@pulumi/pulumi";

/** The component a resource was a child of, at the top of the stack. */
export interface FormerHome {
  /** Its type token, e.g. "aiplatform:services:Inference". */
  type: string;
  /** Its name, e.g. "ai-dev-inference-services". */
  name: string;
}

/** The alias that finds the resource once called `<home.name>-<suffix>` under its former parent. */
export function movedFrom(home: FormerHome | undefined, suffix: string): pulumi.Alias[] {
  if (home === undefined) return [];
  return [{ name: `${home.name}-${suffix}`, parent: pulumi.createUrn(home.name, home.type) }];
}
