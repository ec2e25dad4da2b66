/**
 * The nightly backups in the local cloud, dev stack: `up` declares the environment's Storage Box (reachable from
 * Hetzner's network only, SSH on) and its sub-account, and installs the backup on each node with a repository on
 * that sub-account, the sub-account's own password and one repository password, which the outputs give;
 * `destroy` removes the sub-account and the box. (Prod's box outlives a refused destroy: prod.test.ts.)
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
  repositoryPassword: string;
  targetPassword: string;
  storageBox: { id: number; username: string; server: string };
}

describe("dev's backups in the local cloud", { skip: SKIP }, () => {
  let s: Scenario;
  before(async () => {
    s = await startScenario("dev");
  });
  after(async () => {
    await s?.close();
  });

  it("up declares the Storage Box and its sub-account, and installs each node's backup to its repository there", async () => {
    const result = await s.project.stack.up({ onOutput: onOutput("up"), color: "never" });
    assert.equal(result.summary.result, "succeeded");
    assert.deepEqual(s.cloud.failedBoots(), []);

    const boxes = [...s.cloud.hetzner.state.storageBoxes.values()];
    assert.deepEqual(boxes.map((b) => [b.name, b.storageBoxType, b.location, b.status, b.protection.delete]), [["ai-dev-backups", "bx11", "fsn1", "active", false]]);
    const [box] = boxes;
    assert.deepEqual(box.access, { reachableExternally: false, sambaEnabled: false, sshEnabled: true, webdavEnabled: false, zfsEnabled: false }, "SSH only, from Hetzner's network only");
    const accounts = [...box.subaccounts.values()];
    assert.equal(accounts.length, 1, "one sub-account: the environment's");
    const [account] = accounts;
    assert.equal(account.homeDirectory, "dev");
    assert.deepEqual(account.access, { reachableExternally: false, sambaEnabled: false, sshEnabled: true, webdavEnabled: false, readonly: false });
    assert.notEqual(account.password, box.password, "the nodes never get the box's own password");

    const backup = result.outputs.backup.value as BackupOutput;
    assert.equal(backup.target, "storagebox");
    assert.deepEqual(backup.storageBox, { id: box.id, username: account.username, server: box.server });
    assert.equal(backup.targetPassword, account.password);
    const plan = planBackup(loadStackSettings("dev"));
    const nodes = result.outputs.nodes.value as Record<Role, { hostname: string; tailnetAddresses: string[] }>;
    for (const role of ROLES) {
      const node = s.cloud.node(nodes[role].hostname);
      assert.ok(node, `${role} answers`);
      assert.equal(node.backupInstalls.length, 1, `${role}: the backup is installed once`);
      const install = node.backup!;
      // The repository on the sub-account's home, SFTP on port 23, as the output gives it.
      assert.equal(install.settings.RESTIC_REPOSITORY, `sftp://${account.username}@${box.server}:23/${role}`);
      assert.equal(backup.repositories[role], install.settings.RESTIC_REPOSITORY);
      assert.equal(install.settings.BACKUP_NODE, role);
      assert.equal(install.settings.BACKUP_STORES, plan.stores[role].join(" "));
      assert.deepEqual(
        [install.settings.BACKUP_KEEP_DAILY, install.settings.BACKUP_KEEP_WEEKLY, install.settings.BACKUP_KEEP_MONTHLY],
        [plan.retention.daily, plan.retention.weekly, plan.retention.monthly].map(String),
      );
      assert.match(install.timer, new RegExp(`^OnCalendar=\\*-\\*-\\* ${String(loadStackSettings("dev").backup.hourUtc).padStart(2, "0")}:00:00 UTC$`, "m"));
      // The secrets came on standard input: the sub-account's password, and the one repository password.
      assert.equal(install.secrets.TARGET_PASSWORD, account.password);
      assert.equal(install.secrets.REPOSITORY_PASSWORD, backup.repositoryPassword);
      assert.ok(backup.repositoryPassword.length >= 32);
      const command = node.commands.find((c) => c.handler === "backup-install");
      assert.ok(command && !command.command.includes(account.password) && !command.command.includes(backup.repositoryPassword), "no secret in the script's text");
    }
    const inference = s.cloud.node(nodes.inference.hostname)!.backup!;
    assert.equal(inference.settings.QDRANT_URL, `http://${nodes.inference.tailnetAddresses[0]}:6333`);
    assert.ok(inference.secrets.QDRANT_API_KEY, "the inference node gets Qdrant's key for its snapshots");
    assert.equal(s.cloud.node(nodes.operations.hostname)!.backup!.secrets.QDRANT_API_KEY, undefined, "the operations node does not");
    assert.deepEqual(s.cloud.hetzner.unservedRequests(), []);
    log(`backups: box ${box.name} (${box.server}), sub-account ${account.username}, repositories ${Object.values(backup.repositories).join(", ")}`);
  });

  it("destroy removes the sub-account and the Storage Box", async () => {
    const result = await s.project.stack.destroy({ onOutput: onOutput("destroy"), color: "never" });
    assert.equal(result.summary.result, "succeeded");
    assert.deepEqual([...s.cloud.hetzner.state.storageBoxes.values()].map((b) => b.name), []);
    const deletes = s.cloud.hetzner.requests.filter((r) => r.method === "DELETE" && r.path.includes("/storage_boxes/")).map((r) => `${r.route} ${r.status}`);
    assert.deepEqual(deletes, ["DELETE /storage_boxes/{id}/subaccounts/{sub} 201", "DELETE /storage_boxes/{id} 201"]);
  });
});
