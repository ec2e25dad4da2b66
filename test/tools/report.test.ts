/** The plan's report on variants of the stacks that the stack files do not hold. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildReport } from "../../tools/report";
import { projectName, runProgram } from "../harness";

const PROJECT = projectName();

describe("the exposure table", () => {
  it("with public web on, lists TCP 80/443 from the ranges on the operations node and nothing else new", async () => {
    const run = await runProgram("prod", {
      set: { [`${PROJECT}:publicWeb`]: "true", [`${PROJECT}:publicWebSourceRanges`]: ["173.245.48.0/20"] },
    });
    const publicLines = buildReport(run)
      .split("\n")
      .filter((l) => l.includes("public internet"))
      .map((l) => l.replace(/\s+/g, " ").trim());
    assert.deepEqual(publicLines.map((l) => l.split(" ").slice(0, 5).join(" ")).sort(), [
      "inference public internet udp/41641 0.0.0.0/0",
      "operations public internet tcp/443 173.245.48.0/20",
      "operations public internet tcp/80 173.245.48.0/20",
      "operations public internet udp/41641 0.0.0.0/0",
    ]);
  });

  it("says who may reach each tailnet port, and that nobody reaches Ollama", async () => {
    const run = await runProgram("prod", { set: { [`${PROJECT}:tailnetUsers`]: ["alice@example.com"] } });
    const report = buildReport(run);
    assert.match(report, /ai-prod-inference\s+11434\s+ollama\s+nobody/);
    assert.match(report, /ai-prod-inference\s+4000\s+litellm\s+.*group:ai-users/);
    assert.match(report, /ai-prod-inference\s+22\s+ssh\s+.*tag:ai-deployer/);
    assert.doesNotMatch(report, /ai-dev-/, "prod's report covers prod's nodes only");
    assert.match(report, /merge tailnet-policy.hujson into the tailnet's policy by hand/);
  });
});
