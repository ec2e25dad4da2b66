/** Releases of catalogued images that a stack pins itself, ahead of the catalog (a security fix, say). */
import { IMAGES } from "../catalog/images";
import { SettingsReader } from "./reader";

export type ImageName = keyof typeof IMAGES;

/** An image tag as Docker reads one; "latest" is refused: it names no release. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The image tags the stack sets, by catalog name, e.g. { qdrant: "v1.20.1" }. */
export function readImageTags(read: SettingsReader): Partial<Record<ImageName, string>> {
  const { project, problems } = read;
  const tags: Partial<Record<ImageName, string>> = {};
  const names = Object.keys(IMAGES) as ImageName[];
  for (const entry of read.array("imageTags")) {
    const [name, tag] = entry.split("=", 2).map((s) => s.trim());
    if (!names.includes(name as ImageName)) {
      problems.add(`${project}:imageTags has "${entry}": write service=tag with one of ${names.join(", ")}, e.g. qdrant=v1.20.1`);
    } else if (tag === undefined || !TAG.test(tag) || tag === "latest") {
      problems.add(`${project}:imageTags has "${entry}": give a release's tag after the =, e.g. ${name}=${IMAGES[name as ImageName].tag} (never latest)`);
    } else if (name in tags) {
      problems.add(`${project}:imageTags names ${name} more than once: give each service one tag`);
    } else {
      tags[name as ImageName] = tag;
    }
  }
  return tags;
}
