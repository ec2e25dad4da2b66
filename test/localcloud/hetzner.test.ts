/**
 * The fake Hetzner Cloud API (hetzner.ts): its refusals and shapes, called with plain fetch, and then the REAL
 * `pulumi-resource-hcloud` provider driving it through the Automation API with the project's own components
 * (PublicFirewall, HetznerNode) plus an SshKey: up, a second up with no changes, destroy.
 *
 * Loopback only. The Pulumi part needs the offline engine (../shared/pulumi-engine, installed under
 * $PULUMI_ENGINE_HOME or ~/.cache/pulumi-engine/3.248.0) or a `pulumi` on PATH with the hcloud plugin; it is
 * skipped, saying so, without one.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { FAKE_HCLOUD_TOKEN, FakeHetznerCloud, type FakeServer, type PowerEvent } from "./hetzner";
import type { Output } from "@pulumi/pulumi";

type Json = Record<string, unknown>;

interface Call {
  status: number;
  json: Json;
}

async function call(cloud: FakeHetznerCloud, method: string, route: string, body?: unknown, token = FAKE_HCLOUD_TOKEN, base = cloud.endpoint): Promise<Call> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(base + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Json) : {} };
}

/** The error of a refused call, checked for the API's shape. */
function apiError(c: Call): { code: string; message: string; details: Json } {
  const error = c.json.error as { code: string; message: string; details: Json };
  assert.ok(error, `expected an error body, got ${JSON.stringify(c.json)}`);
  assert.equal(typeof error.code, "string");
  assert.equal(typeof error.message, "string");
  assert.equal(typeof error.details, "object");
  return error;
}

/** Polls an action the way hcloud-go does (GET /actions?id=) until it is no longer running. */
async function waitFor(cloud: FakeHetznerCloud, action: Json): Promise<Json> {
  for (let i = 0; i < 200; i++) {
    const c = await call(cloud, "GET", `/actions?id=${String(action.id)}&sort=status&sort=id`);
    const [current] = c.json.actions as Json[];
    if (current.status !== "running") return current;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`action ${String(action.id)} still running`);
}

/** An OpenSSH ed25519 public key, made here (no tls provider needed). */
function sshPublicKey(comment = "localcloud"): string {
  const { publicKey } = crypto.generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  const sshString = (b: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(b.length, 0);
    return Buffer.concat([length, b]);
  };
  const blob = Buffer.concat([sshString(Buffer.from("ssh-ed25519")), sshString(raw)]);
  return `ssh-ed25519 ${blob.toString("base64")} ${comment}\n`;
}

async function createServer(cloud: FakeHetznerCloud, name: string, extra: Json = {}): Promise<{ server: Json; actions: Json[] }> {
  const c = await call(cloud, "POST", "/servers", { name, server_type: "cx23", image: "ubuntu-24.04", location: "fsn1", ...extra });
  assert.equal(c.status, 201, JSON.stringify(c.json));
  const actions = [c.json.action as Json, ...(c.json.next_actions as Json[])];
  for (const a of actions) await waitFor(cloud, a);
  return { server: c.json.server as Json, actions };
}

async function createVolume(cloud: FakeHetznerCloud, name: string, extra: Json = {}): Promise<Json> {
  const c = await call(cloud, "POST", "/volumes", { name, size: 10, location: "fsn1", format: "ext4", ...extra });
  assert.equal(c.status, 201, JSON.stringify(c.json));
  await waitFor(cloud, c.json.action as Json);
  for (const a of c.json.next_actions as Json[]) await waitFor(cloud, a);
  return c.json.volume as Json;
}

describe("the fake Hetzner Cloud API", () => {
  const powered: [number, PowerEvent][] = [];
  const created: FakeServer[] = [];
  const deleted: number[] = [];
  const cloud = new FakeHetznerCloud({
    actionDelayMs: 30,
    onServerCreated: (s) => {
      created.push(s);
    },
    onServerDeleted: (s) => {
      deleted.push(s.id);
    },
    onServerPower: (s, event) => {
      powered.push([s.id, event]);
    },
  });
  before(() => cloud.start());
  after(() => cloud.stop());

  it("wants a bearer token: 401 unauthorized without one", async () => {
    const c = await call(cloud, "GET", "/servers", undefined, "");
    assert.equal(c.status, 401);
    assert.equal(apiError(c).code, "unauthorized");
  });

  it("answers an unknown route with 404 not_found and logs it as a gap", async () => {
    const c = await call(cloud, "POST", "/load_balancers", { name: "lb" });
    assert.equal(c.status, 404);
    assert.equal(apiError(c).code, "not_found");
    const gap = cloud.unservedRequests().at(-1)!;
    assert.deepEqual([gap.method, gap.path, gap.status, gap.route], ["POST", "/v1/load_balancers", 404, null]);
  });

  it("runs actions asynchronously: the first read says running, a later one success", async () => {
    const c = await call(cloud, "POST", "/servers", { name: "async", server_type: "cx23", image: "ubuntu-24.04", location: "nbg1" });
    assert.equal(c.status, 201);
    const server = c.json.server as Json;
    assert.equal(server.status, "initializing");
    const action = c.json.action as Json;
    assert.equal(action.status, "running");
    assert.equal(action.command, "create_server");
    assert.deepEqual((c.json.next_actions as Json[]).map((a) => a.command), ["start_server"]);
    assert.equal(c.json.root_password === null, false, "no SSH key: a root password");
    await new Promise((r) => setTimeout(r, 60));
    const first = await call(cloud, "GET", `/actions/${String(action.id)}`);
    assert.equal((first.json.action as Json).status, "running", "the first read after the delay still says running");
    assert.equal((await waitFor(cloud, action)).status, "success");
    assert.equal((await waitFor(cloud, (c.json.next_actions as Json[])[0])).status, "success");
    const now = await call(cloud, "GET", `/servers/${String(server.id)}`);
    assert.equal((now.json.server as Json).status, "running");
    assert.ok(created.some((s) => s.id === server.id), "onServerCreated was called");
  });

  it("gives servers documentation addresses, firewalls from creation, and user_data verbatim", async () => {
    const fw = await call(cloud, "POST", "/firewalls", {
      name: "fw-create",
      rules: [{ direction: "in", protocol: "icmp", source_ips: ["0.0.0.0/0", "::/0"], description: "ping" }],
    });
    assert.equal(fw.status, 201);
    const fwId = (fw.json.firewall as Json).id as number;
    const key = await call(cloud, "POST", "/ssh_keys", { name: "root", public_key: sshPublicKey(), labels: { role: "x" } });
    assert.equal(key.status, 201);
    assert.match((key.json.ssh_key as Json).fingerprint as string, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    const userData = "#cloud-config\nruncmd:\n  - echo hi\n";
    const { server } = await createServer(cloud, "addressed", {
      firewalls: [{ firewall: fwId }],
      ssh_keys: [(key.json.ssh_key as Json).id],
      user_data: userData,
      labels: { env: "test" },
    });
    const net = server.public_net as { ipv4: Json; ipv6: Json; firewalls: Json[] };
    assert.match(net.ipv4.ip as string, /^203\.0\.113\.\d+$/);
    assert.match(net.ipv6.ip as string, /^2001:db8:[0-9a-f:]+\/64$/);
    assert.deepEqual(net.firewalls, [{ id: fwId, status: "applied" }], "applied in the create response already");
    const state = cloud.state.servers.get(server.id as number)!;
    assert.equal(state.userData, userData);
    const applied = await call(cloud, "GET", `/firewalls/${fwId}`);
    assert.deepEqual((applied.json.firewall as Json).applied_to, [{ type: "server", server: { id: server.id } }]);
  });

  it("lists with name and label_selector filters and paginates", async () => {
    for (let i = 0; i < 3; i++) await call(cloud, "POST", "/ssh_keys", { name: `page-${i}`, public_key: sshPublicKey(), labels: { page: "yes", n: String(i) } });
    const byLabel = await call(cloud, "GET", `/ssh_keys?label_selector=${encodeURIComponent("page=yes,n in (0,2)")}`);
    assert.deepEqual((byLabel.json.ssh_keys as Json[]).map((k) => k.name), ["page-0", "page-2"]);
    const paged = await call(cloud, "GET", "/ssh_keys?label_selector=page&per_page=2&page=2");
    assert.deepEqual((paged.json.ssh_keys as Json[]).map((k) => k.name), ["page-2"]);
    assert.deepEqual((paged.json.meta as Json).pagination, { page: 2, per_page: 2, previous_page: 1, next_page: null, last_page: 2, total_entries: 3 });
    const byName = await call(cloud, "GET", "/ssh_keys?name=page-1");
    assert.equal((byName.json.ssh_keys as Json[]).length, 1);
    const images = await call(cloud, "GET", "/images?architecture=arm&include_deprecated=true&name=ubuntu-24.04");
    assert.deepEqual((images.json.images as Json[]).map((i) => [i.name, i.architecture]), [["ubuntu-24.04", "arm"]]);
    const types = await call(cloud, "GET", "/server_types?name=cx23");
    assert.equal(((types.json.server_types as Json[])[0]).architecture, "x86");
  });

  it("refuses to delete a server or a volume with delete protection: 423 protected", async () => {
    const { server } = await createServer(cloud, "protected-server");
    await waitFor(cloud, (await call(cloud, "POST", `/servers/${String(server.id)}/actions/change_protection`, { delete: true, rebuild: true })).json.action as Json);
    const del = await call(cloud, "DELETE", `/servers/${String(server.id)}`);
    assert.equal(del.status, 423);
    assert.equal(apiError(del).code, "protected");
    const rebuild = await call(cloud, "POST", `/servers/${String(server.id)}/actions/rebuild`, { image: "ubuntu-24.04" });
    assert.equal(rebuild.status, 423, "rebuild protection refuses a rebuild");
    assert.equal(apiError(rebuild).code, "protected");

    const volume = await createVolume(cloud, "protected-volume");
    await waitFor(cloud, (await call(cloud, "POST", `/volumes/${String(volume.id)}/actions/change_protection`, { delete: true })).json.action as Json);
    const delVolume = await call(cloud, "DELETE", `/volumes/${String(volume.id)}`);
    assert.equal(delVolume.status, 423);
    assert.equal(apiError(delVolume).code, "protected");
    assert.ok(cloud.state.servers.has(server.id as number) && cloud.state.volumes.has(volume.id as number));
  });

  // The Hetzner API (Storage Boxes) at its own base; its actions are polled through the Cloud API's /actions.
  const hetzner = (method: string, route: string, body?: unknown) => call(cloud, method, route, body, FAKE_HCLOUD_TOKEN, cloud.hetznerEndpoint);
  const BOX_PASSWORD = "Box-Pass_0123456789";

  it("creates a Storage Box that names its user and host once its create action has succeeded", async () => {
    assert.equal((await call(cloud, "GET", "/storage_boxes")).status, 404, "Storage Boxes are not the Cloud API's");
    const c = await hetzner("POST", "/storage_boxes", { name: "box-a", storage_box_type: "bx11", location: "fsn1", password: BOX_PASSWORD, access_settings: { ssh_enabled: true } });
    assert.equal(c.status, 201, JSON.stringify(c.json));
    const box = c.json.storage_box as Json;
    assert.deepEqual([box.status, box.username, box.server, box.system], ["initializing", null, null, null]);
    assert.equal((await waitFor(cloud, c.json.action as Json)).status, "success");
    const now = (await hetzner("GET", `/storage_boxes/${String(box.id)}`)).json.storage_box as Json;
    assert.equal(now.status, "active");
    assert.match(String(now.username), /^u\d+$/);
    assert.equal(now.server, `${String(now.username)}.your-storagebox.de`);
    assert.deepEqual(now.access_settings, { reachable_externally: false, samba_enabled: false, ssh_enabled: true, webdav_enabled: false, zfs_enabled: false });

    const sub = await hetzner("POST", `/storage_boxes/${String(box.id)}/subaccounts`, { home_directory: "prod", password: BOX_PASSWORD });
    assert.equal(sub.status, 201, JSON.stringify(sub.json));
    assert.deepEqual(Object.keys(sub.json.subaccount as Json).sort(), ["id", "storage_box"]);
    // A second sub-account while the first one's create action runs: 423 locked.
    const busy = await hetzner("POST", `/storage_boxes/${String(box.id)}/subaccounts`, { home_directory: "dev", password: BOX_PASSWORD });
    assert.deepEqual([busy.status, apiError(busy).code], [423, "locked"]);
    await waitFor(cloud, sub.json.action as Json);
    const account = (await hetzner("GET", `/storage_boxes/${String(box.id)}/subaccounts/${String((sub.json.subaccount as Json).id)}`)).json.subaccount as Json;
    assert.deepEqual([account.username, account.server, account.home_directory, account.storage_box], [`${String(now.username)}-sub1`, now.server, "prod", box.id]);
  });

  it("refuses a Storage Box password outside Hetzner's policy: 422 invalid_input naming the field", async () => {
    for (const password of ["Short-1", "nouppercase-123", "NoSpecial12345", "Has space-123A", "Quote'd-12345A"]) {
      const c = await hetzner("POST", "/storage_boxes", { name: "box-pw", storage_box_type: "bx11", location: "fsn1", password });
      assert.equal(c.status, 422, password);
      assert.deepEqual((apiError(c).details.fields as Json[]).map((f) => f.name), ["password"], password);
    }
    const type = await hetzner("POST", "/storage_boxes", { name: "box-type", storage_box_type: "bx99", location: "fsn1", password: BOX_PASSWORD });
    assert.deepEqual([type.status, apiError(type).code], [422, "invalid_input"]);
  });

  it("refuses to delete a Storage Box with delete protection: 423 protected; without it the box and its sub-accounts go", async () => {
    const c = await hetzner("POST", "/storage_boxes", { name: "box-protected", storage_box_type: "bx11", location: "hel1", password: BOX_PASSWORD });
    const id = (c.json.storage_box as Json).id as number;
    await waitFor(cloud, c.json.action as Json);
    await waitFor(cloud, (await hetzner("POST", `/storage_boxes/${id}/subaccounts`, { home_directory: "prod", password: BOX_PASSWORD })).json.action as Json);
    await waitFor(cloud, (await hetzner("POST", `/storage_boxes/${id}/actions/change_protection`, { delete: true })).json.action as Json);
    const refused = await hetzner("DELETE", `/storage_boxes/${id}`);
    assert.deepEqual([refused.status, apiError(refused).code], [423, "protected"]);
    assert.ok(cloud.state.storageBoxes.has(id));
    await waitFor(cloud, (await hetzner("POST", `/storage_boxes/${id}/actions/change_protection`, { delete: false })).json.action as Json);
    const deleted = await hetzner("DELETE", `/storage_boxes/${id}`);
    assert.equal(deleted.status, 201);
    assert.equal((await waitFor(cloud, deleted.json.action as Json)).status, "success");
    assert.equal(cloud.state.storageBoxes.has(id), false);
    assert.equal((await hetzner("GET", `/storage_boxes/${id}/subaccounts`)).status, 404);
  });

  it("refuses to attach a volume attached to another server: 422 volume_already_attached", async () => {
    const { server: a } = await createServer(cloud, "attach-a");
    const { server: b } = await createServer(cloud, "attach-b");
    const volume = await createVolume(cloud, "attach-volume");
    const first = await call(cloud, "POST", `/volumes/${String(volume.id)}/actions/attach`, { server: a.id, automount: false });
    assert.equal(first.status, 201);
    await waitFor(cloud, first.json.action as Json);
    const second = await call(cloud, "POST", `/volumes/${String(volume.id)}/actions/attach`, { server: b.id, automount: false });
    assert.equal(second.status, 422);
    assert.equal(apiError(second).code, "volume_already_attached");
    assert.equal(cloud.state.volumes.get(volume.id as number)!.server, a.id);
  });

  it("refuses to delete an attached volume: 422 service_error, until it is detached", async () => {
    const { server } = await createServer(cloud, "holder");
    const volume = await createVolume(cloud, "held", { location: undefined, server: server.id });
    assert.equal(cloud.state.volumes.get(volume.id as number)!.server, server.id);
    const del = await call(cloud, "DELETE", `/volumes/${String(volume.id)}`);
    assert.equal(del.status, 422);
    assert.equal(apiError(del).code, "service_error");
    assert.match(apiError(del).message, /still attached to a server/);
    await waitFor(cloud, (await call(cloud, "POST", `/volumes/${String(volume.id)}/actions/detach`, {})).json.action as Json);
    assert.equal((await call(cloud, "DELETE", `/volumes/${String(volume.id)}`)).status, 204);
  });

  it("refuses change_type of a running server: 422 server_not_stopped; after poweroff it works", async () => {
    const { server } = await createServer(cloud, "resize-me");
    const refused = await call(cloud, "POST", `/servers/${String(server.id)}/actions/change_type`, { server_type: "cx33", upgrade_disk: true });
    assert.equal(refused.status, 422);
    assert.equal(apiError(refused).code, "server_not_stopped");
    await waitFor(cloud, (await call(cloud, "POST", `/servers/${String(server.id)}/actions/poweroff`, {})).json.action as Json);
    assert.equal(cloud.state.servers.get(server.id as number)!.status, "off");
    const ok = await call(cloud, "POST", `/servers/${String(server.id)}/actions/change_type`, { server_type: "cx33", upgrade_disk: true });
    assert.equal(ok.status, 201);
    await waitFor(cloud, ok.json.action as Json);
    const after = cloud.state.servers.get(server.id as number)!;
    assert.deepEqual([after.serverType, after.status], ["cx33", "running"]);
    assert.deepEqual(
      powered.filter(([id]) => id === server.id).map(([, e]) => e),
      ["off", "on"],
    );
  });

  it("refuses a name already in use: 409 uniqueness_error", async () => {
    await createServer(cloud, "twin");
    const server = await call(cloud, "POST", "/servers", { name: "twin", server_type: "cx23", image: "ubuntu-24.04", location: "fsn1" });
    assert.equal(server.status, 409);
    assert.equal(apiError(server).code, "uniqueness_error");
    await createVolume(cloud, "twin-volume");
    const volume = await call(cloud, "POST", "/volumes", { name: "twin-volume", size: 10, location: "fsn1" });
    assert.deepEqual([volume.status, apiError(volume).code], [409, "uniqueness_error"]);
    await call(cloud, "POST", "/firewalls", { name: "twin-fw" });
    const fw = await call(cloud, "POST", "/firewalls", { name: "twin-fw" });
    assert.deepEqual([fw.status, apiError(fw).code], [409, "uniqueness_error"]);
    const publicKey = sshPublicKey();
    await call(cloud, "POST", "/ssh_keys", { name: "twin-key", public_key: publicKey });
    const sameName = await call(cloud, "POST", "/ssh_keys", { name: "twin-key", public_key: sshPublicKey() });
    assert.deepEqual([sameName.status, apiError(sameName).code], [409, "uniqueness_error"]);
    const sameKey = await call(cloud, "POST", "/ssh_keys", { name: "other-key", public_key: publicKey });
    assert.deepEqual([sameKey.status, apiError(sameKey).code], [409, "uniqueness_error"]);
    assert.deepEqual(apiError(sameKey).details, { fields: [{ name: "public_key" }] });
  });

  it("refuses to delete a firewall still applied: 422 resource_in_use; removed from its server, it goes", async () => {
    const fw = await call(cloud, "POST", "/firewalls", { name: "in-use" });
    const fwId = (fw.json.firewall as Json).id as number;
    const { server } = await createServer(cloud, "guarded");
    const apply = await call(cloud, "POST", `/firewalls/${fwId}/actions/apply_to_resources`, {
      apply_to: [{ type: "server", server: { id: server.id } }],
    });
    assert.equal(apply.status, 201);
    for (const a of apply.json.actions as Json[]) await waitFor(cloud, a);
    const again = await call(cloud, "POST", `/firewalls/${fwId}/actions/apply_to_resources`, {
      apply_to: [{ type: "server", server: { id: server.id } }],
    });
    assert.deepEqual([again.status, apiError(again).code], [422, "firewall_already_applied"]);
    const del = await call(cloud, "DELETE", `/firewalls/${fwId}`);
    assert.deepEqual([del.status, apiError(del).code], [422, "resource_in_use"]);
    const remove = await call(cloud, "POST", `/firewalls/${fwId}/actions/remove_from_resources`, {
      remove_from: [{ type: "server", server: { id: server.id } }],
    });
    for (const a of remove.json.actions as Json[]) await waitFor(cloud, a);
    assert.equal((await call(cloud, "DELETE", `/firewalls/${fwId}`)).status, 204);
  });

  it("detaches volumes and firewalls of a deleted server, and waits for onServerDeleted", async () => {
    const fw = await call(cloud, "POST", "/firewalls", { name: "on-deleted" });
    const fwId = (fw.json.firewall as Json).id as number;
    const { server } = await createServer(cloud, "doomed", { firewalls: [{ firewall: fwId }] });
    const volume = await createVolume(cloud, "survivor", { location: undefined, server: server.id });
    const del = await call(cloud, "DELETE", `/servers/${String(server.id)}`);
    assert.equal(del.status, 200);
    assert.equal((await waitFor(cloud, del.json.action as Json)).status, "success");
    assert.ok(deleted.includes(server.id as number));
    assert.equal(cloud.state.volumes.get(volume.id as number)!.server, null);
    assert.deepEqual(cloud.state.firewalls.get(fwId)!.appliedTo, []);
    assert.equal((await call(cloud, "GET", `/servers/${String(server.id)}`)).status, 404);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The real provider.
// ---------------------------------------------------------------------------------------------------------

const engineRoot = process.env.PULUMI_ENGINE_HOME ?? path.join(os.homedir(), ".cache/pulumi-engine/3.248.0");
const hasEngine = fs.existsSync(path.join(engineRoot, "bin", "pulumi"));
const hasPulumiOnPath = !hasEngine && spawnSync("pulumi", ["version"], { encoding: "utf8" }).status === 0;
const skipPulumi =
  hasEngine || hasPulumiOnPath
    ? false
    : `needs the Pulumi engine: run ../shared/pulumi-engine/install.sh (or set PULUMI_ENGINE_HOME), or put pulumi on PATH`;

/**
 * A stack of `program` against the fake, on the engine of this workplace (or the pulumi on PATH), with its
 * state in `tmp`. Whatever the shell holds never reaches the provider: the stack's config is the only source
 * of the Cloud API's endpoint and token, and `hetznerEndpoint` (the Storage Box API's base, given as the
 * local cloud gives it: cloud.ts providerEnv says why not by config) or nothing.
 */
async function fakeCloudStack(
  cloud: FakeHetznerCloud,
  tmp: string,
  projectName: string,
  program: import("@pulumi/pulumi/automation").PulumiFn,
  options: { hetznerEndpoint?: string; pollInterval?: string } = {},
) {
  const { LocalWorkspace, PulumiCommand } = await import("@pulumi/pulumi/automation");
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "localcloud", projectName, program },
    {
      pulumiCommand: hasEngine ? await PulumiCommand.get({ root: engineRoot }) : undefined,
      envVars: {
        PULUMI_BACKEND_URL: `file://${tmp}`,
        PULUMI_HOME: path.join(tmp, ".pulumi-home"),
        PULUMI_CONFIG_PASSPHRASE: "localcloud",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        HCLOUD_TOKEN: "",
        HCLOUD_ENDPOINT: "",
        HETZNER_ENDPOINT: options.hetznerEndpoint ?? "",
      },
    },
  );
  await stack.setAllConfig({
    "hcloud:token": { value: FAKE_HCLOUD_TOKEN, secret: true },
    "hcloud:endpoint": { value: cloud.endpoint },
    ...(options.pollInterval ? { "hcloud:pollInterval": { value: options.pollInterval } } : {}),
  });
  return stack;
}

const USER_DATA = "#cloud-config\nwrite_files:\n  - path: /etc/localcloud\n    content: hello\n";

describe("the real hcloud provider against the fake", () => {
  it("creates, refreshes, keeps and destroys a node as the project declares it", { skip: skipPulumi, timeout: 120_000 }, async (t) => {
    const hcloud = await import("@pulumi/hcloud");
    const { HetznerNode } = await import("../../components/machines/hetznerNode");
    const { PublicFirewall } = await import("../../components/machines/publicFirewall");
    const { publicFirewallRules } = await import("../../components/plan/exposure");

    const cloud = new FakeHetznerCloud({ actionDelayMs: 100 });
    await cloud.start();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "localcloud-hetzner-"));
    const publicKey = sshPublicKey("root@localcloud");
    const labels = { environment: "localcloud", role: "operations", "managed-by": "pulumi" };
    const firewallRules = publicFirewallRules("operations", {
      publicWeb: true,
      publicWebSourceRanges: ["173.245.48.0/20", "2400:cb00::/32"],
    });
    // A resize later in the test: the program declares whatever type this says.
    let serverType = "cx23";
    const program = () => {
      const key = new hcloud.SshKey("root", { publicKey, labels });
      const firewall = new PublicFirewall("operations", { rules: firewallRules, labels });
      const node = new HetznerNode("operations", {
        serverType,
        location: "fsn1",
        sshKeyId: key.id,
        firewallId: firewall.firewallId,
        userData: USER_DATA,
        backups: false,
        volumeGb: 10,
        protection: false,
        labels,
        api: { endpoint: cloud.endpoint, token: FAKE_HCLOUD_TOKEN },
      });
      return Promise.resolve({ serverId: node.serverId, ipv4: node.ipv4Address, ipv6: node.ipv6Address, volumeId: node.volumeId });
    };

    const stack = await fakeCloudStack(cloud, tmp, "localcloud-hetzner", program);
    try {

      const up = await stack.up();
      assert.equal(up.summary.result, "succeeded");
      const servers = [...cloud.state.servers.values()];
      assert.equal(servers.length, 1);
      const [server] = servers;
      assert.equal(server.status, "running");
      assert.equal(server.userData, USER_DATA, "user_data reaches the API verbatim");
      assert.deepEqual(server.labels, labels);
      assert.deepEqual(server.protection, { delete: false, rebuild: false });
      assert.equal(server.image.name, "ubuntu-24.04");
      const [firewall] = [...cloud.state.firewalls.values()];
      assert.deepEqual(firewall.appliedTo, [{ type: "server", server: server.id }]);
      assert.deepEqual(
        firewall.rules.map((r) => [r.direction, r.protocol, r.port]).sort(),
        firewallRules.map((r) => [r.direction, r.protocol, r.port ?? null]).sort(),
      );
      const createCall = cloud.requests.find((r) => r.method === "POST" && r.path === "/v1/servers")!;
      assert.deepEqual((createCall.body as Json).firewalls, [{ firewall: firewall.id }], "the firewall is applied from creation");
      assert.ok(!cloud.requests.some((r) => r.path.endsWith("/apply_to_resources")), "and never applied afterwards");
      const [volume] = [...cloud.state.volumes.values()];
      assert.deepEqual([volume.server, volume.format, volume.automount, volume.size], [server.id, "ext4", false, 10]);
      assert.equal(cloud.state.sshKeys.size, 1);
      assert.equal(up.outputs.serverId.value, server.id);
      assert.equal(up.outputs.ipv4.value, server.ipv4!.ip);
      assert.equal(up.outputs.ipv6.value, server.ipv6!.network.replace("/64", "1"));
      assert.deepEqual(cloud.unservedRequests(), [], "the provider called nothing the fake does not serve");

      // A refresh reads everything back (GET /servers/{id}, /volumes/{id}, /firewalls/{id}, /ssh_keys/{id});
      // what the fake answers must match what the provider wrote, so the next up has nothing to do.
      const refreshed = await stack.refresh();
      assert.deepEqual(Object.keys(refreshed.summary.resourceChanges ?? {}), ["same"], JSON.stringify(refreshed.summary.resourceChanges));
      const again = await stack.up();
      assert.deepEqual(Object.keys(again.summary.resourceChanges ?? {}), ["same"], JSON.stringify(again.summary.resourceChanges));

      // A resize: the step before the server shuts it down by ACPI and waits until it is off, so the provider's
      // update (which powers a running server off hard) finds it off and only changes the type.
      serverType = "cx33";
      const fromResize = cloud.requests.length;
      const resized = await stack.up();
      assert.equal(resized.summary.result, "succeeded");
      assert.equal(server.serverType, "cx33");
      assert.equal(server.status, "running", "change_type starts the server again");
      const resizeCalls = cloud.requests.slice(fromResize).filter((r) => r.method === "POST").map((r) => r.route);
      assert.deepEqual(
        resizeCalls,
        ["POST /servers/{id}/actions/shutdown", "POST /servers/{id}/actions/change_type"],
        "an ACPI shutdown, then the type change; no poweroff",
      );
      const shutdownAction = [...cloud.state.actions.values()].find((a) => a.command === "shutdown_server")!;
      const changeCall = cloud.requests.slice(fromResize).find((r) => r.route === "POST /servers/{id}/actions/change_type")!;
      assert.ok(Date.parse(shutdownAction.finished!) <= changeCall.at, "the shutdown had completed when the type change was asked for");
      const sameType = await stack.up();
      assert.deepEqual(Object.keys(sameType.summary.resourceChanges ?? {}), ["same"], JSON.stringify(sameType.summary.resourceChanges));

      const destroyed = await stack.destroy();
      assert.equal(destroyed.summary.result, "succeeded");
      assert.deepEqual(
        [cloud.state.servers.size, cloud.state.volumes.size, cloud.state.firewalls.size, cloud.state.sshKeys.size],
        [0, 0, 0, 0],
      );
      assert.deepEqual(cloud.unservedRequests(), []);

      const seen = new Map<string, number>();
      for (const r of cloud.requests) {
        const key = `${r.route ?? `${r.method} ${r.path}`} -> ${r.status}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      t.diagnostic(`provider calls: ${[...seen].map(([k, n]) => `${k} x${n}`).join("; ")}`);
      if (process.env.LOCALCLOUD_HETZNER_LOG) {
        const start = cloud.requests[0]?.at ?? 0;
        for (const r of cloud.requests) t.diagnostic(`+${r.at - start}ms ${r.method} ${r.path}${r.query} -> ${r.status}`);
      }
    } finally {
      await stack.workspace.removeStack("localcloud", { force: true }).catch(() => undefined);
      await cloud.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("creates, refreshes and destroys the Backups' Storage Box and sub-account; protected, destroy is refused", { skip: skipPulumi, timeout: 120_000 }, async () => {
    const { Backups } = await import("../../components/services/backup");
    const { STORAGE_BOX_TYPES } = await import("../../components/catalog/serverTypes");

    const cloud = new FakeHetznerCloud({ actionDelayMs: 50 });
    await cloud.start();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "localcloud-storagebox-"));
    let protection = false;
    // The project's component as index.ts declares it, without nodes: the box, a sub-account per node and the passwords.
    const program = () => {
      const backups = new Backups("ai-dev-backups", {
        settings: { target: "storagebox", storageBoxType: STORAGE_BOX_TYPES[0], hourUtc: 3, retention: { daily: 7, weekly: 4, monthly: 6 }, prometheus: false },
        environment: "dev",
        boxName: "ai-dev-backups",
        location: "fsn1",
        resticImage: "docker.io/restic/restic:0.19.1",
        dataDir: "/srv/data",
        nodes: [],
        protection,
        labels: { environment: "dev", "managed-by": "pulumi" },
      });
      const { inference, operations } = backups.credentials;
      return Promise.resolve({
        storageBox: backups.storageBox,
        subaccounts: { inference: inference.subaccount, operations: operations.subaccount },
        targetPasswords: { inference: inference.targetPassword, operations: operations.targetPassword },
      });
    };
    const stack = await fakeCloudStack(cloud, tmp, "localcloud-storagebox", program, { hetznerEndpoint: cloud.hetznerEndpoint, pollInterval: "100ms" });
    try {
      const up = await stack.up();
      assert.equal(up.summary.result, "succeeded");
      const [box] = [...cloud.state.storageBoxes.values()];
      assert.ok(box, "a Storage Box");
      assert.deepEqual([box.name, box.storageBoxType, box.location, box.status, box.protection.delete], ["ai-dev-backups", "bx11", "fsn1", "active", false]);
      assert.deepEqual(box.access, { reachableExternally: false, sambaEnabled: false, sshEnabled: true, webdavEnabled: false, zfsEnabled: false });
      // One sub-account per node (created one after the other: Hetzner locks a box while one is created).
      const accounts = [...box.subaccounts.values()].sort((a, b) => a.homeDirectory.localeCompare(b.homeDirectory));
      const access = { reachableExternally: false, sambaEnabled: false, sshEnabled: true, webdavEnabled: false, readonly: false };
      assert.deepEqual(accounts.map((a) => [a.homeDirectory, a.access]), [["dev-inference", access], ["dev-operations", access]]);
      const [inference, operations] = accounts;
      assert.deepEqual(up.outputs.targetPasswords.value, { inference: inference.password, operations: operations.password }, "each node gets its own sub-account's password");
      assert.notEqual(inference.password, operations.password);
      assert.deepEqual(up.outputs.storageBox.value, { id: box.id });
      assert.deepEqual(up.outputs.subaccounts.value, {
        inference: { username: inference.username, server: box.server },
        operations: { username: operations.username, server: box.server },
      });
      assert.deepEqual(cloud.unservedRequests(), [], "the provider called nothing the fake does not serve");

      const refreshed = await stack.refresh();
      assert.deepEqual(Object.keys(refreshed.summary.resourceChanges ?? {}), ["same"], JSON.stringify(refreshed.summary.resourceChanges));
      const again = await stack.up();
      assert.deepEqual(Object.keys(again.summary.resourceChanges ?? {}), ["same"], JSON.stringify(again.summary.resourceChanges));

      const destroyed = await stack.destroy();
      assert.equal(destroyed.summary.result, "succeeded");
      assert.equal(cloud.state.storageBoxes.size, 0);
      const deletes = cloud.requests.filter((r) => r.method === "DELETE").map((r) => r.route);
      assert.deepEqual(deletes, ["DELETE /storage_boxes/{id}/subaccounts/{sub}", "DELETE /storage_boxes/{id}/subaccounts/{sub}", "DELETE /storage_boxes/{id}"]);

      // Protected (prod): Hetzner's delete protection on the box, and Pulumi's protect refuses the destroy.
      protection = true;
      assert.equal((await stack.up()).summary.result, "succeeded");
      const [guarded] = [...cloud.state.storageBoxes.values()];
      assert.equal(guarded.protection.delete, true);
      const deletesBefore = cloud.requests.filter((r) => r.method === "DELETE").length;
      await assert.rejects(stack.destroy(), /protected/i);
      assert.ok(cloud.state.storageBoxes.has(guarded.id), "the box stays");
      assert.equal(cloud.requests.filter((r) => r.method === "DELETE").length, deletesBefore, "no DELETE reached Hetzner");
      assert.deepEqual(cloud.unservedRequests(), []);
    } finally {
      await stack.workspace.removeStack("localcloud", { force: true }).catch(() => undefined);
      await cloud.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  // Before each node had its own backup credentials, a stack had one sub-account for the environment (home
  // directory <env>) and one repository password; on prod both are protected, so the update must not delete them.
  it("updates a stack of one shared sub-account in place: it becomes the inference node's, nothing is deleted", { skip: skipPulumi, timeout: 180_000 }, async () => {
    const pulumi = await import("@pulumi/pulumi");
    const hcloud = await import("@pulumi/hcloud");
    const random = await import("@pulumi/random");
    const { Backups } = await import("../../components/services/backup");
    const { STORAGE_BOX_TYPES } = await import("../../components/catalog/serverTypes");

    const cloud = new FakeHetznerCloud({ actionDelayMs: 50 });
    await cloud.start();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "localcloud-storagebox-former-"));
    const name = "ai-prod-backups";
    const labels = { environment: "prod", "managed-by": "pulumi" };
    const access = { reachableExternally: false, sshEnabled: true, sambaEnabled: false, webdavEnabled: false };
    // The former component, as components/services/backup.ts declared it until per-node credentials.
    class FormerBackups extends pulumi.ComponentResource {
      readonly repositoryPassword: Output<string>;
      constructor() {
        super("aiplatform:services:Backups", name, {});
        const protect = { parent: this, protect: true };
        const boxPassword = (suffix: string) =>
          new random.RandomPassword(`${name}-${suffix}`, { length: 32, minUpper: 2, minLower: 2, minNumeric: 2, minSpecial: 2, overrideSpecial: "-_.+#" }, protect).result;
        this.repositoryPassword = new random.RandomPassword(`${name}-repository-password`, { length: 48, special: false }, protect).result;
        const box = new hcloud.StorageBox(
          `${name}-box`,
          { name, storageBoxType: "bx11", location: "fsn1", password: boxPassword("box-password"), accessSettings: { ...access, zfsEnabled: false }, deleteProtection: true, labels },
          protect,
        );
        new hcloud.StorageBoxSubaccount(
          `${name}-prod`,
          { storageBoxId: box.id.apply(Number), homeDirectory: "prod", password: boxPassword("prod-password"), accessSettings: { ...access, readonly: false }, description: "restic repositories of prod", labels },
          protect,
        );
        this.registerOutputs({});
      }
    }
    let former = true;
    const program = () => {
      if (former) return Promise.resolve({ repositoryPassword: new FormerBackups().repositoryPassword });
      const backups = new Backups(name, {
        settings: { target: "storagebox", storageBoxType: STORAGE_BOX_TYPES[0], hourUtc: 3, retention: { daily: 7, weekly: 4, monthly: 6 }, prometheus: false },
        environment: "prod",
        boxName: name,
        location: "fsn1",
        resticImage: "docker.io/restic/restic:0.19.1",
        dataDir: "/srv/data",
        nodes: [],
        protection: true,
        labels,
      });
      return Promise.resolve({ repositoryPasswords: { inference: backups.credentials.inference.repositoryPassword, operations: backups.credentials.operations.repositoryPassword } });
    };
    const stack = await fakeCloudStack(cloud, tmp, "localcloud-storagebox-former", program, { hetznerEndpoint: cloud.hetznerEndpoint, pollInterval: "100ms" });
    try {
      const before = await stack.up();
      assert.equal(before.summary.result, "succeeded");
      const [box] = [...cloud.state.storageBoxes.values()];
      const [shared] = [...box.subaccounts.values()];
      const sharedAccount = { id: shared.id, username: shared.username, password: shared.password };
      assert.equal(shared.homeDirectory, "prod");

      former = false;
      const after = await stack.up();
      assert.equal(after.summary.result, "succeeded");
      assert.deepEqual(cloud.requests.filter((r) => r.method === "DELETE").map((r) => r.route), [], "nothing deleted");
      const accounts = [...box.subaccounts.values()].sort((a, b) => a.id - b.id);
      assert.deepEqual(
        accounts.map((a) => [a.id, a.homeDirectory]),
        [[sharedAccount.id, "prod-inference"], [accounts[1].id, "prod-operations"]],
        "the environment's sub-account is the inference node's now, in a directory of its own; the operations node's is new",
      );
      assert.deepEqual([accounts[0].username, accounts[0].password], [sharedAccount.username, sharedAccount.password], "same user, same password");
      assert.notEqual(accounts[1].password, sharedAccount.password);
      const passwords = after.outputs.repositoryPasswords.value as Record<string, string>;
      assert.equal(passwords.inference, before.outputs.repositoryPassword.value, "the inference node keeps the former repository password");
      assert.notEqual(passwords.operations, passwords.inference);
      assert.deepEqual(cloud.unservedRequests(), []);
    } finally {
      await stack.workspace.removeStack("localcloud", { force: true }).catch(() => undefined);
      await cloud.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
