/**
 * Settings a new user gets wrong that were once accepted (issue 13, point 6): each is refused with one exact
 * message naming the setting, the value and what is allowed.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { loadSettings, SettingsError } from "../../components/config";
import { loadStackSettings, OFFLINE_CREDENTIALS, PROJECT_ROOT, settingsProblems, stackConfig } from "../harness";

const problems = settingsProblems;

/** A copy of the project's Pulumi.yaml beside a stack file with the given text. */
function projectWithStackFile(stack: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-file-"));
  fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
  return dir;
}

function loadFrom(root: string, stack: string) {
  const values = { ...stackConfig(stack, root), ...OFFLINE_CREDENTIALS };
  return loadSettings({ get: (n, k) => values[`${n}:${k}`], keys: () => Object.keys(values), env: () => undefined }, "ai-platform", stack);
}

describe("settings once accepted, now refused with one exact message", () => {
  it("two models whose names give the same resource name", () => {
    assert.deepEqual(problems("dev", { models: ["foo-bar=1GB", "foo:bar-latest=1GB"] }), [
      'ai-platform:models has foo-bar:latest and foo:bar-latest, which both give the resource name ' +
        'model-foo-bar-latest (":" and "/" become "-"): keep only one of them',
    ]);
  });

  it("a fallback from a model to itself", () => {
    assert.deepEqual(problems("prod", { fallbacks: ["qwen2.5:7b=qwen2.5:7b"] }), [
      'ai-platform:fallbacks has "qwen2.5:7b=qwen2.5:7b", which falls back from qwen2.5:7b to itself: ' +
        'name other models after "=", e.g. qwen2.5:7b=gpt-4o-mini',
    ]);
  });

  it("a server type in the wrong case says which one was meant", () => {
    const [problem, ...rest] = problems("prod", { inferenceServerType: "CX43" });
    assert.deepEqual(rest, []);
    assert.match(problem, /^ai-platform:inferenceServerType is "CX43", which is not a Hetzner server type: use one of cx23, /);
    assert.ok(problem.endsWith(" (did you mean cx43? the names are lowercase)"), problem);
  });

  it("models given as a string is one mistake, not two", () => {
    assert.deepEqual(problems("dev", { models: "qwen2.5:7b" }), [
      "ai-platform:models is \"qwen2.5:7b\": use a list of strings, in the stack file as a YAML list, or " +
        "`pulumi config set --path 'models[0]' VALUE`",
    ]);
  });

  it("a stack file that is not YAML is named, with where it breaks", () => {
    const root = projectWithStackFile("dev", "config:\n  ai-platform:models: [gemma3:1b\n  ai-platform:swapGiB: 2\n");
    assert.throws(() => stackConfig("dev", root), (err: unknown) => {
      assert.ok(err instanceof SettingsError);
      assert.deepEqual(err.problems, [
        "Pulumi.dev.yaml is not valid YAML at line 3, column 3 (Flow sequence in block collection must be " +
          "sufficiently indented and end with a ]): fix the file, or set the value with `pulumi config set`",
      ]);
      return true;
    });
  });

  it("a key without a namespace in a stack file is the project's, as the Pulumi CLI reads it", () => {
    const root = projectWithStackFile("dev", "config:\n  models:\n    - gemma3:1b\n  inferenceServerTyp: cx23\n");
    assert.deepEqual(stackConfig("dev", root)["ai-platform:models"], '["gemma3:1b"]');
    assert.throws(() => loadFrom(root, "dev"), (err: unknown) => {
      assert.ok(err instanceof SettingsError);
      assert.deepEqual(err.problems, ["ai-platform:inferenceServerTyp is not a setting of this project: did you mean ai-platform:inferenceServerType?"]);
      return true;
    });
  });

  it("a setting under another namespace, which the program would never read, says which key was meant", () => {
    assert.deepEqual(problems("dev", { "aiplatform:models": ["qwen2.5:7b"] }), [
      "aiplatform:models is not read by this project, whose settings are in the ai-platform namespace: did you mean ai-platform:models?",
    ]);
    assert.equal(loadStackSettings("dev", { "hcloud:endpoint": "https://api.hetzner.cloud/v1" }).environment, "dev");
  });
});
