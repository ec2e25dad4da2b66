/** CIDR parsing for the settings: what is accepted and what each refusal says. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cidrsOverlap, parseCidr } from "../../components/config/cidr";

describe("parseCidr", () => {
  it("accepts IPv4 and IPv6 networks", () => {
    assert.deepEqual(parseCidr("173.245.48.0/20").problem, undefined);
    assert.equal(parseCidr("2400:cb00::/32").version, 6);
    assert.equal(parseCidr("0.0.0.0/0").prefix, 0);
  });

  it("refuses what is not a CIDR, saying why", () => {
    assert.match(parseCidr("10.0.0.0").problem ?? "", /address\/prefix/);
    assert.match(parseCidr("10.0.0.256/24").problem ?? "", /not an IPv4 or IPv6 address/);
    assert.match(parseCidr("10.0.0.0/40").problem ?? "", /\/32 at most/);
    assert.match(parseCidr("2400:cb00::/129").problem ?? "", /\/128 at most/);
    assert.equal(parseCidr("10.1.2.3/8").problem, "it has host bits set after /8: write the network address, 10.0.0.0/8");
    assert.match(parseCidr("2400:cb00::1/32").problem ?? "", /2400:cb00::\/32/);
  });
});

describe("cidrsOverlap", () => {
  it("finds overlaps within one IP version only", () => {
    assert.equal(cidrsOverlap("100.64.0.0/16", "100.64.0.0/10"), true);
    assert.equal(cidrsOverlap("172.30.0.0/16", "100.64.0.0/10"), false);
    assert.equal(cidrsOverlap("10.0.0.0/8", "10.200.0.0/16"), true);
    assert.equal(cidrsOverlap("::/0", "10.0.0.0/8"), false);
  });
});
