/**
 * A stack's own image tags (ai-platform:imageTags) applied where every service's image is pulled. The
 * catalog (catalog/images.ts) stays the one place a release is pinned for everyone; a stack that must move
 * one service ahead of it (a security fix) names that service and tag in its settings. Applied as a stack
 * transformation of the pinned image's RemoteImage, so that each service component keeps reading the
 * catalog: the image's new id then replaces that one container, which keeps its bind-mounted data.
 */
import * as pulumi from "@pulumi/pulumi";
import { IMAGES, imageRef } from "../catalog/images";
import type { ImageName } from "../config";

const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";

/** Gives each catalogued image named in `tags` the stack's tag instead of the catalog's. */
export function imageTagsTransformation(tags: Partial<Record<ImageName, string>>): pulumi.ResourceTransformation {
  const retagged = new Map<string, string>();
  for (const [name, tag] of Object.entries(tags) as [ImageName, string][]) {
    retagged.set(imageRef(IMAGES[name]), `${IMAGES[name].repository}:${tag}`);
  }
  return ({ type, props, opts }) => {
    const to = type === REMOTE_IMAGE ? retagged.get(props.name as string) : undefined;
    return to === undefined ? undefined : { props: { ...props, name: to }, opts };
  };
}
