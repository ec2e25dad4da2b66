/**
 * The stack outputs are a contract for other projects: every promised output is there (a secret where
 * promised), nothing undocumented is added, and the README lists each one.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { ROLES, type Role } from "../components/catalog/services";
import { OUTPUT_CONTRACT } from "../components/outputs";
import { ProgramRun, PROJECT_ROOT, projectName, runProgram } from "./harness";

const PROJECT = projectName();

function valueAt(outputs: Record<string, unknown>, dotted: string): unknown {
  return dotted.split(".").reduce<unknown>((v, key) => (v && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined), outputs);
}

/** Every path that holds a value, down to the contract's depth (objects the contract treats as one value stop there). */
function presentPaths(outputs: Record<string, unknown>): string[] {
  const promised = new Set(OUTPUT_CONTRACT.map((o) => o.path));
  const paths: string[] = [];
  const walk = (value: unknown, at: string) => {
    if (at && promised.has(at)) return void paths.push(at);
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, at ? `${at}.${k}` : k);
    } else if (at) paths.push(at);
  };
  walk(outputs, "");
  return paths;
}

/** Runs a variant of the stack in which every conditional output is present, and one in which none is. */
const variants: Record<string, () => Promise<ProgramRun>> = {
  "prod (Coolify on, policy unmanaged)": () => runProgram("prod"),
  "prod (Coolify off, policy managed)": () =>
    runProgram("prod", {
      set: { [`${PROJECT}:manageTailnetPolicy`]: "true", [`${PROJECT}:tailnetUsers`]: ["alice@example.com"], [`${PROJECT}:coolify`]: "false" },
    }),
};

for (const [name, variant] of Object.entries(variants)) {
  describe(`the outputs of ${name}`, () => {
    let run: ProgramRun;
    before(async () => {
      run = await variant();
    });

    it("hold every promised output, a secret exactly where promised", () => {
      for (const promise of OUTPUT_CONTRACT) {
        const value = valueAt(run.outputs, promise.path);
        if (promise.onlyWhen && value === undefined) continue;
        assert.notEqual(value, undefined, `${promise.path} is promised but missing`);
        const secret = run.secretOutputs.some((s) => s === promise.path || promise.path.startsWith(`${s}.`));
        assert.equal(secret, promise.secret ?? false, `${promise.path} should ${promise.secret ? "" : "not "}be a secret`);
      }
    });

    it("hold nothing the contract does not document", () => {
      const promised = new Set(OUTPUT_CONTRACT.map((o) => o.path));
      assert.deepEqual(presentPaths(run.outputs).filter((p) => !promised.has(p)), []);
    });
  });
}

describe("conditional outputs", () => {
  it("are present when their condition holds and absent otherwise", async () => {
    const prod = await runProgram("prod");
    const dev = await runProgram("prod", {
      set: { [`${PROJECT}:manageTailnetPolicy`]: "true", [`${PROJECT}:tailnetUsers`]: ["alice@example.com"], [`${PROJECT}:coolify`]: "false" },
    });
    assert.notEqual(valueAt(prod.outputs, "coolify.url"), undefined);
    assert.notEqual(valueAt(prod.outputs, "tailnetPolicy"), undefined);
    assert.equal(valueAt(dev.outputs, "coolify.url"), undefined);
    assert.equal(valueAt(dev.outputs, "tailnetPolicy"), undefined);
  });
});

describe("the backup outputs", () => {
  it("give each node's repository on its own Storage Box sub-account, and its own passwords as secrets", async () => {
    const prod = await runProgram("prod");
    const backup = valueAt(prod.outputs, "backup") as Record<string, Record<string, unknown>>;
    const accounts = Object.fromEntries(
      ROLES.map((role) => {
        const account = prod.one("hcloud:index/storageBoxSubaccount:StorageBoxSubaccount", `backups-prod-${role}`);
        return [role, { username: String(account.state.username), server: String(account.state.server), home: account.inputs.homeDirectory }];
      }),
    );
    assert.equal(prod.ofType("hcloud:index/storageBoxSubaccount:StorageBoxSubaccount").length, 2, "one sub-account per node");
    assert.deepEqual([accounts.inference.home, accounts.operations.home], ["prod-inference", "prod-operations"], "each in a home directory of its own");
    for (const role of ROLES) {
      const { username, server } = accounts[role];
      assert.equal(backup.repositories[role], `sftp://${username}@${server}:23/${role}`);
      // The passwords the outputs give are the ones generated for that node.
      const generated = (suffix: string) => prod.one("random:index/randomPassword:RandomPassword", `backups-${suffix}`).state.result;
      assert.equal(backup.repositoryPasswords[role], generated(`${role}-repository-password`));
      assert.equal(backup.targetPasswords[role], generated(`prod-${role}-password`));
    }
    assert.notEqual(accounts.inference.username, accounts.operations.username);
    assert.deepEqual(backup.storageBox, {
      id: Number(prod.one("hcloud:index/storageBox:StorageBox", "backups-box").id),
      subaccounts: Object.fromEntries(ROLES.map((role) => [role, { username: accounts[role].username, server: accounts[role].server }])),
    });
    assert.ok(prod.secretOutputs.includes("backup.repositoryPasswords") && prod.secretOutputs.includes("backup.targetPasswords"));
    assert.equal(backup.restoreCommand, "/usr/local/sbin/ai-platform-restore [--snapshot ID] --yes STORE...|all");
  });

  // The operations node's root is Coolify's admins': what its install gets must not open the inference node's
  // backups (LiteLLM's database, Qdrant's vectors), and the other way round.
  const installs: Record<string, () => Promise<ProgramRun>> = {
    "a Storage Box": () => runProgram("prod"),
    "an existing SFTP target": () =>
      runProgram("dev", { set: { [`${PROJECT}:backupTarget`]: "sftp", [`${PROJECT}:backupRepositoryUrl`]: "sftp://team@nas.example.com:22/ai-backups", [`${PROJECT}:backupTargetPassword`]: "pw-0123" } }),
  };
  for (const [target, run] of Object.entries(installs)) {
    it(`with ${target}, give each node's install its own repository password and login, never the other node's`, async () => {
      const stack = await run();
      const backup = valueAt(stack.outputs, "backup") as Record<string, Record<Role, string>>;
      const install = (role: Role) => stack.one("command:remote:Command", `-backups-${role}-install`);
      for (const role of ROLES) {
        const other = ROLES.find((r) => r !== role)!;
        const { stdin, create } = install(role).inputs as { stdin: string; create: string };
        assert.ok(stdin.includes(backup.repositoryPasswords[role]), `${role}: its own repository password`);
        assert.ok(stdin.includes(backup.targetPasswords[role]), `${role}: its login to the target`);
        assert.ok(!`${stdin}\n${create}`.includes(backup.repositoryPasswords[other]), `${role}'s install holds ${other}'s repository password`);
        if (target === "a Storage Box") {
          assert.ok(!`${stdin}\n${create}`.includes(backup.targetPasswords[other]), `${role}'s install holds ${other}'s sub-account password`);
          assert.ok(!create.includes(String((backup.storageBox as unknown as { subaccounts: Record<Role, { username: string }> }).subaccounts[other].username)));
        }
      }
      assert.notEqual(backup.repositoryPasswords.inference, backup.repositoryPasswords.operations);
    });
  }

  it("never show an existing target's URL, a secret setting: its repositories are named by the setting", async () => {
    const url = "sftp://team@nas.example.com:22/ai-backups";
    const dev = await runProgram("dev", { set: { [`${PROJECT}:backupTarget`]: "sftp", [`${PROJECT}:backupRepositoryUrl`]: url, [`${PROJECT}:backupTargetPassword`]: "pw-0123" } });
    const backup = valueAt(dev.outputs, "backup") as Record<string, unknown>;
    assert.deepEqual(backup.repositories, { inference: `<${PROJECT}:backupRepositoryUrl>/inference`, operations: `<${PROJECT}:backupRepositoryUrl>/operations` });
    assert.equal(backup.storageBox, undefined);
    assert.equal(dev.ofType("hcloud:index/storageBox:StorageBox").length, 0);
    assert.ok(dev.secretOutputs.includes("backup.targetPasswords"));
    // The target's login is the user's one, shared; the repository passwords are each node's own.
    assert.deepEqual(backup.targetPasswords, { inference: "pw-0123", operations: "pw-0123" });
    const plain = (value: unknown, at: string): string[] =>
      dev.secretOutputs.some((s) => at === s || at.startsWith(`${s}.`))
        ? []
        : value && typeof value === "object"
          ? Object.entries(value).flatMap(([k, v]) => plain(v, at ? `${at}.${k}` : k))
          : [String(value)];
    assert.deepEqual(plain(dev.outputs, "").filter((v) => v.includes("nas.example.com") || v.includes("pw-0123")), []);
  });
});

describe("the README's outputs table", () => {
  it("lists every output of the contract (npx tsx tools/syncDocs.ts writes it)", () => {
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
    for (const promise of OUTPUT_CONTRACT) assert.ok(readme.includes(`| \`${promise.path}\` |`), `README lacks ${promise.path}`);
  });
});
