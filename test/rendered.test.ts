/**
 * Every file the stacks render for a real program to read, taken from what the program declares for dev
 * and prod (not from hand-made specs), through the real validators.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse, ParseError } from "jsonc-parser";
import { bootstrapWaitScript } from "../components/machines/nodeReadiness";
import { HETZNER_USER_DATA_LIMIT_BYTES } from "../components/render/cloudInit";
import { renderedFiles } from "../tools/report";
import { ProgramRun, runProgram } from "./harness";
import { assertShellcheckClean, assertValidCloudConfig } from "./validators";

for (const stack of ["dev", "prod"]) {
  describe(`files rendered for ${stack}`, () => {
    let run: ProgramRun;
    before(async () => {
      run = await runProgram(stack);
    });

    it("each node's user data passes cloud-init's schema validator and fits Hetzner's limit", () => {
      const userData = renderedFiles(run).filter((f) => f.path.endsWith("user-data.yaml"));
      assert.equal(userData.length, 2);
      for (const file of userData) {
        assertValidCloudConfig(file.content);
        assert.ok(Buffer.byteLength(file.content) < HETZNER_USER_DATA_LIMIT_BYTES, `${file.path} is too large`);
      }
    });

    it("the tailnet policy parses as HuJSON", () => {
      const policy = renderedFiles(run).find((f) => f.path === "tailnet-policy.hujson");
      assert.ok(policy, "no policy rendered");
      const errors: ParseError[] = [];
      parse(policy.content, errors, { allowTrailingComma: true });
      assert.deepEqual(errors, []);
    });
  });
}

describe("the readiness wait", () => {
  it("is a script shellcheck finds nothing in", () => {
    assertShellcheckClean("bootstrap wait", `#!/bin/sh\n${bootstrapWaitScript()}\n`);
  });
});
