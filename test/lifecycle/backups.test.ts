/**
 * The nightly backups in the local cloud, dev stack: `up` declares the environment's Storage Box (reachable from
 * Hetzner's network only, SSH on) and a sub-account per node, and installs the backup on each node with a
 * repository on its own sub-account, that sub-account's password and its own repository password, which the
 * outputs give, and nothing of the other node's; `destroy` removes the sub-accounts and the box. (Prod's box
 * outlives a refused destroy: prod.test.ts.)
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ROLES, type Role } from "../../components/catalog/services";
import { planBackup } from "../../components/plan/backup";
import { log } from "../localcloud/cloud";
import { loadStackSettings } from "../harness";
import { SKIP, onOutput, startScenario, type Scenario } from "./scenario";

interface BackupOutput {
  target: string;
  repositories: Record<Role, string>;
  repositoryPasswords: Record<Role, string>;
  targetPasswords: Record<Role, string>;
  storageBox: { id: number; subaccounts: Record<Role, { username: string; server: string }> };
}

describe("dev's backups in the local cloud", { skip: SKIP }, () => {
  let s: Scenario;
  before(async () => {
    s = await startScenario("dev");
  });
  after(async () => {
    await s?.close();
  });

  it("up declares the Storage Box and a sub-account per node, and installs each node's backup to its repository there, with its own credentials only", async () => {
    const result = await s.project.stack.up({ onOutput: onOutput("up"), color: "never" });
    assert.equal(result.summary.result, "succeeded");
    assert.deepEqual(s.cloud.failedBoots(), []);

    const boxes = [...s.cloud.hetzner.state.storageBoxes.values()];
    assert.deepEqual(boxes.map((b) => [b.name, b.storageBoxType, b.location, b.status, b.protection.delete]), [["ai-dev-backups", "bx11", "fsn1", "active", false]]);
    const [box] = boxes;
    assert.deepEqual(box.access, { reachableExternally: false, sambaEnabled: false, sshEnabled: true, webdavEnabled: false, zfsEnabled: false }, "SSH only, from Hetzner's network only");
    const accounts = [...box.subaccounts.values()];
    assert.deepEqual(accounts.map((a) => a.homeDirectory).sort(), ["dev-inference", "dev-operations"], "one sub-account per node, each in a directory of its own");
    const accountOf = (role: Role) => accounts.find((a) => a.homeDirectory === `dev-${role}`)!;
    for (const account of accounts) {
      assert.deepEqual(account.access, { reachableExternally: false, sambaEnabled: false, sshEnabled: true, webdavEnabled: false, readonly: false });
      assert.notEqual(account.password, box.password, "the nodes never get the box's own password");
    }
    assert.notEqual(accounts[0].password, accounts[1].password);

    const backup = result.outputs.backup.value as BackupOutput;
    assert.equal(backup.target, "storagebox");
    assert.deepEqual(backup.storageBox, {
      id: box.id,
      subaccounts: Object.fromEntries(ROLES.map((role) => [role, { username: accountOf(role).username, server: box.server }])),
    });
    assert.deepEqual(backup.targetPasswords, Object.fromEntries(ROLES.map((role) => [role, accountOf(role).password])));
    assert.notEqual(backup.repositoryPasswords.inference, backup.repositoryPasswords.operations);
    const plan = planBackup(loadStackSettings("dev"));
    const nodes = result.outputs.nodes.value as Record<Role, { hostname: string; tailnetAddresses: string[] }>;
    for (const role of ROLES) {
      const account = accountOf(role);
      const other = ROLES.find((r) => r !== role)!;
      const node = s.cloud.node(nodes[role].hostname);
      assert.ok(node, `${role} answers`);
      assert.equal(node.backupInstalls.length, 1, `${role}: the backup is installed once`);
      const install = node.backup!;
      // The repository on its own sub-account's home, SFTP on port 23, as the output gives it.
      assert.equal(install.settings.RESTIC_REPOSITORY, `sftp://${account.username}@${box.server}:23/${role}`);
      assert.equal(backup.repositories[role], install.settings.RESTIC_REPOSITORY);
      assert.equal(install.settings.BACKUP_NODE, role);
      assert.equal(install.settings.BACKUP_STORES, plan.stores[role].join(" "));
      assert.deepEqual(
        [install.settings.BACKUP_KEEP_DAILY, install.settings.BACKUP_KEEP_WEEKLY, install.settings.BACKUP_KEEP_MONTHLY],
        [plan.retention.daily, plan.retention.weekly, plan.retention.monthly].map(String),
      );
      assert.match(install.timer, new RegExp(`^OnCalendar=\\*-\\*-\\* ${String(loadStackSettings("dev").backup.hourUtc).padStart(2, "0")}:00:00 UTC$`, "m"));
      // The secrets came on standard input: its own sub-account's password and its own repository password.
      assert.equal(install.secrets.TARGET_PASSWORD, account.password);
      assert.equal(install.secrets.REPOSITORY_PASSWORD, backup.repositoryPasswords[role]);
      assert.ok(backup.repositoryPasswords[role].length >= 32);
      const command = node.commands.find((c) => c.handler === "backup-install");
      assert.ok(command && !command.command.includes(account.password) && !command.command.includes(backup.repositoryPasswords[role]), "no secret in the script's text");
      // Nothing the node received opens the other node's backups.
      const received = JSON.stringify(node.commands);
      assert.ok(!received.includes(backup.repositoryPasswords[other]), `${role} received ${other}'s repository password`);
      assert.ok(!received.includes(accountOf(other).password), `${role} received ${other}'s sub-account password`);
    }
    const inference = s.cloud.node(nodes.inference.hostname)!.backup!;
    assert.equal(inference.settings.QDRANT_URL, `http://${nodes.inference.tailnetAddresses[0]}:6333`);
    assert.ok(inference.secrets.QDRANT_API_KEY, "the inference node gets Qdrant's key for its snapshots");
    assert.equal(s.cloud.node(nodes.operations.hostname)!.backup!.secrets.QDRANT_API_KEY, undefined, "the operations node does not");
    assert.deepEqual(s.cloud.hetzner.unservedRequests(), []);
    log(`backups: box ${box.name} (${box.server}), sub-accounts ${accounts.map((a) => `${a.username} (${a.homeDirectory})`).join(", ")}, repositories ${Object.values(backup.repositories).join(", ")}`);
  });

  it("destroy removes the sub-accounts and the Storage Box", async () => {
    const result = await s.project.stack.destroy({ onOutput: onOutput("destroy"), color: "never" });
    assert.equal(result.summary.result, "succeeded");
    assert.deepEqual([...s.cloud.hetzner.state.storageBoxes.values()].map((b) => b.name), []);
    const deletes = s.cloud.hetzner.requests.filter((r) => r.method === "DELETE" && r.path.includes("/storage_boxes/")).map((r) => `${r.route} ${r.status}`);
    assert.deepEqual(deletes, ["DELETE /storage_boxes/{id}/subaccounts/{sub} 201", "DELETE /storage_boxes/{id}/subaccounts/{sub} 201", "DELETE /storage_boxes/{id} 201"]);
  });
});
