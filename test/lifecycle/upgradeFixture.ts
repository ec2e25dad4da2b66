/**
 * Writes test/fixtures/upgrade/<stack>.json.gz: what an older version of the program left behind in the local
 * cloud, for test/lifecycle/upgrade.test.ts, which runs this checkout's program against it and expects no change.
 * Run it again when a change to stacks without extra inference nodes is deliberate (the test then says which
 * resource changed): one command, as root (it runs in a network namespace of its own, as the lifecycle tests do):
 *
 *   export PATH="$(bash .ci/install-pulumi-engine.sh):$PATH"
 *   npx tsx test/lifecycle/upgradeFixture.ts            # dev and prod, from OLDER_VERSION
 *   npx tsx test/lifecycle/upgradeFixture.ts dev        # one stack
 *
 * For each stack it takes the program (index.ts, components/, Pulumi.yaml) of OLDER_VERSION with `git archive`
 * (this needs the repository's history; the test does not), starts a local cloud whose tailnet holds the policy
 * the stack outputs (as startScenario does), runs `pulumi up` with that program, and writes:
 *   - the stack's checkpoint (`pulumi stack export`, without --show-secrets): its secrets stay encrypted with
 *     FIXTURE_PASSPHRASE, a test value, and are the fakes' credentials (LocalCloud.credentials) and values the
 *     program generated against the fake cloud (random passwords, the SSH key of the fake nodes, auth keys);
 *   - the fakes' state (LocalCloud.snapshot): servers, volumes, firewalls, SSH keys (public), Storage Boxes,
 *     tailnet keys, devices (with their addresses) and policy, and the ports the fakes listened on, which the
 *     checkpoint records in the providers' endpoints. What the fakes hold in clear of those secrets (the auth
 *     keys, in the tailnet and in the servers' user data; the Storage Boxes' passwords) is redacted: the upgrade
 *     reads none of it (the keys are spent, and `up` reads no resource back).
 * It refuses to write a fixture in which any secret of the checkpoint appears in clear.
 *
 * Why OLDER_VERSION is d9d9daf: it is main just before the merge of the extra inference nodes (issue 15; merge
 * ab44256, whose first parent it is), i.e. the last version a user could have deployed without them. The branch
 * itself started from b2d0a26, but main changed three containers on purpose after that, unrelated to the extra
 * nodes: LiteLLM's (11384dd, its sitecustomize.py, "replaced once on the next up"), Grafana's and Prometheus's
 * (07bde01 and 1498d8e, the 'Model deployments' row and the LiteLLMDeploymentDown rule). A dev fixture written from
 * b2d0a26 makes the test fail with exactly those three replaces (checked), which is not what this proof is about.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { runProgram } from "../../tools/mocksRunner";
import { LocalCloud, log, type LocalCloudSnapshot } from "../localcloud/cloud";
import { createProjectStack, REPO_ROOT, type ProjectStack } from "../localcloud/engine";
import { inNetns, reexecInNetns } from "../localcloud/netns";
import { onOutput } from "./scenario";

/** The last version without extra inference nodes (see above). */
export const OLDER_VERSION = "d9d9daf";
/** The stacks' passphrase in the fixture: a test value, so that the test can open the checkpoint's secrets. */
export const FIXTURE_PASSPHRASE = "localcloud-upgrade-fixture";
export const FIXTURE_DIR = path.join(REPO_ROOT, "test", "fixtures", "upgrade");
/** What makes the program: index.ts and what it imports; Pulumi.yaml declares its settings. */
const PROGRAM = ["index.ts", "components"];
const PROJECT_FILE = "Pulumi.yaml";

export interface UpgradeFixture {
  /** The commit whose program deployed the stack. */
  version: string;
  stack: string;
  /** `pulumi stack export` after that program's `up`. */
  deployment: unknown;
  cloud: LocalCloudSnapshot;
}

export function fixturePath(stack: string): string {
  return path.join(FIXTURE_DIR, `${stack}.json.gz`);
}

export function readFixture(stack: string): UpgradeFixture {
  return JSON.parse(zlib.gunzipSync(fs.readFileSync(fixturePath(stack))).toString("utf8")) as UpgradeFixture;
}

/** What replaces a secret the fakes hold in clear. */
const REDACTED = "redacted-in-fixture";

/** The Pulumi secret signature of a checkpoint's secret values (sdk/go/common/resource/sig). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** The value beside SECRET_SIG in a secret of the checkpoint. */
const SECRET_PLAINTEXT_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** `pulumi stack export` without --show-secrets (the Automation API's exportStack always shows them). */
function exportEncrypted(project: ProjectStack, stack: string): unknown {
  const run = spawnSync(path.join(project.engine.binDir, "pulumi"), ["stack", "export", "--stack", stack], {
    cwd: project.workDir,
    encoding: "utf8",
    maxBuffer: 256 * 2 ** 20,
    env: { ...process.env, ...project.envVars, PULUMI_HOME: path.join(project.dir, "pulumi-home") },
  });
  if (run.status !== 0) throw new Error(`pulumi stack export failed: ${run.stderr}`);
  const exported = JSON.parse(run.stdout) as { deployment: { resources: Record<string, unknown>[] } };
  // Where the older program declared each resource, on this machine (paths of the temporary copy and of
  // node_modules): metadata the engine does not diff, and rewrites at the next update.
  for (const resource of exported.deployment.resources) {
    delete resource.sourcePosition;
    delete resource.stackTrace;
  }
  return exported;
}

/** Every string inside the checkpoint's secret values (an export with --show-secrets), of 8 characters or more. */
export function secretStrings(shown: unknown): string[] {
  const found = new Set<string>();
  const leaves = (v: unknown): void => {
    if (typeof v === "string") {
      if (v.length >= 8) found.add(v);
    } else if (Array.isArray(v)) v.forEach(leaves);
    else if (v && typeof v === "object") Object.values(v).forEach(leaves);
  };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== "object") return;
    const o = v as Record<string, unknown>;
    if (o[SECRET_SIG] !== undefined && typeof o.plaintext === "string") return leaves(JSON.parse(o.plaintext));
    Object.values(o).forEach(walk);
  };
  walk(shown);
  return [...found];
}

/** Redacts what the fakes hold in clear of the stack's secrets: auth keys (tailnet, user data), Storage Box passwords. */
function redactFakes(cloud: LocalCloud): void {
  const keys = [...cloud.tailscale.state.keys.values()];
  for (const server of cloud.hetzner.state.servers.values()) {
    for (const key of keys) server.userData = server.userData?.split(key.key).join(`tskey-auth-${REDACTED}`) ?? null;
  }
  for (const key of keys) key.key = `tskey-auth-${REDACTED}`;
  for (const box of cloud.hetzner.state.storageBoxes.values()) {
    box.password = REDACTED;
    for (const sub of box.subaccounts.values()) sub.password = REDACTED;
  }
}

/** The program at `commit` in a new directory, with the repository's node_modules. */
function programAt(commit: string): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `upgrade-${commit}-`));
  let archive: Buffer;
  try {
    archive = execFileSync("git", ["-C", REPO_ROOT, "archive", "--format=tar", commit, ...PROGRAM, PROJECT_FILE], { maxBuffer: 64 * 2 ** 20 });
  } catch (err) {
    throw new Error(`commit ${commit} is not in this clone (a shallow clone? \`git fetch --unshallow\`): ${(err as Error).message}`);
  }
  execFileSync("tar", ["-x", "-C", out], { input: archive });
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(out, "node_modules"));
  return out;
}

async function generate(stack: string, program: string): Promise<void> {
  const plan = await runProgram(stack);
  const policy = plan.outputs.tailnetPolicy;
  const cloud = new LocalCloud({ initialPolicy: typeof policy === "string" ? policy : undefined });
  await cloud.start();
  try {
    const project = await createProjectStack({
      stack,
      config: cloud.providerConfig(),
      env: { ...cloud.providerEnv(), PULUMI_CONFIG_PASSPHRASE: FIXTURE_PASSPHRASE },
      secrets: LocalCloud.credentials(),
    });
    try {
      // The project's program files point at the older version's; its Pulumi.yaml replaces the copy.
      for (const entry of PROGRAM) {
        fs.rmSync(path.join(project.workDir, entry), { force: true });
        fs.symlinkSync(path.join(program, entry), path.join(project.workDir, entry));
      }
      fs.copyFileSync(path.join(program, PROJECT_FILE), path.join(project.workDir, PROJECT_FILE));
      const up = await project.stack.up({ onOutput: onOutput(`${stack} ${OLDER_VERSION} up`), color: "never" });
      if (up.summary.result !== "succeeded") throw new Error(`${stack}: up with ${OLDER_VERSION} did not succeed`);
      log(`${stack}: up with ${OLDER_VERSION}: ${JSON.stringify(up.summary.resourceChanges)}`);
      const failed = cloud.failedBoots();
      if (failed.length > 0) throw new Error(`${stack}: boots failed: ${failed.map((b) => `${b.serverName}: ${b.failure}`).join("; ")}`);
      const secrets = secretStrings(await project.stack.exportStack());
      await cloud.snapshot(); // waits for every boot and action, so that nothing writes the fakes' state after this
      redactFakes(cloud);
      const fixture: UpgradeFixture = { version: OLDER_VERSION, stack, deployment: exportEncrypted(project, stack), cloud: await cloud.snapshot() };
      const text = JSON.stringify(fixture, null, 1);
      // A value the checkpoint also holds in clear (an address, a URL, a device id the program outputs openly) is
      // not a secret's content; every other one must not be in the fixture.
      const inClear = JSON.stringify(fixture.deployment);
      const leaked = secrets.filter((secret) => secret !== SECRET_PLAINTEXT_SIG && text.includes(secret) && !inClear.includes(secret));
      if (leaked.length > 0) {
        throw new Error(`${stack}: the fixture would hold ${leaked.length} of the checkpoint's ${secrets.length} secret values in clear (starting ${leaked.map((l) => JSON.stringify(l.slice(0, 12))).join(", ")}): not written`);
      }
      log(`${stack}: none of the checkpoint's ${secrets.length} secret values is in the fixture in clear`);
      fs.mkdirSync(FIXTURE_DIR, { recursive: true });
      // mtime 0 in the gzip header: the same fixture gives the same bytes.
      fs.writeFileSync(fixturePath(stack), zlib.gzipSync(text, { level: 9 }));
      log(`${stack}: wrote ${path.relative(REPO_ROOT, fixturePath(stack))} (${fs.statSync(fixturePath(stack)).size} bytes)`);
    } finally {
      await project.cleanup();
    }
  } finally {
    await cloud.stop();
  }
}

async function main(): Promise<void> {
  const stacks = process.argv.slice(2);
  if (!inNetns()) await reexecInNetns([process.execPath, "--import", "tsx", __filename, ...stacks]);
  const program = programAt(OLDER_VERSION);
  try {
    for (const stack of stacks.length > 0 ? stacks : ["dev", "prod"]) await generate(stack, program);
  } finally {
    fs.rmSync(program, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
