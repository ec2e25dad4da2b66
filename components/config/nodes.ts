/** The two nodes: where they run, which Hetzner server type each is, its backups and its data volume. */
import type { Role } from "../catalog/services";
import { findServerType, LOCATIONS, ServerType, SERVER_TYPES } from "../catalog/serverTypes";
import { RangedSettingName } from "./limits";
import { SettingsReader } from "./reader";
import { SettingName } from "./schema";

export interface NodeSettings {
  role: Role;
  serverType: ServerType;
  /** Hetzner backups of the server. */
  backups: boolean;
  /** Size of the node's data volume, GB. */
  volumeGb: number;
}

/** Each node's settings, by role. */
const NODE_KEYS: Record<Role, { type: SettingName; backups: SettingName; volume: RangedSettingName }> = {
  inference: { type: "inferenceServerType", backups: "inferenceBackups", volume: "inferenceVolumeGb" },
  operations: { type: "operationsServerType", backups: "operationsBackups", volume: "operationsVolumeGb" },
};

export function readNodes(read: SettingsReader): { location: string; nodes: Record<Role, NodeSettings> } {
  const { project, problems } = read;
  const location = read.string("location");
  const locationKnown = (LOCATIONS as readonly string[]).includes(location);
  if (!locationKnown) {
    problems.add(`${project}:location is "${location}": Hetzner's locations are ${LOCATIONS.join(", ")}`);
  }

  const node = (role: Role): NodeSettings => {
    const keys = NODE_KEYS[role];
    const typeName = read.string(keys.type);
    const serverType = findServerType(typeName);
    if (!serverType) {
      problems.add(
        `${project}:${keys.type} is "${typeName}", which is not a Hetzner server type: use one of ` +
          SERVER_TYPES.map((t) => t.name).join(", ") +
          (findServerType(typeName.toLowerCase()) ? ` (did you mean ${typeName.toLowerCase()}? the names are lowercase)` : ""),
      );
    } else if (locationKnown && !serverType.locations.includes(location)) {
      const here = SERVER_TYPES.filter((t) => t.locations.includes(location)).map((t) => t.name);
      problems.add(
        `${project}:${keys.type} is "${typeName}", which Hetzner does not offer in ${location} ` +
          `(only in ${serverType.locations.join(", ")}): in ${location} use one of ${here.join(", ")}, ` +
          `or change ${project}:location`,
      );
    }
    const volumeGb = read.integer(keys.volume);
    return { role, serverType: serverType ?? SERVER_TYPES[0], backups: read.boolean(keys.backups), volumeGb };
  };
  return { location, nodes: { inference: node("inference"), operations: node("operations") } };
}
