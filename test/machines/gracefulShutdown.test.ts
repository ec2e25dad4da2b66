/**
 * The ACPI shutdown before a type change, run as the program runs it (`node -e`) against the fake Hetzner API:
 * it shuts down only the labelled server whose type is about to change, waits until it is off, and otherwise
 * does nothing.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { GRACEFUL_SHUTDOWN_SCRIPT, serverLabelSelector } from "../../components/machines/gracefulShutdown";
import { FAKE_HCLOUD_TOKEN, FakeHetznerCloud } from "../localcloud/hetzner";

const run = promisify(execFile);
const LABELS = { project: "ai-platform", environment: "dev", role: "inference", "managed-by": "pulumi" };

describe("the ACPI shutdown before a type change", () => {
  const cloud = new FakeHetznerCloud({ token: FAKE_HCLOUD_TOKEN, actionDelayMs: 20 });
  before(() => cloud.start());
  after(() => cloud.stop());

  const shutdown = (serverType: string, labels: Record<string, string> = LABELS) =>
    run("node", ["-e", GRACEFUL_SHUTDOWN_SCRIPT], {
      env: {
        PATH: process.env.PATH,
        HETZNER_ENDPOINT: cloud.endpoint,
        HETZNER_TOKEN: FAKE_HCLOUD_TOKEN,
        SERVER_LABEL_SELECTOR: serverLabelSelector(labels),
        SERVER_TYPE: serverType,
        SHUTDOWN_TIMEOUT_SECONDS: "20",
      },
    });
  const posts = (from: number) => cloud.requests.slice(from).filter((r) => r.method === "POST").map((r) => r.route);

  it("selects by every label, in key order", () => {
    assert.equal(serverLabelSelector(LABELS), "environment=dev,managed-by=pulumi,project=ai-platform,role=inference");
  });

  it("does nothing when no server carries the node's labels (the first up)", async () => {
    const { stdout } = await shutdown("cx33");
    assert.match(stdout, /no server carries .* yet: nothing to shut down/);
    assert.deepEqual(posts(0), []);
  });

  it("shuts a running server down and waits until it is off, when its type is about to change", async () => {
    const created = await fetch(`${cloud.endpoint}/servers`, {
      method: "POST",
      headers: { Authorization: `Bearer ${FAKE_HCLOUD_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "ai-dev-inference", server_type: "cx23", image: "ubuntu-24.04", location: "fsn1", labels: LABELS }),
    });
    assert.equal(created.status, 201);
    await cloud.settle();
    const server = [...cloud.state.servers.values()].find((s) => s.name === "ai-dev-inference")!;
    assert.equal(server.status, "running");

    // Another node's server, and this one at the type it already has: left alone.
    const from = cloud.requests.length;
    await shutdown("cx33", { ...LABELS, role: "operations" });
    await shutdown("cx23");
    assert.deepEqual(posts(from), []);
    assert.equal(server.status, "running");

    const { stdout } = await shutdown("cx33");
    assert.match(stdout, /shut down by ACPI in [0-9.]+ s, before its type changes from cx23 to cx33/);
    assert.deepEqual(posts(from), ["POST /servers/{id}/actions/shutdown"], "an ACPI shutdown, never a poweroff");
    assert.equal(server.status, "off", "it returns once the server is off");
  });

  it("fails, naming the call, when the API refuses the token", async () => {
    await assert.rejects(
      run("node", ["-e", GRACEFUL_SHUTDOWN_SCRIPT], {
        env: { PATH: process.env.PATH, HETZNER_ENDPOINT: cloud.endpoint, HETZNER_TOKEN: "wrong", SERVER_LABEL_SELECTOR: "role=x", SERVER_TYPE: "cx33" },
      }),
      (err: { stderr: string }) => /GET \/servers\?label_selector=.*HTTP 401/.test(err.stderr) && !err.stderr.includes("wrong"),
    );
  });
});
