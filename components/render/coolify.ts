/**
 * Coolify's unattended install, as a shell script run once on the operations node over Tailscale SSH.
 * Pure: the spec in, the script out. The root password arrives on standard input (never on a command line
 * or in the script), and Coolify's own ports are kept off the public interface at the host.
 */

import { SERVICES } from "../catalog/services";

export interface CoolifyInstallSpec {
  /** Coolify's version, the installer's first argument (4.1.1 or later). */
  version: string;
  /** E-mail of the root user. */
  adminEmail: string;
  /** Docker's address pool, so Coolify's networks do not take 10.0.0.0/8 (its default). */
  dockerAddressPool: string;
}

/** Coolify's UI, its realtime server and its terminal: reachable over the tailnet only. */
export const COOLIFY_PORTS = SERVICES.coolify.ports.map((p) => p.port);

/** Where the script reads the root password: an env file on standard input, `ROOT_USER_PASSWORD=...`. */
export const COOLIFY_PASSWORD_ENV = "ROOT_USER_PASSWORD";

/** The installer Coolify documents for unattended installs. */
const INSTALLER_URL = "https://cdn.coollabs.io/coolify/install.sh";

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export function renderCoolifyInstall(spec: CoolifyInstallSpec): string {
  if (!/^\d+\.\d+\.\d+$/.test(spec.version)) throw new Error(`Coolify version must be x.y.z; got ${spec.version}`);
  const [base, size] = [spec.dockerAddressPool.split("/")[0], "24"];
  const ports = COOLIFY_PORTS.join(",");
  return [
    "#!/usr/bin/env bash",
    "# Installs Coolify once, unattended; rerunning it leaves an installed Coolify alone.",
    "set -euo pipefail",
    "umask 077",
    "",
    "# The root password comes on standard input as an env file, so it is never on a command line.",
    'secrets=$(mktemp)',
    'trap \'rm -f "$secrets"\' EXIT',
    'cat > "$secrets"',
    "set -a",
    "# shellcheck disable=SC1090",
    '. "$secrets"',
    "set +a",
    `: "\${${COOLIFY_PASSWORD_ENV}:?the root password must arrive on standard input}"`,
    "",
    "export ROOT_USERNAME=admin",
    `export ROOT_USER_EMAIL=${shellQuote(spec.adminEmail)}`,
    "export AUTOUPDATE=false",
    `export DOCKER_ADDRESS_POOL_BASE=${shellQuote(base)}`,
    `export DOCKER_ADDRESS_POOL_SIZE=${size}`,
    "",
    "if ! docker inspect coolify >/dev/null 2>&1; then",
    "  installer=$(mktemp)",
    `  curl -fsSL --retry 5 ${INSTALLER_URL} -o "$installer"`,
    `  bash "$installer" ${shellQuote(spec.version)}`,
    '  rm -f "$installer"',
    "fi",
    "",
    "# Coolify publishes its UI and realtime ports on every address. The cloud firewall already drops them;",
    "# this keeps them closed at the host too: nothing from the public interface reaches them.",
    "public_if=$(ip -4 route show default | awk '{print $5; exit}')",
    `rule=(-i "$public_if" -p tcp -m multiport --dports "${ports}" -j DROP)`,
    'iptables -C DOCKER-USER "${rule[@]}" 2>/dev/null || iptables -I DOCKER-USER "${rule[@]}"',
    'ip6tables -C DOCKER-USER "${rule[@]}" 2>/dev/null || ip6tables -I DOCKER-USER "${rule[@]}" 2>/dev/null || true',
    "# The rule is kept across reboots by a unit that runs after Docker has built its chains.",
    "cat > /etc/systemd/system/coolify-ports-private.service <<UNIT",
    "[Unit]",
    "Description=Keep Coolify's ports off the public interface",
    "After=docker.service",
    "Requires=docker.service",
    "[Service]",
    "Type=oneshot",
    `ExecStart=/bin/sh -c 'iptables -C DOCKER-USER -i $public_if -p tcp -m multiport --dports ${ports} -j DROP || iptables -I DOCKER-USER -i $public_if -p tcp -m multiport --dports ${ports} -j DROP'`,
    "[Install]",
    "WantedBy=multi-user.target",
    "UNIT",
    "systemctl daemon-reload",
    "systemctl enable coolify-ports-private.service",
    "docker inspect --format '{{.Config.Image}}' coolify",
    "",
  ].join("\n");
}
