/**
 * The nightly backups: the target (a Hetzner Storage Box per environment, reachable from Hetzner's network
 * only, with a sub-account for the environment; or an existing target), the restic repository's password, and
 * on each node the programs and the timer (render/backup.ts), installed over Tailscale SSH.
 */
import * as command from "@pulumi/command";
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Role } from "../catalog/services";
import type { BackupSettings } from "../config";
import { BACKUP_SECRET_ENV, BackupStore, renderBackupInstall } from "../render/backup";
import type { NodeSession } from "./nodeSession";

/** SFTP on a Storage Box answers on port 23 (Hetzner's Storage Box docs, "Access with SSH/rsync/BorgBackup"). */
const STORAGE_BOX_SFTP_PORT = 23;

export interface BackupNodeArgs {
  role: Role;
  ssh: NodeSession;
  stores: BackupStore[];
  configFiles: { container: string; path: string }[];
  /** Qdrant's URL and its read-write key (a snapshot is a write), for the qdrant store. */
  qdrant?: { url: pulumi.Input<string>; apiKey: pulumi.Input<string> };
}

export interface BackupsArgs {
  settings: BackupSettings;
  environment: string;
  /** The Storage Box's name, e.g. "ai-prod-backups". */
  boxName: string;
  location: string;
  resticImage: string;
  dataDir: string;
  nodes: BackupNodeArgs[];
  /** Hetzner delete protection and Pulumi protect on the Storage Box and its sub-account. */
  protection: boolean;
  labels: Record<string, string>;
}

export class Backups extends pulumi.ComponentResource {
  /** Each node's restic repository URL (without credentials). */
  readonly repositories: pulumi.Output<Record<string, string>>;
  /** The restic repositories' password, a secret: without it no backup can be read. */
  readonly repositoryPassword: pulumi.Output<string>;
  /** The Storage Box and the environment's sub-account, which the nodes log in as; for target storagebox. */
  readonly storageBox?: { id: pulumi.Output<number>; username: pulumi.Output<string>; server: pulumi.Output<string> };
  /** The sub-account's password, a secret. */
  readonly targetPassword?: pulumi.Output<string>;

  constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:services:Backups", name, {}, opts);
    const child = { parent: this };
    const protect = { ...child, protect: args.protection };
    this.repositoryPassword = pulumi.secret(new random.RandomPassword(`${name}-repository-password`, { length: 48, special: false }, protect).result);

    // Hetzner's password policy for Storage Boxes: upper and lower case, a digit and a special character.
    const boxPassword = (suffix: string) =>
      new random.RandomPassword(
        `${name}-${suffix}`,
        { length: 32, minUpper: 2, minLower: 2, minNumeric: 2, minSpecial: 2, overrideSpecial: "-_.+#" },
        protect,
      ).result;

    let base: pulumi.Output<string>;
    let targetPassword: pulumi.Output<string> | undefined;
    if (args.settings.target === "storagebox") {
      const access = { reachableExternally: false, sshEnabled: true, sambaEnabled: false, webdavEnabled: false };
      const box = new hcloud.StorageBox(
        `${name}-box`,
        {
          name: args.boxName,
          storageBoxType: args.settings.storageBoxType.name,
          location: args.location,
          password: pulumi.secret(boxPassword("box-password")),
          accessSettings: { ...access, zfsEnabled: false },
          deleteProtection: args.protection,
          labels: args.labels,
        },
        protect,
      );
      targetPassword = pulumi.secret(boxPassword(`${args.environment}-password`));
      // The environment's sub-account sees its own directory only: the nodes hold its credentials, never the box's.
      const account = new hcloud.StorageBoxSubaccount(
        `${name}-${args.environment}`,
        {
          storageBoxId: box.id.apply(Number),
          homeDirectory: args.environment,
          password: targetPassword,
          accessSettings: { ...access, readonly: false },
          description: `restic repositories of ${args.environment}`,
          labels: args.labels,
        },
        protect,
      );
      base = pulumi.interpolate`sftp://${account.username}@${account.server}:${STORAGE_BOX_SFTP_PORT}`;
      this.storageBox = { id: box.id.apply(Number), username: account.username, server: account.server };
    } else {
      base = args.settings.repositoryUrl!.apply((u) => u.replace(/\/+$/, ""));
      targetPassword = args.settings.targetPassword;
    }
    this.targetPassword = targetPassword;

    const repositories: Record<string, pulumi.Output<string>> = {};
    for (const node of args.nodes) {
      const repository = pulumi.interpolate`${base}/${node.role}`;
      repositories[node.role] = repository;
      const script = pulumi.all([repository, node.qdrant?.url ?? ""]).apply(([repo, qdrantUrl]) =>
        renderBackupInstall({
          node: node.role,
          repository: repo,
          stores: node.stores,
          retention: args.settings.retention,
          hourUtc: args.settings.hourUtc,
          dataDir: args.dataDir,
          ...(qdrantUrl ? { qdrantUrl } : {}),
          configFiles: node.configFiles,
          resticImage: args.resticImage,
        }),
      );
      const secrets: [string, pulumi.Input<string> | undefined][] = [
        [BACKUP_SECRET_ENV["repository-password"], this.repositoryPassword],
        [BACKUP_SECRET_ENV["target-password"], targetPassword],
        [BACKUP_SECRET_ENV["s3-access-key-id"], args.settings.s3?.accessKeyId],
        [BACKUP_SECRET_ENV["s3-secret-access-key"], args.settings.s3?.secretAccessKey],
        [BACKUP_SECRET_ENV["qdrant-api-key"], node.qdrant?.apiKey],
      ];
      const stdin = pulumi.secret(
        pulumi.all(secrets.map(([k, v]) => pulumi.output(v ?? "").apply((value) => (value === "" ? "" : `${k}=${quoteEnv(value)}\n`)))).apply((lines) => lines.join("")),
      );
      new command.remote.Command(
        `${name}-${node.role}-install`,
        {
          connection: { host: node.ssh.host, user: "root", privateKey: node.ssh.privateKey },
          // An existing target's URL is a secret, and so is then the script that carries it.
          create: args.settings.target === "storagebox" ? script : pulumi.secret(script),
          stdin,
          // A new server gets the programs and the timer again; its repository and its results carry on.
          triggers: [node.ssh.serverId],
        },
        // Only once the bootstrap has finished: apt would race the bootstrap's for dpkg's lock.
        { ...child, dependsOn: [node.ssh.ready] },
      );
    }
    this.repositories = pulumi.all(repositories);
    this.registerOutputs({ repositories: this.repositories });
  }
}

/** A value for a KEY=value line that bash sources: single-quoted. */
function quoteEnv(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
