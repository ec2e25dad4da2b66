/** The nodes' networks: the public web ports Coolify's apps may open, and the addresses Docker uses. */
import { cidrsOverlap, parseCidr, sourceRangeProblems } from "./cidr";
import { DOCKER_NETWORK_PREFIX, DOCKER_POOL_MAX_PREFIX, TAILNET_RANGE } from "./limits";
import { SettingsReader } from "./reader";

export interface NetworkSettings {
  publicWeb: boolean;
  publicWebSourceRanges: string[];
  dockerAddressPool: string;
}

export function readNetwork(read: SettingsReader): NetworkSettings {
  const { project, problems } = read;
  const publicWeb = read.boolean("publicWeb");
  const publicWebSourceRanges = read.array("publicWebSourceRanges");
  for (const range of publicWebSourceRanges) {
    const problem = parseCidr(range).problem;
    if (problem) problems.add(`${project}:publicWebSourceRanges has "${range}": ${problem}`);
  }
  if (publicWeb && publicWebSourceRanges.length === 0) {
    problems.add(
      `${project}:publicWeb is true but ${project}:publicWebSourceRanges is empty: list the CDN's address ` +
        `ranges (e.g. Cloudflare's published IPv4 and IPv6 ranges); the platform never opens 80/443 to everyone`,
    );
  }
  for (const problem of sourceRangeProblems(publicWebSourceRanges)) {
    problems.add(`${project}:publicWebSourceRanges: ${problem}, so it opens 80/443 to far more than a CDN: list the CDN's published ranges only`);
  }

  const dockerAddressPool = read.string("dockerAddressPool");
  const pool = parseCidr(dockerAddressPool);
  if (pool.problem) {
    problems.add(`${project}:dockerAddressPool is "${dockerAddressPool}": ${pool.problem}`);
  } else if (pool.version !== 4 || pool.prefix > DOCKER_POOL_MAX_PREFIX) {
    problems.add(
      `${project}:dockerAddressPool is "${dockerAddressPool}": use an IPv4 private range of /${DOCKER_POOL_MAX_PREFIX} or larger ` +
        `(Docker takes a /${DOCKER_NETWORK_PREFIX} for each network), e.g. 172.30.0.0/16`,
    );
  } else if (cidrsOverlap(dockerAddressPool, TAILNET_RANGE)) {
    problems.add(
      `${project}:dockerAddressPool is "${dockerAddressPool}", which overlaps the tailnet's ${TAILNET_RANGE}: ` +
        `use a private range such as 172.30.0.0/16`,
    );
  }

  return { publicWeb, publicWebSourceRanges: publicWebSourceRanges.map((r) => r.trim()), dockerAddressPool };
}
