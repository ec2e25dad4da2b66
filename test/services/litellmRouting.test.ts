/**
 * LiteLLM's routing settings as the stack wires them (components/services/inference.ts): written to LiteLLM's
 * config once a model has several deployments (external backends) or a routing setting is set; a stack that
 * sets neither renders the config it did before they existed (its committed snapshot).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { nodePlacement } from "../../tools/nodePlacement";
import { ProgramRun, projectName, runProgram } from "../harness";

const PROJECT = projectName();
const BACKEND = "name=gpu-box url=http://gpu-box.tail1234.ts.net:11434 tag=tag:ai-dev-gpu models=qwen3:8b,gemma3:1b preferred=true";

function litellmConfig(run: ProgramRun): string {
  const placement = nodePlacement(run);
  const [litellm] = run.ofType("docker:index/container:Container").filter((c) => c.inputs.name === "litellm" && placement.roleOf(c) === "inference");
  const upload = ((litellm.inputs.uploads ?? []) as { file: string; content: string }[]).find((u) => u.file === "/app/config.yaml");
  assert.ok(upload, "LiteLLM has no config");
  return upload.content;
}

type Rendered = { router_settings: Record<string, unknown>; litellm_settings: { num_retries: number } };

describe("LiteLLM's routing settings in the stack", () => {
  let plain: ProgramRun;
  let withBackends: ProgramRun;
  let tuned: ProgramRun;
  before(async () => {
    plain = await runProgram("dev");
    withBackends = await runProgram("dev", { set: { [`${PROJECT}:tailnetDevBackends`]: [BACKEND] } });
    tuned = await runProgram("dev", { set: { [`${PROJECT}:litellmCooldownSeconds`]: "30", [`${PROJECT}:litellmNumRetries`]: "2" } });
  });

  it("a dev stack that sets none renders the config of its committed snapshot, with no routing keys", () => {
    const text = litellmConfig(plain);
    assert.equal(text, fs.readFileSync(path.join(__dirname, "..", "render", "fixtures", "litellm", "dev.yaml"), "utf8"));
    assert.deepEqual(Object.keys((parse(text) as Rendered).router_settings), ["fallbacks"]);
  });

  it("with backends, LiteLLM gets the defaults: simple-shuffle with weighted failover, 1 allowed failure, 60 s, 1 retry", () => {
    const config = parse(litellmConfig(withBackends)) as Rendered;
    assert.deepEqual(config.router_settings, {
      fallbacks: [],
      routing_strategy: "simple-shuffle",
      enable_weighted_failover: true,
      num_retries: 1,
      allowed_fails: 1,
      cooldown_time: 60,
    });
  });

  it("a routing setting, even without backends, reaches LiteLLM with the others' defaults", () => {
    const config = parse(litellmConfig(tuned)) as Rendered;
    assert.deepEqual(config.router_settings, {
      fallbacks: [],
      routing_strategy: "simple-shuffle",
      enable_weighted_failover: true,
      num_retries: 2,
      allowed_fails: 1,
      cooldown_time: 30,
    });
    assert.equal(config.litellm_settings.num_retries, 2);
  });
});
