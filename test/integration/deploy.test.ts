/**
 * The real thing, through Pulumi's Automation API: a throwaway dev stack on Hetzner and Tailscale, `pulumi up`,
 * LiteLLM answering over the tailnet, nothing answering on the public addresses, `pulumi destroy`.
 *
 * It runs only when everything it needs is there, and says what is missing otherwise:
 *   - HCLOUD_TOKEN, and TAILSCALE_API_KEY (or TAILSCALE_OAUTH_CLIENT_ID and TAILSCALE_OAUTH_CLIENT_SECRET);
 *   - the Pulumi CLI on PATH (the Automation API drives it);
 *   - this machine on the tailnet, as dev's deployer (tag:<prefix>-dev-deployer, which tailnetDevDeployers names);
 *   - AI_PLATFORM_IT_PREFIX, a name prefix (e.g. "aiit") whose tags the tailnet's policy already defines:
 *     merge the policy from `npm run plan -- dev` run with that namePrefix. The test never writes the policy.
 * Cost: two cx23 servers and two volumes for the length of the run (well under EUR 0.10).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { PROJECT_ROOT, projectName } from "../harness";

const env = process.env;
const hasTailscaleCredentials =
  Boolean(env.TAILSCALE_API_KEY) || (Boolean(env.TAILSCALE_OAUTH_CLIENT_ID) && Boolean(env.TAILSCALE_OAUTH_CLIENT_SECRET));
const hasPulumi = spawnSync("pulumi", ["version"], { encoding: "utf8" }).status === 0;

const missing = [
  ...(env.HCLOUD_TOKEN ? [] : ["HCLOUD_TOKEN"]),
  ...(hasTailscaleCredentials ? [] : ["TAILSCALE_API_KEY (or the OAuth client pair)"]),
  ...(hasPulumi ? [] : ["the Pulumi CLI"]),
  ...(env.AI_PLATFORM_IT_PREFIX ? [] : ["AI_PLATFORM_IT_PREFIX"]),
];
const skip = missing.length > 0 ? `needs ${missing.join(", ")}: see the comment at the top of this file` : false;

/** True when something accepts a TCP connection at host:port within the timeout. */
function answers(host: string, port: number, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

describe("a real deployment", () => {
  it("comes up private, serves LiteLLM over the tailnet, and is destroyed", { skip, timeout: 60 * 60 * 1000 }, async () => {
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    const backend = fs.mkdtempSync(path.join(os.tmpdir(), "ai-platform-it-"));
    const project = projectName();
    const stack = await LocalWorkspace.createStack(
      { stackName: "dev", workDir: PROJECT_ROOT },
      {
        envVars: {
          PULUMI_BACKEND_URL: `file://${backend}`,
          PULUMI_CONFIG_PASSPHRASE: crypto.randomBytes(24).toString("hex"),
        },
      },
    );
    try {
      await stack.setAllConfig({
        [`${project}:namePrefix`]: { value: env.AI_PLATFORM_IT_PREFIX! },
        [`${project}:tailnetDevDeployers`]: { value: JSON.stringify([`tag:${env.AI_PLATFORM_IT_PREFIX}-dev-deployer`]) },
        [`${project}:tailnetProdDeployers`]: { value: JSON.stringify([`tag:${env.AI_PLATFORM_IT_PREFIX}-prod-deployer`]) },
      });
      const up = await stack.up({ onOutput: (line) => process.stdout.write(line) });
      const outputs = up.outputs;
      const litellm = outputs.litellm.value as { url: string; masterKey: string };
      const response = await fetch(`${litellm.url}/models`, { headers: { Authorization: `Bearer ${litellm.masterKey}` } });
      assert.equal(response.status, 200, "LiteLLM does not answer over the tailnet");

      const nodes = outputs.nodes.value as Record<string, { publicIpv4: string }>;
      const ports = [22, 3000, 4000, 6333, 6334, 8000, 8080, 9090, 9093, 9100, 9115, 11434];
      for (const [role, node] of Object.entries(nodes)) {
        for (const port of ports) {
          assert.equal(await answers(node.publicIpv4, port), false, `${role} answers on its public address, port ${port}`);
        }
      }
    } finally {
      await stack.destroy({ onOutput: (line) => process.stdout.write(line) });
      await stack.workspace.removeStack("dev");
    }
  });
});
