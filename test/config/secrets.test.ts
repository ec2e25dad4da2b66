/**
 * Credentials and secret settings must be encrypted in the stack file (issue 13, point 3): a plain one is
 * refused naming the key and the command that encrypts it; the offline plan, which cannot decrypt, takes an
 * encrypted one as set.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { loadSettings, SEALED_SECRET, SettingsError } from "../../components/config";
import { PROJECT_ROOT, stackConfig, stackSecretKeys } from "../harness";

/** The settings of a stack file with the given text beside the project's Pulumi.yaml, read as the CLI hands them over. */
function loadStackFile(stack: string, text: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-file-"));
  fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
  const values = stackConfig(stack, dir);
  const secrets = new Set(stackSecretKeys(values));
  return loadSettings(
    { get: (n, k) => values[`${n}:${k}`], keys: () => Object.keys(values), env: () => undefined, isSecret: (k) => secrets.has(k) },
    "ai-platform",
    stack,
  );
}

function refused(stack: string, text: string): string[] {
  try {
    loadStackFile(stack, text);
  } catch (err) {
    assert.ok(err instanceof SettingsError, `expected a SettingsError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail("expected the settings to be refused");
}

const ENCRYPTED_CREDENTIALS = "  hcloud:token:\n    secure: v1:AAAA\n  tailscale:apiKey:\n    secure: v1:BBBB\n";

describe("secrets in the stack file", () => {
  it("a credential in plain text is refused, naming the key and the command", () => {
    assert.deepEqual(refused("dev", "config:\n  hcloud:token: abc123\n  tailscale:oauthClientId: id\n  tailscale:oauthClientSecret: tskey-client-x\n"), [
      "hcloud:token is set in plain text (in Pulumi.dev.yaml): remove it from the file and set it encrypted with `pulumi config set --secret hcloud:token`",
      "tailscale:oauthClientSecret is set in plain text (in Pulumi.dev.yaml): remove it from the file and set it encrypted with `pulumi config set --secret tailscale:oauthClientSecret`",
    ]);
  });

  it("a secret setting in plain text is refused", () => {
    const text = `config:\n${ENCRYPTED_CREDENTIALS}  ai-platform:alertPaging: webhook\n  ai-platform:alertPagingUrl: https://hooks.example.com/T0/secret\n  ai-platform:openaiApiKey: sk-plain\n` +
      "  ai-platform:deadMansSwitchUrl:\n    secure: v1:DDDD\n";
    assert.deepEqual(refused("prod", text), [
      "ai-platform:openaiApiKey is set in plain text (in Pulumi.prod.yaml): remove it from the file and set it encrypted with `pulumi config set --secret ai-platform:openaiApiKey`",
      "ai-platform:alertPagingUrl is set in plain text (in Pulumi.prod.yaml): remove it from the file and set it encrypted with `pulumi config set --secret ai-platform:alertPagingUrl`",
    ]);
  });

  it("encrypted values, which the offline plan cannot read, are taken as set and shown as such", () => {
    const text =
      `config:\n${ENCRYPTED_CREDENTIALS}  ai-platform:alertPaging: webhook\n  ai-platform:alertPagingUrl:\n    secure: v1:CCCC\n` +
      "  ai-platform:deadMansSwitchUrl:\n    secure: v1:DDDD\n";
    const settings = loadStackFile("dev", text);
    assert.equal(settings.operations.paging.kind, "webhook");
    assert.ok(settings.operations.deadMansSwitchUrl);
    assert.equal(settings.hetznerApi.token, SEALED_SECRET);
    assert.equal(SEALED_SECRET, "(secret, set)");
  });
});
