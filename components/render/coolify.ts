/**
 * Coolify on the operations node: the script that installs it unattended, or upgrades it to the pinned version,
 * run over Tailscale SSH, and the compose overrides that publish its ports where the platform wants them. Pure:
 * the spec in, the text out. The root password arrives on standard input (never on a command line or in the
 * script).
 *
 * Facts from coollabsio/coolify at the pinned version (scripts/install.sh, scripts/upgrade.sh,
 * docker-compose.prod.yml, bootstrap/helpers/proxy.php):
 * - Its compose file publishes `${APP_PORT:-8000}:8080` (coolify), `${SOKETI_PORT:-6001}:6001` and `6002:6002`
 *   (soketi, the container coolify-realtime) with no address, so Docker puts them on daemon.json's "ip", which
 *   the bootstrap sets to 127.0.0.1: on loopback, out of anyone's reach.
 * - upgrade.sh, which install.sh runs, adds /data/coolify/source/docker-compose.custom.yml to its compose files
 *   when it is there, and neither script writes or removes it: the ports it adds survive Coolify's upgrades.
 *   Compose merges ports by address, target, published port and protocol, so they add to the loopback ones.
 * - Coolify starts its proxy (Traefik by default, service `traefik`, container coolify-proxy) with
 *   `docker compose up` in /data/coolify/proxy, publishing 80, 443 (and 443/udp, 8080 for its dashboard) with no
 *   address, so on loopback too. Compose also reads docker-compose.override.yml in that directory, which
 *   Coolify never writes: with publicWeb, it adds 80 and 443 on the node's public addresses.
 * - install.sh reads DOCKER_ADDRESS_POOL_BASE as `x.x.x.x/nn`; anything else it replaces by its default,
 *   10.0.0.0/8, and then rewrites daemon.json when the pool there differs, without its "ip". Rerun with a
 *   version, it installs or upgrades to that version (through upgrade.sh); AUTOUPDATE=false keeps Coolify from
 *   upgrading itself, so the pinned version is the one that runs.
 */
import { Document } from "yaml";
import { port, type PortName } from "../catalog/services";
import { shellQuote } from "./shell";

export interface CoolifyInstallSpec {
  /** Coolify's version, the installer's first argument (4.1.1 or later). */
  version: string;
  /** E-mail of the root user. */
  adminEmail: string;
  /** Docker's address pool, x.x.x.x/nn, so Coolify's networks do not take 10.0.0.0/8 (its default). */
  dockerAddressPool: string;
  /** The node's tailnet IPv4 address: Coolify's UI, realtime and terminal ports are published there. */
  tailnetAddress: string;
  /**
   * The node's public addresses, when Coolify's proxy is to answer there on 80 and 443 (the publicWeb setting).
   * Omitted: the proxy stays on loopback, as Docker's default address puts it.
   */
  publicWeb?: { ipv4: string; ipv6?: string };
}

/** Where the script reads the root password: an env file on standard input, `ROOT_USER_PASSWORD=...`. */
export const COOLIFY_PASSWORD_ENV = "ROOT_USER_PASSWORD";

/** The installer Coolify documents for unattended installs and upgrades. */
export const COOLIFY_INSTALLER_URL = "https://cdn.coollabs.io/coolify/install.sh";

/** Coolify's files on the node. */
export const COOLIFY_PATHS = {
  /** Read by upgrade.sh, which keeps it. */
  composeOverride: "/data/coolify/source/docker-compose.custom.yml",
  /** Read by `docker compose` beside the proxy's own compose file. */
  proxyOverride: "/data/coolify/proxy/docker-compose.override.yml",
} as const;

/**
 * Coolify's own ports and where the platform publishes them: the compose service and container, the port inside
 * the container, and the catalog's port, published on the node's tailnet address.
 */
export const COOLIFY_TAILNET_PORTS: readonly { service: string; container: string; target: number; port: PortName; what: string }[] = [
  { service: "coolify", container: "coolify", target: 8080, port: "coolify", what: "Coolify's UI" },
  { service: "soketi", container: "coolify-realtime", target: 6001, port: "coolifyRealtime", what: "Coolify's realtime websockets" },
  { service: "soketi", container: "coolify-realtime", target: 6002, port: "coolifyTerminal", what: "Coolify's terminal" },
];

/** Coolify's proxy, where its apps answer: on the public addresses with publicWeb, else on loopback only. */
export const COOLIFY_PROXY = { service: "traefik", container: "coolify-proxy", webPorts: [80, 443], dashboardPort: 8080 } as const;

const CIDR_V4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\/\d{1,2}$/;


/** A compose port in the long syntax: no question of how an IPv6 address is bracketed. */
const composePort = (hostIp: string, published: number, target: number) => ({
  target,
  published: String(published),
  host_ip: hostIp,
  protocol: "tcp",
});

function yamlText(value: unknown, comment: string): string {
  const doc = new Document(value);
  doc.commentBefore = ` ${comment}`;
  return doc.toString({ lineWidth: 0 });
}

/** docker-compose.custom.yml: Coolify's UI, realtime and terminal ports on the tailnet address as well. */
export function renderCoolifyComposeOverride(tailnetAddress: string): string {
  const services: Record<string, { ports: ReturnType<typeof composePort>[] }> = {};
  for (const p of COOLIFY_TAILNET_PORTS) {
    (services[p.service] ??= { ports: [] }).ports.push(composePort(tailnetAddress, port(p.port), p.target));
  }
  return yamlText({ services }, "Written by ai-platform's Coolify install: Coolify's ports on the node's tailnet address (Coolify's upgrade.sh reads this file).");
}

/** docker-compose.override.yml of the proxy: 80 and 443 on the node's public addresses. */
export function renderCoolifyProxyOverride(addresses: { ipv4: string; ipv6?: string }): string {
  const hosts = [addresses.ipv4, ...(addresses.ipv6 ? [addresses.ipv6] : [])];
  const ports = hosts.flatMap((host) => COOLIFY_PROXY.webPorts.map((p) => composePort(host, p, p)));
  return yamlText({ services: { [COOLIFY_PROXY.service]: { ports } } }, "Written by ai-platform's Coolify install: the proxy's 80 and 443 on the public addresses (publicWeb).");
}

function checkSpec(spec: CoolifyInstallSpec): void {
  if (!/^\d+\.\d+\.\d+$/.test(spec.version)) throw new Error(`Coolify version must be x.y.z; got ${spec.version}`);
  if (!CIDR_V4.test(spec.dockerAddressPool)) {
    throw new Error(`Coolify's installer takes the Docker address pool as x.x.x.x/nn; got "${spec.dockerAddressPool}"`);
  }
}

/** One `cat >FILE <<'YAML'`-like step that writes FILE only when it changes, and notes that it did in VARIABLE. */
function putStep(file: string, content: string, changed: string): string[] {
  return [`if put ${file} <<'YAML'`, content.trimEnd(), "YAML", "then", `  ${changed}=yes`, "fi"];
}

export function renderCoolifyInstall(spec: CoolifyInstallSpec): string {
  checkSpec(spec);
  const [poolBase, poolSize] = [spec.dockerAddressPool, "24"];
  const tailnet = shellQuote(spec.tailnetAddress);
  const published = COOLIFY_TAILNET_PORTS.map((p) => `published ${p.container} ${p.target} "$tailnet_address" ${port(p.port)}`);
  const proxyPublished = spec.publicWeb
    ? COOLIFY_PROXY.webPorts.map((p) => `  published ${COOLIFY_PROXY.container} ${p} ${shellQuote(spec.publicWeb!.ipv4)} ${p}`)
    : [];
  return [
    "#!/usr/bin/env bash",
    `# Installs Coolify ${spec.version} unattended, or upgrades it to that version, with its ports on the node's tailnet`,
    "# address (components/render/coolify.ts); rerun with nothing changed, it leaves Coolify alone.",
    "set -euo pipefail",
    "umask 077",
    "",
    "die() {",
    "  printf 'coolify: error: %s\\n' \"$*\" >&2",
    "  exit 1",
    "}",
    "",
    "# The root password comes on standard input as an env file, so it is never on a command line.",
    'secrets=$(mktemp)',
    'trap \'rm -f "$secrets"\' EXIT',
    'cat >"$secrets"',
    "set -a",
    "# shellcheck disable=SC1090",
    '. "$secrets"',
    "set +a",
    `: "\${${COOLIFY_PASSWORD_ENV}:?the root password must arrive on standard input}"`,
    "",
    "# What Coolify's installer reads. The pool goes whole (x.x.x.x/nn): the installer would take anything else",
    "# for its default 10.0.0.0/8 and rewrite daemon.json without its \"ip\".",
    "export ROOT_USERNAME=admin",
    `export ROOT_USER_EMAIL=${shellQuote(spec.adminEmail)}`,
    "export AUTOUPDATE=false",
    `export DOCKER_ADDRESS_POOL_BASE=${shellQuote(poolBase)}`,
    `export DOCKER_ADDRESS_POOL_SIZE=${poolSize}`,
    "",
    `version=${shellQuote(spec.version)}`,
    `tailnet_address=${tailnet}`,
    "",
    "# Writes standard input to FILE when that changes it; the status says whether it did.",
    "put() {",
    "  local file=$1 new",
    "  new=$(mktemp)",
    '  cat >"$new"',
    '  if [ -f "$file" ] && cmp -s "$new" "$file"; then',
    '    rm -f "$new"',
    "    return 1",
    "  fi",
    '  install -D -m 0600 "$new" "$file"',
    '  rm -f "$new"',
    "}",
    "",
    "# Asserts that CONTAINER's port TARGET is published on ADDRESS:PORT.",
    "published() {",
    '  docker port "$1" "$2/tcp" 2>/dev/null | grep -qxF "$3:$4" ||',
    '    die "$1 does not publish its port $2 on $3:$4 (docker port $1): see the compose overrides in /data/coolify"',
    "}",
    "",
    "# Coolify's upgrade adds this file to its compose files and keeps it: the ports survive its upgrades. They add",
    "# to the compose file's own, which Docker puts on 127.0.0.1.",
    "compose_changed=no",
    ...putStep(COOLIFY_PATHS.composeOverride, renderCoolifyComposeOverride(spec.tailnetAddress), "compose_changed"),
    "",
    "# Coolify starts its proxy with `docker compose` in its directory, which reads this file too; Coolify never",
    "# writes it. Without it the proxy's 80 and 443 stay on loopback.",
    "proxy_changed=no",
    ...(spec.publicWeb
      ? putStep(COOLIFY_PATHS.proxyOverride, renderCoolifyProxyOverride(spec.publicWeb), "proxy_changed")
      : [
          `if [ -e ${COOLIFY_PATHS.proxyOverride} ]; then`,
          `  rm -f ${COOLIFY_PATHS.proxyOverride}`,
          "  proxy_changed=yes",
          "fi",
        ]),
    "",
    "# The installer installs, or upgrades to, the version it is given; it runs when another version runs (or",
    "# none), and when the ports changed, which its upgrade applies.",
    "installed=$(docker inspect --format '{{.Config.Image}}' coolify 2>/dev/null || true)",
    'if [ "${installed##*:}" != "$version" ] || [ "$compose_changed" = yes ]; then',
    '  echo "coolify: installing $version (running: ${installed:-nothing})"',
    "  installer=$(mktemp)",
    `  curl -fsSL --proto '=https' --retry 5 --retry-all-errors ${COOLIFY_INSTALLER_URL} -o "$installer"`,
    '  bash "$installer" "$version"',
    '  rm -f "$installer"',
    "else",
    '  echo "coolify: $version is installed"',
    "fi",
    "",
    "# The bootstrap's daemon.json keeps every port published without an address on loopback; the installer",
    "# rewrites the file when it takes the pool for another. Then Coolify's ports and its apps' would answer on",
    "# every address of the node: stop here, loudly, rather than restart Docker behind the team's back.",
    'command -v jq >/dev/null || die "jq is missing (Coolify\'s installer installs it)"',
    "daemon_ip=$(jq -r '.ip // \"(none)\"' /etc/docker/daemon.json)",
    'if [ "$daemon_ip" != 127.0.0.1 ]; then',
    '  die "/etc/docker/daemon.json has \\"ip\\": $daemon_ip, not 127.0.0.1, so ports published without an address answer on every address of the node; Coolify\'s installer rewrote it (the former file is /etc/docker/daemon.json.original-*): put \\"ip\\": \\"127.0.0.1\\" back and run systemctl restart docker"',
    "fi",
    "daemon_pool=$(jq -r '.[\"default-address-pools\"][0].base // \"(none)\"' /etc/docker/daemon.json)",
    'if [ "$daemon_pool" != "$DOCKER_ADDRESS_POOL_BASE" ]; then',
    '  die "/etc/docker/daemon.json carves networks from $daemon_pool, not $DOCKER_ADDRESS_POOL_BASE: Coolify\'s installer rewrote it (the former file is /etc/docker/daemon.json.original-*)"',
    "fi",
    "",
    "running=$(docker inspect --format '{{.Config.Image}}' coolify 2>/dev/null) ||",
    '  die "no coolify container after the install: see /data/coolify/source/installation-*.log and upgrade-*.log"',
    '[ "${running##*:}" = "$version" ] || die "coolify runs $running, not $version: see /data/coolify/source/upgrade-*.log"',
    ...published,
    "",
    "# A running proxy takes new ports only when it is made again, as Coolify makes it; it then joins again the",
    "# networks Coolify had connected it to.",
    'if [ "$proxy_changed" = yes ] && docker inspect coolify-proxy >/dev/null 2>&1; then',
    "  networks=$(docker inspect --format '{{json .NetworkSettings.Networks}}' coolify-proxy | jq -r 'keys[]')",
    `  (cd ${COOLIFY_PATHS.proxyOverride.slice(0, COOLIFY_PATHS.proxyOverride.lastIndexOf("/"))} && docker compose up -d --wait --remove-orphans)`,
    "  for network in $networks; do",
    '    docker network connect "$network" coolify-proxy 2>/dev/null || true',
    "  done",
    "fi",
    ...(spec.publicWeb ? ["if docker inspect coolify-proxy >/dev/null 2>&1; then", ...proxyPublished, "fi"] : []),
    'echo "coolify: $version, its UI on http://$tailnet_address:' + port("coolify") + '"',
    "",
  ].join("\n");
}
