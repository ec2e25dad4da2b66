/** CIDR parsing for settings: IPv4 and IPv6, network address only, as Hetzner's firewall API wants them. */
import { BlockList, isIPv4, isIPv6 } from "node:net";

export interface ParsedCidr {
  version: 4 | 6;
  prefix: number;
  /** The network address, as written. */
  address: string;
  /** Why the text is not a usable CIDR, or undefined when it is. */
  problem?: string;
}

function ipv4ToBigInt(address: string): bigint {
  return address.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6ToBigInt(address: string): bigint {
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const zeros = Array.from({ length: 8 - headGroups.length - tailGroups.length }, () => "0");
  const groups: string[] = tail === undefined ? headGroups : [...headGroups, ...zeros, ...tailGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g === "" ? "0" : g, 16)), 0n);
}

export function parseCidr(text: string): ParsedCidr {
  const invalid = (problem: string): ParsedCidr => ({ version: 4, prefix: 0, address: "", problem });
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
  if (!match) return invalid("write it as address/prefix, e.g. 173.245.48.0/20 or 2400:cb00::/32");
  const [, address, prefixText] = match;
  const prefix = Number(prefixText);
  const version = isIPv4(address) ? 4 : isIPv6(address) && !address.includes(".") ? 6 : undefined;
  if (!version) return invalid(`"${address}" is not an IPv4 or IPv6 address`);
  const bits = version === 4 ? 32 : 128;
  if (prefix > bits) return invalid(`the prefix /${prefix} is longer than an IPv${version} address (/${bits} at most)`);
  // The one piece of arithmetic Node does not offer: the network address, to name it when host bits are set.
  const value = version === 4 ? ipv4ToBigInt(address) : ipv6ToBigInt(address);
  const hostBits = BigInt(bits - prefix);
  const network = (value >> hostBits) << hostBits;
  if (network !== value) {
    return invalid(`it has host bits set after /${prefix}: write the network address, ${format(network, version)}/${prefix}`);
  }
  return { version, prefix, address };
}

function format(value: bigint, version: 4 | 6): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::").replace(/:{3,}/, "::");
}

/** True when the valid CIDR holds the address (of the same IP version). */
function contains(cidr: ParsedCidr, address: string): boolean {
  const family = cidr.version === 4 ? "ipv4" : "ipv6";
  const list = new BlockList();
  list.addSubnet(cidr.address, cidr.prefix, family);
  return list.check(address, family);
}

/** True when the two valid CIDRs of the same IP version share any address: one holds the other's network. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (x.problem || y.problem || x.version !== y.version) return false;
  return contains(x, y.address) || contains(y, x.address);
}

/**
 * The widest source range a setting or a firewall rule may name, by IP version. CDNs publish ranges of /12 or
 * narrower for IPv4 (Cloudflare's widest is 104.16.0.0/13) and /32 or narrower for IPv6 (2400:cb00::/32); a
 * wider one lets in far more than a CDN, and /0, /1 pairs and the like let in everyone.
 */
export const SOURCE_RANGE_MAX_WIDTH: Readonly<Record<4 | 6, number>> = { 4: 12, 6: 32 };

/**
 * What is wrong with a list of source ranges, one line a problem, each naming the range: any range wider than
 * SOURCE_RANGE_MAX_WIDTH, and, when each is narrow enough, a union that is still the whole address space of
 * its IP version. Ranges that do not parse are left to the caller.
 */
export function sourceRangeProblems(ranges: readonly string[]): string[] {
  const problems: string[] = [];
  const parsed = ranges.map((text) => ({ text: text.trim(), cidr: parseCidr(text) })).filter((r) => !r.cidr.problem);
  for (const version of [4, 6] as const) {
    const family = parsed.filter((r) => r.cidr.version === version);
    const bound = SOURCE_RANGE_MAX_WIDTH[version];
    const wide = family.filter((r) => r.cidr.prefix < bound);
    for (const { text, cidr } of wide) {
      problems.push(`${text} is a /${cidr.prefix}, wider than the /${bound} an IPv${version} CDN range is at most`);
    }
    if (wide.length === 0 && family.length > 0 && coversAll(family.map((r) => r.cidr), version)) {
      problems.push(`${family.map((r) => r.text).join(", ")} together cover every IPv${version} address`);
    }
  }
  return problems;
}

/** True when the ranges, merged, are the whole address space of their IP version. */
function coversAll(cidrs: ParsedCidr[], version: 4 | 6): boolean {
  const bits = version === 4 ? 32 : 128;
  const spans = cidrs
    .map((c) => {
      const start = version === 4 ? ipv4ToBigInt(c.address) : ipv6ToBigInt(c.address);
      return { start, end: start + (1n << BigInt(bits - c.prefix)) };
    })
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  let reached = 0n;
  for (const { start, end } of spans) {
    if (start > reached) return false;
    if (end > reached) reached = end;
  }
  return reached === 1n << BigInt(bits);
}
