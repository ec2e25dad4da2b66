/**
 * A node's backups as files: its settings (an env file the programs read), the systemd service and timer that
 * run the backup every night, and the install script that puts them, the programs of ./backupScripts.ts and
 * a pinned restic on the node. Pure: the spec in, text out. The secrets arrive on the install script's
 * standard input, never in its text.
 */
import { BACKUP_ASKPASS_SCRIPT, BACKUP_COMMON_SCRIPT, BACKUP_SCRIPT, RESTORE_SCRIPT } from "./backupScripts";
import { shellQuote } from "./shell";

/** What can be backed up, each the way its makers document (./backupScripts.ts). */
export const BACKUP_STORES = ["postgres", "qdrant", "grafana", "coolify", "config", "prometheus"] as const;
export type BackupStore = (typeof BACKUP_STORES)[number];

/** Where the programs live on a node, and the two commands a person runs. */
export const BACKUP_PROGRAM_DIR = "/usr/local/lib/ai-platform/backup";
export const BACKUP_COMMAND = "/usr/local/sbin/ai-platform-backup";
export const RESTORE_COMMAND = "/usr/local/sbin/ai-platform-restore";
export const BACKUP_ENV_FILE = "/etc/ai-platform/backup/backup.env";
export const BACKUP_SECRETS_DIR = "/etc/ai-platform/backup/secrets";
/** Staging copies, restic's cache and each store's last result; on the root disk, not the data volume. */
export const BACKUP_WORK_DIR = "/var/lib/ai-platform/backup";
/** node-exporter's textfile collector reads the results here (the exporter sees the host's / at /host). */
export const TEXTFILE_COLLECTOR_DIR = "/var/lib/ai-platform/node-exporter";
export const BACKUP_UNIT = "ai-platform-backup";

/** The files the programs are installed as, by name in BACKUP_PROGRAM_DIR. */
export const BACKUP_PROGRAMS = {
  "backup-common": BACKUP_COMMON_SCRIPT,
  askpass: BACKUP_ASKPASS_SCRIPT,
  backup: BACKUP_SCRIPT,
  restore: RESTORE_SCRIPT,
} as const;

/** The secrets a node's backups read, by the name of their file in BACKUP_SECRETS_DIR. */
export const BACKUP_SECRET_FILES = [
  "repository-password",
  "target-password",
  "s3-access-key-id",
  "s3-secret-access-key",
  "qdrant-api-key",
] as const;
export type BackupSecretFile = (typeof BACKUP_SECRET_FILES)[number];

export interface BackupRetention {
  daily: number;
  weekly: number;
  monthly: number;
}

export interface BackupNodeSpec {
  /** The node's name in the repository (restic's host), e.g. "inference": stable across server replacements. */
  node: string;
  /** restic's repository URL, without credentials (sftp:..., s3:...). */
  repository: string;
  stores: BackupStore[];
  retention: BackupRetention;
  /** Hour of the day, UTC, the nightly run starts (then up to 30 minutes later, at random). */
  hourUtc: number;
  /** The node's data volume, where Grafana's and Prometheus's data live. */
  dataDir: string;
  /** Qdrant's REST base URL as the node reaches it, for the qdrant store. */
  qdrantUrl?: string;
  /** Rendered configuration files to keep, as container:path, for the config store. */
  configFiles?: { container: string; path: string }[];
  /** The pinned restic image the binary is taken from, e.g. docker.io/restic/restic:0.19.1. */
  resticImage: string;
}


/** The settings the programs read: one KEY='value' a line. */
export function renderBackupEnv(spec: BackupNodeSpec): string {
  checkSpec(spec);
  const values: [string, string][] = [
    ["BACKUP_NODE", spec.node],
    ["RESTIC_REPOSITORY", spec.repository],
    ["BACKUP_STORES", spec.stores.join(" ")],
    ["BACKUP_KEEP_DAILY", String(spec.retention.daily)],
    ["BACKUP_KEEP_WEEKLY", String(spec.retention.weekly)],
    ["BACKUP_KEEP_MONTHLY", String(spec.retention.monthly)],
    ["BACKUP_SECRETS_DIR", BACKUP_SECRETS_DIR],
    ["BACKUP_WORK_DIR", BACKUP_WORK_DIR],
    ["BACKUP_METRICS_DIR", TEXTFILE_COLLECTOR_DIR],
    ["POSTGRES_CONTAINER", "postgres"],
    ["POSTGRES_USER", "litellm"],
    ["POSTGRES_DB", "litellm"],
    ["LITELLM_CONTAINER", "litellm"],
    ["QDRANT_URL", spec.qdrantUrl ?? ""],
    ["GRAFANA_CONTAINER", "grafana"],
    ["GRAFANA_DB", `${spec.dataDir}/grafana/grafana.db`],
    // The user Grafana's image runs as (services/monitoring.ts makes its directory theirs).
    ["GRAFANA_UID", "472"],
    ["COOLIFY_DATA_DIR", "/data/coolify"],
    ["PROMETHEUS_CONTAINER", "prometheus"],
    ["PROMETHEUS_DATA_DIR", `${spec.dataDir}/prometheus`],
    ["CONFIG_FILES", (spec.configFiles ?? []).map((f) => `${f.container}:${f.path}`).join(" ")],
  ];
  return ["# The node's backup settings, written by pulumi up; the secrets are in the files beside.", ...values.map(([k, v]) => `${k}=${shellQuote(v)}`), ""].join("\n");
}

function checkSpec(spec: BackupNodeSpec): void {
  if (!/^[a-z][a-z0-9-]*$/.test(spec.node)) throw new Error(`backup node name must be lowercase letters, digits and -; got ${spec.node}`);
  if (!/^(sftp:|s3:)/.test(spec.repository)) throw new Error(`backup repository must be an sftp: or s3: URL; got ${spec.repository}`);
  if (spec.stores.includes("qdrant") && !spec.qdrantUrl) throw new Error("the qdrant store needs Qdrant's URL");
  for (const f of spec.configFiles ?? []) {
    if (!/^[a-z][a-z0-9-]*$/.test(f.container) || !/^\/[^\s:]+$/.test(f.path)) throw new Error(`config file ${f.container}:${f.path} is not container:/absolute/path`);
  }
  if (!Number.isInteger(spec.hourUtc) || spec.hourUtc < 0 || spec.hourUtc > 23) throw new Error(`backup hour must be 0 to 23; got ${spec.hourUtc}`);
}

/** The service that runs one backup, and the timer that starts it every night. */
export function renderBackupUnits(spec: BackupNodeSpec): { service: string; timer: string } {
  checkSpec(spec);
  const service = [
    "[Unit]",
    "Description=Back up the ai-platform stores with restic",
    "After=docker.service network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${BACKUP_PROGRAM_DIR}/backup`,
    "Nice=10",
    "IOSchedulingClass=idle",
    "TimeoutStartSec=6h",
    "",
  ].join("\n");
  const hour = String(spec.hourUtc).padStart(2, "0");
  const timer = [
    "[Unit]",
    "Description=Nightly backup of the ai-platform stores",
    "",
    "[Timer]",
    `OnCalendar=*-*-* ${hour}:00:00 UTC`,
    // Spread over half an hour, and run at boot when a night was missed while the node was off.
    "RandomizedDelaySec=30m",
    "Persistent=true",
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
  return { service, timer };
}

/** The environment variable of each secret in the env file the install script reads on standard input. */
export const BACKUP_SECRET_ENV: Readonly<Record<BackupSecretFile, string>> = {
  "repository-password": "REPOSITORY_PASSWORD",
  "target-password": "TARGET_PASSWORD",
  "s3-access-key-id": "S3_ACCESS_KEY_ID",
  "s3-secret-access-key": "S3_SECRET_ACCESS_KEY",
  "qdrant-api-key": "QDRANT_API_KEY",
};

const heredoc = (path: string, mode: string, text: string) => {
  const end = "AI_PLATFORM_BACKUP_FILE";
  if (text.includes(end)) throw new Error(`${path} contains the heredoc's end marker`);
  return [`install -d -m 0755 ${shellQuote(path.slice(0, path.lastIndexOf("/")))}`, `cat > ${shellQuote(path)} <<'${end}'`, text.replace(/\n$/, ""), end, `chmod ${mode} ${shellQuote(path)}`];
};

/**
 * Installs a node's backups: sqlite3 and jq, restic copied out of its pinned image, the programs, the
 * settings, the secrets (from standard input, as KEY=value lines), and the nightly timer. Rerunning it
 * replaces what it installed and keeps each store's results.
 */
export function renderBackupInstall(spec: BackupNodeSpec): string {
  const units = renderBackupUnits(spec);
  const secretLines = BACKUP_SECRET_FILES.flatMap((file) => [
    `if [ -n "\${${BACKUP_SECRET_ENV[file]}:-}" ]; then printf '%s' "$${BACKUP_SECRET_ENV[file]}" >${shellQuote(`${BACKUP_SECRETS_DIR}/${file}`)}; else rm -f ${shellQuote(`${BACKUP_SECRETS_DIR}/${file}`)}; fi`,
  ]);
  return [
    "#!/usr/bin/env bash",
    "# Installs the node's nightly backup (restic) and its restore; rerun on every change of its settings.",
    "set -euo pipefail",
    "umask 077",
    "",
    "# The secrets come on standard input as an env file, so they are never on a command line.",
    "secrets=$(mktemp)",
    "trap 'rm -f \"$secrets\"' EXIT",
    'cat > "$secrets"',
    "set -a",
    "# shellcheck disable=SC1090",
    '. "$secrets"',
    "set +a",
    `: "\${REPOSITORY_PASSWORD:?the repository password must arrive on standard input}"`,
    "",
    "export DEBIAN_FRONTEND=noninteractive",
    "if ! command -v sqlite3 >/dev/null || ! command -v jq >/dev/null; then",
    "  apt-get -o DPkg::Lock::Timeout=600 -y -q install --no-install-recommends sqlite3 jq",
    "fi",
    "",
    "# restic at the pinned version, the binary of its official (static) image.",
    `image=${shellQuote(spec.resticImage)}`,
    'docker pull -q "$image" >/dev/null',
    'container=$(docker create "$image")',
    'docker cp "$container:/usr/bin/restic" /usr/local/bin/restic.new',
    'docker rm "$container" >/dev/null',
    "chmod 0755 /usr/local/bin/restic.new",
    "mv /usr/local/bin/restic.new /usr/local/bin/restic",
    "restic version",
    "",
    ...Object.entries(BACKUP_PROGRAMS).flatMap(([name, text]) => heredoc(`${BACKUP_PROGRAM_DIR}/${name}`, name === "backup-common" ? "0644" : "0755", text)),
    `ln -sfn ${BACKUP_PROGRAM_DIR}/backup ${BACKUP_COMMAND}`,
    `ln -sfn ${BACKUP_PROGRAM_DIR}/restore ${RESTORE_COMMAND}`,
    ...heredoc(BACKUP_ENV_FILE, "0600", renderBackupEnv(spec)),
    `install -d -m 0700 ${BACKUP_SECRETS_DIR} ${BACKUP_WORK_DIR}`,
    `install -d -m 0755 ${TEXTFILE_COLLECTOR_DIR}`,
    ...secretLines,
    "",
    ...heredoc(`/etc/systemd/system/${BACKUP_UNIT}.service`, "0644", units.service),
    ...heredoc(`/etc/systemd/system/${BACKUP_UNIT}.timer`, "0644", units.timer),
    "systemctl daemon-reload",
    `systemctl enable --now ${BACKUP_UNIT}.timer`,
    "# The stores' results exist from now on, so the alert counts a missing first backup too.",
    `${BACKUP_PROGRAM_DIR}/backup --publish-only`,
    "",
  ].join("\n");
}
