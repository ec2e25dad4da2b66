/** The offline plan, run as a user runs it: a process with no credentials and no Pulumi CLI. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { PROJECT_ROOT } from "../harness";

function plan(...args: string[]) {
  const env = { ...process.env };
  // The plan must need no credentials: take away any the machine has.
  for (const k of ["HCLOUD_TOKEN", "TAILSCALE_API_KEY", "TAILSCALE_OAUTH_CLIENT_ID", "TAILSCALE_OAUTH_CLIENT_SECRET", "PULUMI_CONFIG"]) {
    delete env[k];
  }
  return spawnSync(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "tools/plan.ts"), ...args], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    env,
  });
}

for (const stack of ["dev", "prod"]) {
  describe(`npm run plan -- ${stack}`, () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), `plan-${stack}-`));
    const run = plan(stack, "--out", out);

    it("exits 0 and prints every section of the report", () => {
      assert.equal(run.status, 0, run.stderr);
      for (const section of ["## Nodes", "## Services", "## Exposure", "## Memory budget", "## Monthly cost", "## Rendered files"]) {
        assert.ok(run.stdout.includes(section), `missing ${section}`);
      }
    });

    it("shows each node with its type, vCPU, RAM and price", () => {
      const type = stack === "dev" ? /inference\s+cx23\s+fsn1\s+2\s+4 GB\s+40 GB\s+5\.49/ : /inference\s+cx43\s+fsn1\s+8\s+16 GB\s+160 GB\s+15\.99/;
      assert.match(run.stdout, type);
      assert.match(run.stdout, /operations\s+cx(23|33)\s+fsn1/);
    });

    it("shows addresses the cloud assigns as known after deploy, never invented", () => {
      assert.match(run.stdout, /\(known after deploy\)/);
      assert.doesNotMatch(run.stdout, /known-after-deploy/);
    });

    it("lists nothing but Tailscale's UDP port as open to the public internet", () => {
      const publicLines = run.stdout.split("\n").filter((l) => l.includes("public internet"));
      assert.equal(publicLines.length, 2, "one line per node");
      for (const line of publicLines) assert.match(line, /^(inference|operations)\s+public internet\s+udp\/41641\s/);
      assert.match(run.stdout, /ICMP \(ping, path MTU discovery\) is let in from anywhere; it opens no port\./);
    });

    it("gives the memory headroom of both nodes and the monthly total", () => {
      assert.match(run.stdout, /inference\s+headroom\s+\d+\.\d GB/);
      assert.match(run.stdout, /operations\s+headroom\s+\d+\.\d GB/);
      assert.match(run.stdout, /total\s+\d+\.\d\d/);
    });

    it("writes each node's user data into the folder it was given", () => {
      for (const role of ["inference", "operations"]) {
        const file = path.join(out, `ai-${stack}-${role}`, "user-data.yaml");
        assert.ok(fs.existsSync(file), `${file} was not written`);
        assert.match(fs.readFileSync(file, "utf8"), /^#cloud-config\n/);
      }
    });
  });
}

describe("the plan's mistakes", () => {
  it("an unknown environment gets the config module's message, without a stack trace", () => {
    const run = plan("staging");
    assert.equal(run.status, 1);
    assert.match(run.stderr, /stack "staging" is not a known environment: name the stack one of dev, prod/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
  });

  it("no environment prints the usage", () => {
    const run = plan();
    assert.equal(run.status, 2);
    assert.match(run.stderr, /usage: npm run plan -- <dev\|prod> \[--out DIR\]/);
  });
});
