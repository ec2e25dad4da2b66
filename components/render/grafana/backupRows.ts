// The dashboard's row about the nightly backups: per node and store, how old its last good copy is, whether the
// last run succeeded, and how big the copies are. The series are node-exporter's textfile collector's, written
// by each node's backup program (render/backupScripts.ts).
import { DEFAULT_ALERT_THRESHOLDS } from "../alertRules";
import { Panel, RED, Row } from "./panels";
import { NODE } from "./queries";

const STORE = "{{role}} {{store}}";
const perStore = (metric: string) => `max by (role, store) (${metric}{${NODE}})`;

export function backupsRow(): Row {
  const panels: Panel[] = [
    {
      kind: "stat",
      title: "Backups: age of the last good copy",
      description:
        "Time since each store's last successful backup, per node. The nightly run keeps it under a day; " +
        `red from ${DEFAULT_ALERT_THRESHOLDS.backupMaxAgeHours} hours, where the BackupStale alert fires. ` +
        "\"retention\" is the run's forget --prune.",
      unit: "s",
      queries: [{ expr: `time() - ${perStore("aiplatform_backup_last_success_timestamp_seconds")}`, legend: STORE }],
      width: 12,
      height: 6,
      thresholds: [{ value: null, color: "green" }, { value: DEFAULT_ALERT_THRESHOLDS.backupMaxAgeHours * 3600, color: "red" }],
    },
    {
      kind: "stat",
      title: "Backups: last run",
      description: "Whether each store's last backup run succeeded; a failed run keeps the last good copy (BackupFailed).",
      unit: "none",
      queries: [{ expr: perStore("aiplatform_backup_last_run_success"), legend: STORE }],
      width: 12,
      height: 6,
      thresholds: [RED, { value: 1, color: "green" }],
      valueText: { "0": { text: "FAILED", color: "red" }, "1": { text: "OK", color: "green" } },
    },
    {
      kind: "timeseries",
      title: "Backups: size of each store's copy",
      description: "What each store's last successful backup read, before restic's deduplication and compression.",
      unit: "bytes",
      queries: [{ expr: perStore("aiplatform_backup_size_bytes"), legend: STORE }],
      width: 12,
      height: 8,
      min: 0,
    },
    {
      kind: "timeseries",
      title: "Backups: new data stored per run",
      description: "What each store's last successful backup added to the repository after deduplication: the night's growth.",
      unit: "bytes",
      queries: [{ expr: perStore("aiplatform_backup_added_bytes"), legend: STORE }],
      width: 12,
      height: 8,
      min: 0,
    },
  ];
  return { title: "Backups", panels };
}
