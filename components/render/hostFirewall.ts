/**
 * The host firewall of a node: the netfilter rules the node itself applies to what its containers may reach and
 * to what arrives on its public interface, as a bash script (checked by shellcheck, applied for real with
 * iptables in network namespaces by test/render/hostFirewall.test.ts), and the script that installs it with its
 * systemd units. Pure: the spec in, the text out.
 *
 * - No container reaches Hetzner's metadata service, which serves the node's user data to whoever asks.
 * - Where `tailnet` is set (the operations node, where Coolify runs the team's apps), no container opens a
 *   connection to a tailnet address (the node's own included), except the containers of the platform's own
 *   networks: Prometheus and the blackbox exporter scrape and probe the inference node over the tailnet.
 * - Nothing that arrives on the public interface reaches `publicDeniedTcpPorts` (Coolify's). Docker's DNAT has
 *   rewritten a published port by the time DOCKER-USER sees the packet (8000 is 8080 there), so the rule
 *   matches the port the packet was sent to, kept by conntrack (Docker's packet-filtering docs:
 *   `-m conntrack --ctorigdstport ... --ctdir ORIGINAL`), for IPv4 and IPv6.
 *
 * The rules live in chains of their own, each replaced whole and at once by iptables-restore, so a rerun never
 * leaves a gap or a duplicate:
 * - AIP-EGRESS, first in the mangle table's FORWARD, for what containers send: the mangle table sees a forwarded
 *   packet before any filter rule does. In the filter table, tailscaled puts its ts-forward first at each start,
 *   above Docker's DOCKER-USER, and it accepts whatever goes out tailscale0 (tailscale's
 *   util/linuxfw/iptables_runner.go, AddHooks and addBase4): a drop in DOCKER-USER would then never see it.
 * - AIP-FORWARD, reached from Docker's DOCKER-USER (which Docker sends every forwarded packet to, and keeps), for
 *   what arrives on the public interface, as Docker's docs place such rules.
 * - AIP-INPUT, from INPUT, for what a container sends to the node's own tailnet address.
 * systemd applies them at every boot before Docker starts (no platform exemption yet: no container starts
 * unguarded), again once Docker is up, and every 5 minutes after that, which also finds a platform network
 * that was made again under a new bridge.
 */
import { TAILNET_RANGE } from "../config/limits";

/** Hetzner Cloud's metadata service (IPv4 only): it answers every process on the node, containers included. */
export const METADATA_ADDRESS = "169.254.169.254";

/** Tailscale's IPv6 range (its ULA prefix), beside the IPv4 one of config/limits.ts. */
export const TAILNET_RANGE_IPV6 = "fd7a:115c:a1e0::/48";

/** Where the rules' script lives on the node. */
export const HOST_FIREWALL_SCRIPT_PATH = "/usr/local/lib/ai-platform/host-firewall";

/** The systemd units that apply it: before Docker at boot, after Docker, and every 5 minutes. */
export const HOST_FIREWALL_UNITS = {
  early: "ai-platform-host-firewall-early.service",
  main: "ai-platform-host-firewall.service",
  timer: "ai-platform-host-firewall.timer",
} as const;

/** The chains the rules live in: AIP-EGRESS in the mangle table, the others in the filter table. */
export const HOST_FIREWALL_CHAINS = { egress: "AIP-EGRESS", forward: "AIP-FORWARD", input: "AIP-INPUT" } as const;

/** The interfaces a container's packets arrive on: Docker's default bridge and its user-defined ones. */
const CONTAINER_INTERFACES = ["docker0", "br-+"];

/** How often the timer applies the rules again, in minutes. */
const REAPPLY_MINUTES = 5;

export interface HostFirewallSpec {
  /**
   * Whether containers are kept off the tailnet, and the Docker networks (by name) whose containers are let
   * through: the platform's own. Omitted: containers' tailnet traffic is not filtered on this node.
   */
  tailnet?: { allowedNetworks: string[] };
  /** TCP ports nothing from the public interface may reach, whatever Docker publishes them on. */
  publicDeniedTcpPorts: number[];
}

const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function checkSpec(spec: HostFirewallSpec): void {
  for (const network of spec.tailnet?.allowedNetworks ?? []) {
    if (!NETWORK_NAME.test(network)) throw new Error(`host firewall: "${network}" is not a Docker network name`);
  }
  for (const port of spec.publicDeniedTcpPorts) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`host firewall: ${port} is not a TCP port`);
  }
}

/** The script that applies the rules; `--before-docker` applies them without asking Docker for its networks. */
export function renderHostFirewall(spec: HostFirewallSpec): string {
  checkSpec(spec);
  const guardTailnet = spec.tailnet !== undefined;
  const { egress, forward, input } = HOST_FIREWALL_CHAINS;
  // Lists go in as words of plain strings: each is checked above to be a name or a number, nothing to quote.
  return String.raw`#!/bin/bash
# The host firewall of an ai-platform node (components/render/hostFirewall.ts), applied by systemd at boot
# before Docker, again once Docker is up, and every few minutes.
# Usage: host-firewall [--before-docker]   (before Docker: the platform's networks get no exemption yet)
set -euo pipefail

metadata_address=${METADATA_ADDRESS}
guard_tailnet=${guardTailnet ? "yes" : "no"}
platform_networks='${(spec.tailnet?.allowedNetworks ?? []).join(" ")}'
public_denied_tcp_ports='${spec.publicDeniedTcpPorts.join(" ")}'
container_interfaces='${CONTAINER_INTERFACES.join(" ")}'

die() {
  printf 'host-firewall: error: %s\n' "$*" >&2
  exit 1
}
warn() { printf 'host-firewall: warning: %s\n' "$*" >&2; }

before_docker=no
if [ "$#" -gt 1 ] || { [ "$#" -eq 1 ] && [ "$1" != --before-docker ]; }; then
  die "usage: host-firewall [--before-docker]"
fi
[ "$#" -eq 0 ] || before_docker=yes

# Before Docker the network may not be up yet: the public interface's rules then wait for the next run.
public_if=$(ip -4 route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
if [ -z "$public_if" ]; then
  [ "$before_docker" = yes ] || die "no default IPv4 route: cannot tell the public interface"
  warn "no default IPv4 route yet: the public interface's rules wait for the next run"
fi

# The bridges of the platform's own networks: a user-defined network's bridge is br- and the first 12
# characters of its id. Docker must answer, or the rules stay as they were; a network that is not there gets
# no exemption: its containers are kept off the tailnet like any other.
platform_bridges=""
if [ "$guard_tailnet" = yes ] && [ "$before_docker" = no ] && [ -n "$platform_networks" ]; then
  docker info >/dev/null 2>&1 || die "Docker does not answer: the rules are left as they were"
  for network in $platform_networks; do
    if id=$(docker network inspect --format '{{.Id}}' "$network" 2>/dev/null) && [ -n "$id" ]; then
      platform_bridges="$platform_bridges br-$(printf '%.12s' "$id")"
    else
      warn "no Docker network $network: its containers are kept off the tailnet until it exists"
    fi
  done
fi

# The rules of one address family, as iptables-restore reads them: FAMILY (4 or 6) and the tailnet's range.
rules() {
  local family=$1 tailnet=$2 port bridge interface
  echo '*mangle'
  echo ':${egress} - [0:0]'
  if [ "$family" = 4 ]; then
    echo "-A ${egress} -d $metadata_address/32 -j DROP"
  fi
  if [ "$guard_tailnet" = yes ]; then
    for bridge in $platform_bridges; do
      echo "-A ${egress} -i $bridge -j RETURN"
    done
    # To another tailnet node, or to a port published on this node's tailnet address (the destination is
    # then the container's already: the address it was sent to is conntrack's). Replies to connections from
    # the tailnet go the other way (REPLY) and pass.
    for interface in $container_interfaces; do
      echo "-A ${egress} -i $interface -m conntrack --ctorigdst $tailnet --ctdir ORIGINAL -j DROP"
    done
  fi
  echo 'COMMIT'
  echo '*filter'
  echo ':${forward} - [0:0]'
  echo ':${input} - [0:0]'
  if [ -n "$public_if" ]; then
    for port in $public_denied_tcp_ports; do
      echo "-A ${forward} -i $public_if -p tcp -m conntrack --ctorigdstport $port --ctdir ORIGINAL -j DROP"
    done
  fi
  if [ "$guard_tailnet" = yes ]; then
    for bridge in $platform_bridges; do
      echo "-A ${input} -i $bridge -j RETURN"
    done
    for interface in $container_interfaces; do
      echo "-A ${input} -i $interface -d $tailnet -m conntrack --ctdir ORIGINAL -j DROP"
    done
  fi
  echo 'COMMIT'
}

# Applies one family's rules with IPTABLES (iptables or ip6tables): FAMILY and the tailnet's range.
apply() {
  local iptables=$1
  # Docker makes DOCKER-USER at its start when it is missing, and keeps what is in it.
  "$iptables" -w -n -L DOCKER-USER >/dev/null 2>&1 || "$iptables" -w -N DOCKER-USER
  rules "$2" "$3" | "$iptables-restore" -w --noflush
  "$iptables" -w -t mangle -C FORWARD -j ${egress} 2>/dev/null || "$iptables" -w -t mangle -I FORWARD 1 -j ${egress}
  "$iptables" -w -C DOCKER-USER -j ${forward} 2>/dev/null || "$iptables" -w -I DOCKER-USER 1 -j ${forward}
  "$iptables" -w -C INPUT -j ${input} 2>/dev/null || "$iptables" -w -I INPUT 1 -j ${input}
}

apply iptables 4 ${TAILNET_RANGE}
apply ip6tables 6 ${TAILNET_RANGE_IPV6}
[ -n "$public_if" ] || public_if="none yet"
echo "host-firewall: applied (public interface $public_if; platform bridges:$platform_bridges)"
`;
}

/**
 * The script a remote command runs once per server (and again when the rules change): writes the rules'
 * script and its units, applies the rules now, and removes what Coolify's install of former versions left (a
 * unit and a DOCKER-USER rule that matched port 8000 after DNAT, so never, and IPv4 only).
 */
export function renderHostFirewallInstall(spec: HostFirewallSpec): string {
  const script = renderHostFirewall(spec);
  const { early, main, timer } = HOST_FIREWALL_UNITS;
  return [
    "#!/usr/bin/env bash",
    `# Installs the node's host firewall (${HOST_FIREWALL_SCRIPT_PATH}) and applies it now; systemd applies it at`,
    "# every boot, before Docker and again once Docker is up, and every few minutes.",
    "set -euo pipefail",
    "",
    `install -d -m 0755 ${posixDirname(HOST_FIREWALL_SCRIPT_PATH)}`,
    `cat >${HOST_FIREWALL_SCRIPT_PATH}.new <<'SCRIPT'`,
    script.trimEnd(),
    "SCRIPT",
    `chmod 0755 ${HOST_FIREWALL_SCRIPT_PATH}.new`,
    `mv -f ${HOST_FIREWALL_SCRIPT_PATH}.new ${HOST_FIREWALL_SCRIPT_PATH}`,
    "",
    `cat >/etc/systemd/system/${early} <<'UNIT'`,
    "[Unit]",
    "Description=ai-platform host firewall, before Docker starts its containers",
    "Wants=network-online.target",
    "After=network-online.target",
    "Before=docker.service",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${HOST_FIREWALL_SCRIPT_PATH} --before-docker`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "UNIT",
    `cat >/etc/systemd/system/${main} <<'UNIT'`,
    "[Unit]",
    "Description=ai-platform host firewall, with the platform's networks, once Docker is up",
    "Wants=docker.service",
    "After=docker.service tailscaled.service",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${HOST_FIREWALL_SCRIPT_PATH}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "UNIT",
    `cat >/etc/systemd/system/${timer} <<'UNIT'`,
    "[Unit]",
    "Description=ai-platform host firewall, applied again every few minutes",
    "",
    "[Timer]",
    `OnUnitActiveSec=${REAPPLY_MINUTES}min`,
    `Unit=${main}`,
    "",
    "[Install]",
    "WantedBy=timers.target",
    "UNIT",
    "",
    "# What Coolify's install of former versions left: its unit, and its rule, in the same words.",
    "if [ -f /etc/systemd/system/coolify-ports-private.service ]; then",
    "  systemctl disable coolify-ports-private.service >/dev/null 2>&1 || true",
    "  rm -f /etc/systemd/system/coolify-ports-private.service",
    "fi",
    "public_if=$(ip -4 route show default | awk '{ for (i = 1; i < NF; i++) if ($i == \"dev\") { print $(i + 1); exit } }')",
    'former=(-i "$public_if" -p tcp -m multiport --dports "8000,6001,6002" -j DROP)',
    'while iptables -w -D DOCKER-USER "${former[@]}" 2>/dev/null; do :; done',
    'while ip6tables -w -D DOCKER-USER "${former[@]}" 2>/dev/null; do :; done',
    "",
    "systemctl daemon-reload",
    `systemctl enable ${early} ${main} ${timer}`,
    `systemctl start ${timer}`,
    HOST_FIREWALL_SCRIPT_PATH,
    "",
  ].join("\n");
}

function posixDirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}
