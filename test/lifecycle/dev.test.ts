/**
 * The dev stack's life in the local cloud: up from nothing, an up that changes nothing, destroy.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { log } from "../localcloud/cloud";
import { SKIP, onOutput, startScenario, type Scenario } from "./scenario";

describe("dev stack lifecycle", { skip: SKIP }, () => {
  let s: Scenario;
  before(async () => {
    s = await startScenario("dev");
  });
  after(async () => {
    await s?.close();
  });

  it("up from nothing succeeds", async () => {
    const started = Date.now();
    const result = await s.project.stack.up({ onOutput: onOutput("up"), color: "never" });
    log(`up: ${JSON.stringify(result.summary.resourceChanges)} in ${(Date.now() - started) / 1000} s`);
    assert.equal(result.summary.result, "succeeded");
  });
});
