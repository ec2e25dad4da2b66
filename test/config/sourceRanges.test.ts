/**
 * No source-range setting can open the whole internet (issue 13, point 2): a range wider than a CDN's (/12 for
 * IPv4, /32 for IPv6) or a list whose union is a whole address space is refused, naming the setting and the
 * range, by the settings and by the policy pack.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SettingsError } from "../../components/config";
import { SOURCE_RANGE_MAX_WIDTH, sourceRangeProblems } from "../../components/config/cidr";
import { loadStackSettings } from "../harness";

function problems(ranges: string[]): string[] {
  try {
    loadStackSettings("prod", { publicWeb: "true", publicWebSourceRanges: ranges });
  } catch (err) {
    assert.ok(err instanceof SettingsError, `expected a SettingsError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail("expected the settings to be refused");
}

const line = (problem: string) =>
  `ai-platform:publicWebSourceRanges: ${problem}, so it opens 80/443 to far more than a CDN: list the CDN's published ranges only`;

describe("source ranges no wider than a CDN's", () => {
  it("the bound is /12 for IPv4 and /32 for IPv6", () => {
    assert.deepEqual(SOURCE_RANGE_MAX_WIDTH, { 4: 12, 6: 32 });
  });

  it("the whole internet written any way is refused, naming the setting and each range", () => {
    assert.deepEqual(problems(["0.0.0.0/1", "128.0.0.0/1"]), [
      line("0.0.0.0/1 is a /1, wider than the /12 an IPv4 CDN range is at most"),
      line("128.0.0.0/1 is a /1, wider than the /12 an IPv4 CDN range is at most"),
    ]);
    assert.deepEqual(problems(["::/1", "8000::/1"]), [
      line("::/1 is a /1, wider than the /32 an IPv6 CDN range is at most"),
      line("8000::/1 is a /1, wider than the /32 an IPv6 CDN range is at most"),
    ]);
    assert.deepEqual(problems(["0::/0"]), [line("0::/0 is a /0, wider than the /32 an IPv6 CDN range is at most")]);
    assert.deepEqual(problems(["0.0.0.0/0"]), [line("0.0.0.0/0 is a /0, wider than the /12 an IPv4 CDN range is at most")]);
    assert.deepEqual(problems(["173.245.48.0/20", "10.0.0.0/8"]), [line("10.0.0.0/8 is a /8, wider than the /12 an IPv4 CDN range is at most")]);
  });

  it("ranges each narrow enough whose union is every address are refused too", () => {
    const sixteenths = Array.from({ length: 4096 }, (_, i) => `${i >> 4}.${(i & 15) << 4}.0.0/12`);
    assert.deepEqual(sourceRangeProblems(sixteenths), [`${sixteenths.join(", ")} together cover every IPv4 address`]);
    assert.deepEqual(sourceRangeProblems(sixteenths.slice(1)), []);
  });

  it("a CDN's published ranges pass", () => {
    const cloudflare = ["173.245.48.0/20", "104.16.0.0/13", "2400:cb00::/32", "2606:4700::/32"];
    assert.deepEqual(loadStackSettings("prod", { publicWeb: "true", publicWebSourceRanges: cloudflare }).network.publicWebSourceRanges, cloudflare);
  });
});
