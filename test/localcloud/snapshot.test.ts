/**
 * The fakes' snapshot and restore (./snapshot.ts, FakeHetznerCloud and FakeTailscale snapshot/restore), which the
 * upgrade fixture (test/fixtures/upgrade) rests on: a restored fake, through JSON, answers what the original
 * answered on the same port, and goes on giving new ids and addresses that do not collide with the old ones.
 * Loopback only.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FAKE_HCLOUD_TOKEN, FakeHetznerCloud, type HetznerSnapshot } from "./hetzner";
import { fromPlain, toPlain } from "./snapshot";
import { FakeTailscale, type TailscaleSnapshot } from "./tailscale";

type Json = Record<string, unknown>;

async function hcloud(cloud: FakeHetznerCloud, method: string, route: string, body?: unknown): Promise<Json> {
  const res = await fetch(cloud.endpoint + route, {
    method,
    headers: { Authorization: `Bearer ${FAKE_HCLOUD_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${method} ${route}: ${res.status}`);
  return (await res.json()) as Json;
}

async function tailnet(fake: FakeTailscale, method: string, route: string, body?: unknown): Promise<Json & { text?: string }> {
  const res = await fetch(`${fake.baseUrl}/api/v2${route}`, {
    method,
    headers: { Authorization: `Basic ${Buffer.from("tskey-api-test:").toString("base64")}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${method} ${route}: ${res.status}`);
  const text = await res.text();
  return text.startsWith("{") ? (JSON.parse(text) as Json) : { text };
}

/** Lets fetch's pool see the stopped fake's connections closed before a restored fake takes its port. */
const settleSockets = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100));

/** Through JSON text, as a fixture file holds it. */
function viaText<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

describe("the fakes' snapshot and restore", () => {
  it("keeps Maps, Dates and nested data through JSON", () => {
    const value = { when: new Date("2026-11-30T12:00:00.000Z"), byId: new Map([[1, { files: new Map([["/a", "b"]]), tags: ["x"] }]]), none: null };
    const back = fromPlain<typeof value>(viaText(toPlain(value)));
    assert.ok(back.when instanceof Date);
    assert.equal(back.when.toISOString(), "2026-11-30T12:00:00.000Z");
    assert.ok(back.byId instanceof Map && back.byId.get(1)!.files instanceof Map);
    assert.equal(back.byId.get(1)!.files.get("/a"), "b");
    assert.deepEqual(back.byId.get(1)!.tags, ["x"]);
    assert.equal(back.none, null);
    assert.throws(() => toPlain({ s: new Set([1]) }), /Set/);
  });

  it("Hetzner: a restored fake lists the same servers, volumes and firewalls on the same endpoint, and new ids follow", async () => {
    const original = new FakeHetznerCloud({ token: FAKE_HCLOUD_TOKEN, actionDelayMs: 0 });
    await original.start();
    let snapshot: HetznerSnapshot;
    const lists: Json[] = [];
    try {
      await hcloud(original, "POST", "/servers", { name: "kept", server_type: "cx23", image: "ubuntu-24.04", location: "fsn1", user_data: "#cloud-config\n", labels: { a: "b" } });
      await hcloud(original, "POST", "/volumes", { name: "data", size: 10, location: "fsn1", format: "ext4" });
      await hcloud(original, "POST", "/firewalls", { name: "fw", rules: [{ direction: "in", protocol: "udp", port: "41641", source_ips: ["0.0.0.0/0"] }] });
      await original.settle();
      for (const route of ["/servers", "/volumes", "/firewalls"]) lists.push(await hcloud(original, "GET", route));
      snapshot = viaText(original.snapshot());
    } finally {
      await original.stop();
    }
    await settleSockets();
    const restored = new FakeHetznerCloud({ token: FAKE_HCLOUD_TOKEN, actionDelayMs: 0, port: snapshot.port });
    restored.restore(snapshot);
    await restored.start();
    try {
      assert.equal(restored.endpoint, `http://127.0.0.1:${snapshot.port}/v1`);
      for (const [i, route] of ["/servers", "/volumes", "/firewalls"].entries()) assert.deepEqual(await hcloud(restored, "GET", route), lists[i], route);
      const kept = [...restored.state.servers.values()][0];
      assert.equal(kept.userData, "#cloud-config\n");
      const next = (await hcloud(restored, "POST", "/servers", { name: "new", server_type: "cx23", image: "ubuntu-24.04", location: "fsn1" })).server as Json;
      assert.ok((next.id as number) > kept.id, "a new server's id follows the restored ones");
      assert.notEqual((next.public_net as { ipv4: { ip: string } }).ipv4.ip, kept.ipv4!.ip, "and so does its address");
    } finally {
      await restored.stop();
    }
  });

  it("Tailscale: a restored tailnet lists the same devices, keys and policy on the same base URL, and new devices get new addresses", async () => {
    const original = new FakeTailscale();
    await original.start();
    let snapshot: TailscaleSnapshot;
    let devices: Json;
    let policy: Json;
    let keyId: string;
    try {
      const key = await tailnet(original, "POST", "/tailnet/-/keys", {
        capabilities: { devices: { create: { reusable: true, ephemeral: false, preauthorized: true, tags: [] } } },
        expirySeconds: 3600,
      });
      keyId = String(key.id);
      original.join(String(key.key), "node-a");
      devices = await tailnet(original, "GET", "/tailnet/-/devices");
      policy = await tailnet(original, "GET", "/tailnet/-/acl");
      snapshot = viaText(original.snapshot());
      assert.ok(snapshot.port > 0);
      const restored = new FakeTailscale({ port: snapshot.port });
      restored.restore(snapshot);
      await original.stop();
      await settleSockets();
      await restored.start();
      try {
        assert.equal(restored.baseUrl, `http://127.0.0.1:${snapshot.port}`);
        assert.deepEqual(await tailnet(restored, "GET", "/tailnet/-/devices"), devices);
        assert.deepEqual(await tailnet(restored, "GET", "/tailnet/-/acl"), policy);
        assert.equal((await tailnet(restored, "GET", `/tailnet/-/keys/${keyId}`)).invalid, false);
        const [kept] = restored.devicesByHostname("node-a");
        const next = restored.join(String([...restored.state.keys.values()][0].key), "node-b");
        assert.notEqual(next.addresses[0], kept.addresses[0]);
        assert.notEqual(next.nodeId, kept.nodeId);
      } finally {
        await restored.stop();
      }
    } finally {
      await original.stop();
    }
  });
});
