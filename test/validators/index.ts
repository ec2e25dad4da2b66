/**
 * The real programs that read what this project renders, run on the rendered text. They fail, never skip,
 * when a validator is missing: a green run must mean the validator ran.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const CLOUD_INIT = "/usr/bin/cloud-init";
export const SHELLCHECK = "/usr/bin/shellcheck";

/** Fails, never skips, when a validator is missing: `install` says how to get it. */
export function requireBinary(binary: string, install: string): void {
  assert.ok(fs.existsSync(binary), `${binary} is missing: ${install} (these tests never skip)`);
}

export function tempFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "validate-"));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** Asserts that `cloud-init schema` accepts the user data without errors, warnings or deprecations. */
export function assertValidCloudConfig(text: string): void {
  requireBinary(CLOUD_INIT, "install it with `bash .ci/install-validators.sh` (Debian's cloud-init)");
  const file = tempFile("user-data.yaml", text);
  const result = spawnSync(CLOUD_INIT, ["schema", "--config-file", file], { encoding: "utf8" });
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.error, undefined, `could not run ${CLOUD_INIT}: ${String(result.error)}`);
  assert.equal(result.status, 0, `cloud-init schema failed:\n${output}`);
  assert.match(result.stdout, /Valid cloud-config/, output);
  assert.doesNotMatch(output, /deprecat|error|warning/i, output);
}

/** Asserts that shellcheck finds nothing in the script, down to style notes. */
export function assertShellcheckClean(name: string, text: string, shell?: "sh" | "bash"): void {
  requireBinary(SHELLCHECK, "install it with `bash .ci/install-validators.sh` (Debian's shellcheck)");
  const file = tempFile("script", text);
  const args = ["--severity=style", ...(shell ? ["--shell", shell] : []), file];
  const result = spawnSync(SHELLCHECK, args, { encoding: "utf8" });
  assert.equal(result.error, undefined, `could not run shellcheck: ${String(result.error)}`);
  assert.equal(result.status, 0, `shellcheck rejects ${name}:\n${result.stdout}${result.stderr}`);
}
