/** What each node backs up, when, kept how long, and what it costs: pure, settings in, the plan out. */
import { IMAGES, imageRef } from "../catalog/images";
import type { Role } from "../catalog/services";
import { STORAGE_BOX_PRICES_AS_OF } from "../catalog/serverTypes";
import type { Settings } from "../config";
import type { BackupStore } from "../render/backup";

export interface BackupPlan {
  target: Settings["backup"]["target"];
  stores: Record<Role, BackupStore[]>;
  /** Rendered configuration each node keeps, as container and path. */
  configFiles: Record<Role, { container: string; path: string }[]>;
  schedule: string;
  retention: Settings["backup"]["retention"];
  /** The Storage Box's monthly price, EUR before VAT; 0 for an existing target (paid elsewhere). */
  eurMonth: number;
  priceAsOf: string;
  resticImage: string;
}

export function planBackup(settings: Settings): BackupPlan {
  const { backup } = settings;
  const tag = settings.imageTags.restic ?? IMAGES.restic.tag;
  return {
    target: backup.target,
    stores: {
      inference: [...(settings.litellm.database ? (["postgres"] as const) : []), "qdrant", "config"],
      operations: ["grafana", ...(settings.operations.coolify ? (["coolify"] as const) : []), "config", ...(backup.prometheus ? (["prometheus"] as const) : [])],
    },
    configFiles: {
      inference: [{ container: "litellm", path: "/app/config.yaml" }],
      operations: [
        { container: "prometheus", path: "/etc/prometheus/prometheus.yml" },
        { container: "prometheus", path: "/etc/prometheus/rules" },
        { container: "alertmanager", path: "/etc/alertmanager/alertmanager.yml" },
        { container: "grafana", path: "/etc/grafana/provisioning" },
      ],
    },
    schedule: `daily at ${String(backup.hourUtc).padStart(2, "0")}:00-${String(backup.hourUtc).padStart(2, "0")}:30 UTC`,
    retention: backup.retention,
    eurMonth: backup.target === "storagebox" ? backup.storageBoxType.priceEurMonth : 0,
    priceAsOf: STORAGE_BOX_PRICES_AS_OF,
    resticImage: imageRef({ ...IMAGES.restic, tag }),
  };
}

/**
 * Where the Storage Box goes: Hetzner's Storage Boxes are in its German and Finnish sites; an environment in
 * Helsinki keeps its box there, every other one gets Falkenstein. (Assumed from Hetzner's Storage Box pages;
 * the provider rejects a location Hetzner does not offer.)
 */
export function storageBoxLocation(location: string): string {
  return location === "hel1" ? "hel1" : "fsn1";
}
