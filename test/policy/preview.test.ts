/**
 * The policy pack in a real `pulumi preview --policy-pack policy`, on a small program of the platform's shape: a
 * node whose address only a deployment knows, a container on it, a stack output. During a preview the SDK hides
 * every such value behind a proxy that throws, and a rule that reads one "can't run during preview": it used to
 * check nothing at all for a new container. The rules now check what is knowable at preview, so a pull request
 * that adds a container published on every address, a credential in plain text or a plain credential output
 * fails its preview; the same program done right passes, with no rule left unable to run.
 *
 * Needs the Pulumi engine, like test/preview.test.ts (it fails, never skips, without it).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createProjectStack, POLICY_PACK_DIR } from "../localcloud/engine";

const PROJECT_FILE = [
  "name: policy-probe",
  "description: A program of the platform's shape for the policy pack's preview checks",
  "runtime:",
  "  name: nodejs",
  "  options:",
  "    typescript: false",
  "main: index.js",
  "",
].join("\n");

/** The probe, done right (`bad` false) or with the three mistakes a preview must catch. */
function program(bad: boolean): string {
  return `"use strict";
const pulumi = require("@pulumi/pulumi");
const docker = require("@pulumi/docker");
const random = require("@pulumi/random");
// Like a node's tailnet address: known only once deployed.
const address = new random.RandomString("address", { length: 8, special: false, upper: false }).result;
const provider = new docker.Provider("node", { host: pulumi.interpolate\`ssh://root@\${address}\` });
const image = new docker.RemoteImage("app", { name: "docker.io/library/nginx:1.27.3", keepLocally: true }, { provider });
const token = new random.RandomPassword("token", { length: 24, special: false }).result;
new docker.Container("app", {
  name: "app",
  image: image.imageId,
  memory: 64,
  restart: "unless-stopped",
  ports: [{ internal: 80, external: 8080${bad ? "" : ", ip: address"} }],
  envs: [${bad ? '"API_TOKEN=plain-text-token"' : "pulumi.secret(pulumi.interpolate`API_TOKEN=${token}`)"}, pulumi.interpolate\`NODE=\${address}\`],
}, { provider });
exports.apiToken = ${bad ? '"plain-text-token"' : "pulumi.secret(token)"};
`;
}

async function previewProbe(bad: boolean): Promise<{ ok: boolean; text: string }> {
  const project = await createProjectStack({
    stack: bad ? "bad" : "good",
    withoutCredentials: true,
    files: { "Pulumi.yaml": PROJECT_FILE, "index.js": program(bad) },
  });
  let text = "";
  try {
    await project.stack.preview({ policyPacks: [POLICY_PACK_DIR], onOutput: (out) => (text += out), color: "never" });
    return { ok: true, text };
  } catch (err) {
    return { ok: false, text: `${text}\n${(err as Error).message}` };
  } finally {
    await project.cleanup();
  }
}

describe("the policy pack in a real preview", { timeout: 300_000 }, () => {
  it("fails a new container published on every address, a plain credential env and a plain credential output", async () => {
    const { ok, text } = await previewProbe(true);
    assert.equal(ok, false, `the preview passed:\n${text}`);
    assert.match(text, /container-ports-bound/);
    assert.match(text, /container "app" publishes 8080\/tcp on every address \(no ip\)/);
    assert.match(text, /container-credentials-secret/);
    assert.match(text, /container "app" sets API_TOKEN in plain text/);
    assert.match(text, /stack-credential-outputs-secret/);
    assert.match(text, /stack output "apiToken" looks like a credential but is not secret/);
  });

  it("passes the same program done right, with every rule run and none unable to", async () => {
    const { ok, text } = await previewProbe(false);
    assert.equal(ok, true, `the preview failed:\n${text}`);
    assert.doesNotMatch(text, /can't run policy/, "a rule could not run during the preview");
  });
});
