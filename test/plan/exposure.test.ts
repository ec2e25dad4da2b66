/** The public firewall's rules as data: closed by default, 80/443 only on request and only from ranges. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mergeRules, publicFirewallRules, TAILSCALE_DIRECT_UDP_PORT } from "../../components/plan/exposure";

describe("publicFirewallRules", () => {
  it("lets in ICMP and Tailscale's UDP port, nothing else, on both nodes by default", () => {
    for (const role of ["inference", "operations"] as const) {
      const rules = publicFirewallRules(role, { publicWeb: false, publicWebSourceRanges: ["1.2.3.0/24"] });
      assert.deepEqual(rules.map((r) => `${r.protocol}/${r.port ?? "-"}`), ["icmp/-", `udp/${TAILSCALE_DIRECT_UDP_PORT}`]);
    }
  });

  it("adds TCP 80/443 from the ranges on the operations node only", () => {
    const ranges = ["173.245.48.0/20"];
    const ops = publicFirewallRules("operations", { publicWeb: true, publicWebSourceRanges: ranges });
    assert.deepEqual(ops.filter((r) => r.protocol === "tcp").map((r) => [r.port, r.sourceIps]), [["80", ranges], ["443", ranges]]);
    const inference = publicFirewallRules("inference", { publicWeb: true, publicWebSourceRanges: ranges });
    assert.equal(inference.filter((r) => r.protocol === "tcp").length, 0);
  });
});

describe("mergeRules", () => {
  it("joins rules by direction, protocol and port, de-duplicating their sources", () => {
    const merged = mergeRules([
      { direction: "in", protocol: "tcp", port: "443", sourceIps: ["1.0.0.0/8"], description: "a" },
      { direction: "in", protocol: "tcp", port: "443", sourceIps: ["2.0.0.0/8", "1.0.0.0/8"], description: "b" },
      { direction: "in", protocol: "udp", port: "443", sourceIps: ["1.0.0.0/8"], description: "c" },
    ]);
    assert.deepEqual(merged.map((r) => [r.protocol, r.port, r.sourceIps, r.description]), [
      ["tcp", "443", ["1.0.0.0/8", "2.0.0.0/8"], "a"],
      ["udp", "443", ["1.0.0.0/8"], "c"],
    ]);
  });
});
