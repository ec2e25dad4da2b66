/**
 * Upgrading to this version changes nothing in a stack without extra inference nodes (issue 15: "a stack with no
 * setting shows no change at all after upgrading to this version"). The stack and the local cloud start from what
 * the last version without them left behind (test/fixtures/upgrade, written by ./upgradeFixture.ts from
 * OLDER_VERSION, so no git history is needed here): its checkpoint is imported into a fresh stack and the fakes
 * restored with their servers, volumes, firewalls, keys, devices and policy; then `pulumi preview
 * --expect-no-changes` and `pulumi up` run with this checkout's program and find every resource the same.
 *
 * When this fails on a change made on purpose, the change shows here by resource: regenerate the fixture with
 * `npx tsx test/lifecycle/upgradeFixture.ts` (see there) and say in the commit what every stack will see.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { LocalCloud, log } from "../localcloud/cloud";
import { createProjectStack, type ProjectStack } from "../localcloud/engine";
import { SKIP, changesOf, onOutput } from "./scenario";
import { FIXTURE_PASSPHRASE, readFixture } from "./upgradeFixture";

/** Every resource of a checkpoint but the default providers (which the summary does not count), the stack included. */
function resourceCount(deployment: unknown): number {
  const resources = (deployment as { deployment: { resources: { type: string; urn: string }[] } }).deployment.resources;
  return resources.filter((r) => !(r.type.startsWith("pulumi:providers:") && r.urn.split("::").pop()!.startsWith("default"))).length;
}

/** How long after the fixture was written the tailnet is: its auth keys (90 days) have all expired. */
const FIXTURE_AGE_MS = 400 * 24 * 3600 * 1000;

for (const stackName of ["dev", "prod"]) {
  describe(`upgrading ${stackName}, deployed by the version before extra inference nodes`, { skip: SKIP }, () => {
    let cloud: LocalCloud | undefined;
    let project: ProjectStack | undefined;
    after(async () => {
      await project?.cleanup();
      await cloud?.stop();
    });

    it("previews and updates with no step: every resource the same", async () => {
      const fixture = readFixture(stackName);
      cloud = new LocalCloud({ from: fixture.cloud });
      // A fixture ages: an upgrade long after it must not depend on the tailnet's keys still being valid.
      cloud.tailscale.advance(FIXTURE_AGE_MS);
      await cloud.start();
      project = await createProjectStack({
        stack: stackName,
        config: cloud.providerConfig(),
        env: { ...cloud.providerEnv(), PULUMI_CONFIG_PASSPHRASE: FIXTURE_PASSPHRASE },
        secrets: LocalCloud.credentials(),
      });
      await project.stack.importStack(fixture.deployment as Parameters<typeof project.stack.importStack>[0]);
      log(`${stackName}: imported the checkpoint left by ${fixture.version} (${resourceCount(fixture.deployment)} resources)`);

      const previewed: EngineEvent[] = [];
      let refused: Error | undefined;
      try {
        await project.stack.preview({ expectNoChanges: true, onEvent: (e) => previewed.push(e), color: "never" });
      } catch (err) {
        refused = err as Error;
      }
      // The steps first, by resource: they say what changed better than the engine's "no changes were expected".
      assert.deepEqual(changesOf(previewed), [], `preview after upgrading from ${fixture.version}`);
      assert.equal(refused, undefined, `preview --expect-no-changes: ${refused?.message.slice(-2000)}`);

      const events: EngineEvent[] = [];
      const up = await project.stack.up({ onOutput: onOutput(`${stackName} upgraded up`), onEvent: (e) => events.push(e), color: "never" });
      log(`${stackName} upgraded up: ${JSON.stringify(up.summary.resourceChanges)}`);
      assert.equal(up.summary.result, "succeeded");
      assert.deepEqual(changesOf(events), [], `up after upgrading from ${fixture.version}`);
      assert.deepEqual(up.summary.resourceChanges, { same: resourceCount(fixture.deployment) }, "every resource and the stack the same");
    });
  });
}
