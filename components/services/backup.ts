/**
 * The nightly backups: the target (a Hetzner Storage Box per environment, reachable from Hetzner's network
 * only, with a sub-account per node; or an existing target), each node's own restic repository password, and
 * on each node the programs and the timer (render/backup.ts), installed over Tailscale SSH.
 */
import * as command from "@pulumi/command";
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ROLES, type Role } from "../catalog/services";
import type { BackupSettings } from "../config";
import { BACKUP_SECRET_ENV, BackupStore, renderBackupInstall } from "../render/backup";
import type { NodeSession } from "./nodeSession";
import { shellQuote } from "../render/shell";

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
  /** Hetzner delete protection and Pulumi protect on the Storage Box and its sub-accounts. */
  protection: boolean;
  labels: Record<string, string>;
}

/** What one node logs in and opens its repository with: its own, never the other node's. */
export interface NodeBackupCredentials {
  /** The restic repository's password, a secret: without it no backup of this node can be read. */
  repositoryPassword: pulumi.Output<string>;
  /** The password the node logs in to the target with, a secret: its own sub-account's, or the shared backupTargetPassword. */
  targetPassword?: pulumi.Output<string>;
  /** Its Storage Box sub-account (for target storagebox), whose home directory only it sees. */
  subaccount?: { username: pulumi.Output<string>; server: pulumi.Output<string> };
}

export class Backups extends pulumi.ComponentResource {
  /** Each node's restic repository URL (without credentials). */
  readonly repositories: pulumi.Output<Record<string, string>>;
  /** Each node's own credentials, by role: a node's install gets its own only. */
  readonly credentials: Record<Role, NodeBackupCredentials>;
  /** The Storage Box, for target storagebox. */
  readonly storageBox?: { id: pulumi.Output<number> };

  constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiplatform:services:Backups", name, {}, opts);
    const child = { parent: this };
    const protect = { ...child, protect: args.protection };
    // Before each node had its own credentials, both shared one repository password and one sub-account (the
    // environment's): the inference node's keep their resources (aliases), so an existing stack updates them in
    // place (the protected sub-account is never deleted) and the operations node's are new.
    const formerly = (role: Role, former: string) => (role === "inference" ? { aliases: [{ name: former }] } : {});
    const repositoryPassword = (role: Role) =>
      pulumi.secret(
        new random.RandomPassword(`${name}-${role}-repository-password`, { length: 48, special: false }, { ...protect, ...formerly(role, `${name}-repository-password`) }).result,
      );

    // Hetzner's password policy for Storage Boxes: upper and lower case, a digit and a special character.
    const boxPassword = (suffix: string, more: pulumi.CustomResourceOptions = {}) =>
      new random.RandomPassword(
        `${name}-${suffix}`,
        { length: 32, minUpper: 2, minLower: 2, minNumeric: 2, minSpecial: 2, overrideSpecial: "-_.+#" },
        { ...protect, ...more },
      ).result;

    const credentials = {} as Record<Role, NodeBackupCredentials>;
    const bases = {} as Record<Role, pulumi.Output<string>>;
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
      this.storageBox = { id: box.id.apply(Number) };
      // Each node's sub-account sees its own directory only (<environment>-<role>): a node holds its own
      // credentials, never the other node's nor the box's. Hetzner creates one sub-account of a box at a time.
      let previous: hcloud.StorageBoxSubaccount | undefined;
      for (const role of ROLES) {
        const password = pulumi.secret(boxPassword(`${args.environment}-${role}-password`, formerly(role, `${name}-${args.environment}-password`)));
        const account: hcloud.StorageBoxSubaccount = new hcloud.StorageBoxSubaccount(
          `${name}-${args.environment}-${role}`,
          {
            storageBoxId: box.id.apply(Number),
            homeDirectory: `${args.environment}-${role}`,
            password,
            accessSettings: { ...access, readonly: false },
            description: `restic repository of ${args.environment}'s ${role} node`,
            labels: { ...args.labels, role },
          },
          { ...protect, ...formerly(role, `${name}-${args.environment}`), ...(previous ? { dependsOn: [previous] } : {}) },
        );
        previous = account;
        bases[role] = pulumi.interpolate`sftp://${account.username}@${account.server}:${STORAGE_BOX_SFTP_PORT}`;
        credentials[role] = { repositoryPassword: repositoryPassword(role), targetPassword: password, subaccount: { username: account.username, server: account.server } };
      }
    } else {
      // An existing target: its credential is the user's one, shared by both nodes; each node's repository
      // password is still its own, so one node cannot read the other's backups (though it could delete them).
      const base = args.settings.repositoryUrl!.apply((u) => u.replace(/\/+$/, ""));
      for (const role of ROLES) {
        bases[role] = base;
        credentials[role] = { repositoryPassword: repositoryPassword(role), ...(args.settings.targetPassword ? { targetPassword: args.settings.targetPassword } : {}) };
      }
    }
    this.credentials = credentials;

    const repositories: Record<string, pulumi.Output<string>> = {};
    for (const node of args.nodes) {
      const own = credentials[node.role];
      const repository = pulumi.interpolate`${bases[node.role]}/${node.role}`;
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
        [BACKUP_SECRET_ENV["repository-password"], own.repositoryPassword],
        [BACKUP_SECRET_ENV["target-password"], own.targetPassword],
        [BACKUP_SECRET_ENV["s3-access-key-id"], args.settings.s3?.accessKeyId],
        [BACKUP_SECRET_ENV["s3-secret-access-key"], args.settings.s3?.secretAccessKey],
        [BACKUP_SECRET_ENV["qdrant-api-key"], node.qdrant?.apiKey],
      ];
      const stdin = pulumi.secret(
        pulumi.all(secrets.map(([k, v]) => pulumi.output(v ?? "").apply((value) => (value === "" ? "" : `${k}=${shellQuote(value)}\n`)))).apply((lines) => lines.join("")),
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
