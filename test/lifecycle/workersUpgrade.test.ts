/**
 * Upgrading to the version with extra inference nodes changes nothing in a stack that does not use them: dev is
 * deployed with the program as it was at BEFORE_WORKERS (the commit before devInferenceNodes existed), then `up`
 * with this checkout's program finds every resource the same. The mocks test (test/workers.test.ts) pins the
 * same for names and inputs; this runs the real engine and providers against the local cloud.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { log } from "../localcloud/cloud";
import { SKIP, changesOf, onOutput, startScenario, type Scenario } from "./scenario";

/** The last commit before the extra inference nodes (its program has no devInferenceNodes). */
const BEFORE_WORKERS = "b2d0a26";
const REPO_ROOT = path.resolve(__dirname, "..", "..");
/** What makes the program: index.ts and what it imports; Pulumi.yaml declares its settings (copied, not linked). */
const PROGRAM = ["index.ts", "components"];
const PROJECT_FILE = "Pulumi.yaml";

/** The program at `commit`, written beside the scenario's project, with the repository's node_modules. */
function programAt(commit: string, dir: string): string {
  const out = path.join(dir, `program-${commit}`);
  fs.mkdirSync(out);
  let archive: Buffer;
  try {
    archive = execFileSync("git", ["-C", REPO_ROOT, "archive", "--format=tar", commit, ...PROGRAM, PROJECT_FILE], { maxBuffer: 64 * 2 ** 20 });
  } catch (err) {
    throw new Error(`commit ${commit} is not in this clone (a shallow clone? fetch the branch's history): ${(err as Error).message}`);
  }
  execFileSync("tar", ["-x", "-C", out], { input: archive });
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(out, "node_modules"));
  return out;
}

/** Points the project's program files at `from`, and puts its Pulumi.yaml in place. */
function useProgram(workDir: string, from: string): void {
  for (const entry of PROGRAM) {
    fs.rmSync(path.join(workDir, entry), { force: true });
    fs.symlinkSync(path.join(from, entry), path.join(workDir, entry));
  }
  fs.copyFileSync(path.join(from, PROJECT_FILE), path.join(workDir, PROJECT_FILE));
}

describe("upgrading a stack without extra inference nodes", { skip: SKIP }, () => {
  let s: Scenario;
  before(async () => {
    s = await startScenario("dev");
  });
  after(async () => {
    await s?.close();
  });

  it("deployed by the program before them, shows no change with this one", async () => {
    const older = programAt(BEFORE_WORKERS, path.dirname(s.project.workDir));
    useProgram(s.project.workDir, older);
    const first = await s.project.stack.up({ onOutput: onOutput("older up"), color: "never" });
    assert.equal(first.summary.result, "succeeded");
    log(`older up: ${JSON.stringify(first.summary.resourceChanges)}`);

    useProgram(s.project.workDir, REPO_ROOT);
    const events: EngineEvent[] = [];
    const upgraded = await s.project.stack.up({ onOutput: onOutput("upgraded up"), onEvent: (e) => events.push(e), color: "never" });
    assert.equal(upgraded.summary.result, "succeeded");
    log(`upgraded up: ${JSON.stringify(upgraded.summary.resourceChanges)}`);
    assert.deepEqual(changesOf(events), [], "no resource changes");
    assert.deepEqual(Object.keys(upgraded.summary.resourceChanges ?? {}), ["same"]);
  });
});
