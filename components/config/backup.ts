/** The nightly backups: where they go (a Storage Box the stack declares, or an existing target), when, kept how long. */
import * as pulumi from "@pulumi/pulumi";
import { STORAGE_BOX_TYPES } from "../catalog/serverTypes";
import { BACKUP_TARGETS, BackupTarget } from "./limits";
import { SEALED_SECRET, SettingsReader } from "./reader";

export interface BackupSettings {
  target: BackupTarget;
  /** The Storage Box type, for target storagebox. */
  storageBoxType: (typeof STORAGE_BOX_TYPES)[number];
  /** Hour of the day, UTC, the nightly run starts. */
  hourUtc: number;
  retention: { daily: number; weekly: number; monthly: number };
  /** Whether Prometheus's data is backed up too. */
  prometheus: boolean;
  /** An existing target's restic repository URL, a secret (targets sftp and s3). */
  repositoryUrl?: pulumi.Output<string>;
  /** An existing SFTP target's password, a secret. */
  targetPassword?: pulumi.Output<string>;
  /** An existing S3 target's keys, secrets. */
  s3?: { accessKeyId: pulumi.Output<string>; secretAccessKey: pulumi.Output<string> };
}

export function readBackup(read: SettingsReader): BackupSettings {
  const { project, problems } = read;
  const target = read.choice("backupTarget", BACKUP_TARGETS);
  const typeName = read.string("backupStorageBoxType");
  const storageBoxType = STORAGE_BOX_TYPES.find((t) => t.name === typeName);
  if (!storageBoxType) {
    problems.add(`${project}:backupStorageBoxType is "${typeName}": use one of ${STORAGE_BOX_TYPES.map((t) => t.name).join(", ")}`);
  }
  const url = read.secret("backupRepositoryUrl");
  const password = read.secret("backupTargetPassword");
  const accessKeyId = read.secret("backupS3AccessKeyId");
  const secretAccessKey = read.secret("backupS3SecretAccessKey");
  const need = (missing: string[]) => {
    if (missing.length === 0) return;
    problems.add(
      `${project}:backupTarget is "${target}" but ${missing.map((k) => `${project}:${k}`).join(", ")} ${missing.length === 1 ? "is" : "are"} not set: ` +
        missing.map((k) => `\`pulumi config set --secret ${project}:${k} ...\``).join(", ") + `, or set backupTarget to storagebox`,
    );
  };
  const scheme = { sftp: /^sftp:(\/\/)?[^@/\s]+@[^\s]+$/, s3: /^s3:https?:\/\/\S+\/\S+$/ };
  if (target === "sftp" || target === "s3") {
    need([
      ...(url === undefined ? ["backupRepositoryUrl"] : []),
      ...(target === "sftp" && password === undefined ? ["backupTargetPassword"] : []),
      ...(target === "s3" && accessKeyId === undefined ? ["backupS3AccessKeyId"] : []),
      ...(target === "s3" && secretAccessKey === undefined ? ["backupS3SecretAccessKey"] : []),
    ]);
    if (url !== undefined && url !== SEALED_SECRET && !scheme[target].test(url)) {
      problems.add(
        `${project}:backupRepositoryUrl is not a restic ${target} repository URL (its value is secret and not shown): ` +
          (target === "sftp" ? "write sftp://user@host:port/path" : "write s3:https://host/bucket/path"),
      );
    }
  }
  return {
    target,
    storageBoxType: storageBoxType ?? STORAGE_BOX_TYPES[0],
    hourUtc: read.integer("backupHourUtc"),
    retention: { daily: read.integer("backupKeepDaily"), weekly: read.integer("backupKeepWeekly"), monthly: read.integer("backupKeepMonthly") },
    prometheus: read.boolean("backupPrometheus"),
    ...(target !== "storagebox" && url !== undefined ? { repositoryUrl: pulumi.secret(url) } : {}),
    ...(target === "sftp" && password !== undefined ? { targetPassword: pulumi.secret(password) } : {}),
    ...(target === "s3" && accessKeyId !== undefined && secretAccessKey !== undefined
      ? { s3: { accessKeyId: pulumi.secret(accessKeyId), secretAccessKey: pulumi.secret(secretAccessKey) } }
      : {}),
  };
}
