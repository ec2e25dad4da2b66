// The cloud-init user data of one node, rendered from typed data.
//
// Bootstrap only: Docker, the Tailscale join, host hardening, the data volume. A change of user data replaces
// the Hetzner server, so nothing about services or models may enter here; those reach the node later through
// the Docker provider over Tailscale SSH.

import { TAG_PATTERN } from "../catalog/identities";
import { Document, isSeq } from "yaml";

/** Everything the bootstrap of one node needs; nothing about services or models may enter here. */
export interface BootstrapSpec {
  /** Tailnet and host name, e.g. "ai-prod-inference". A DNS label (lowercase letters, digits, hyphens; 1-63). */
  hostname: string;
  /** Tailscale auth key (single-use, preauthorized, tagged). A secret: the caller wraps the result in pulumi.secret. */
  tailscaleAuthKey: string;
  /** Tags the node advertises, e.g. ["tag:ai-prod-inference"]. At least one; each starts with "tag:". */
  tailscaleTags: string[];
  /** Swap file size in GiB; 0 means no swap. */
  swapGiB: number;
  /** CIDR Docker carves its bridge networks from (daemon.json default-address-pools, size 24), e.g. "172.30.0.0/16". */
  dockerAddressPool: string;
  /** Mount point of the node's Hetzner data volume (the first /dev/disk/by-id/scsi-0HC_Volume_* device, ext4, formatted by Hetzner), e.g. "/srv/data". */
  dataMountPoint: string;
  /** Size at which Docker rotates a container's json-file log, in MiB. Default 10. */
  dockerLogMaxSizeMiB?: number;
  /** Rotated json-file logs Docker keeps per container, the live one included. Default 3. */
  dockerLogMaxFiles?: number;
}

/**
 * Docker Engine major version the nodes run (apt pin `5:28.*` on docker-ce, docker-ce-cli and
 * docker-ce-rootless-extras). 28 is the first major that keeps ports published on 127.0.0.1 away from LAN
 * neighbours; 29 switched fresh installs to the containerd image store, which cAdvisor cannot read
 * (google/cadvisor#3749, #3860), so moving to 29 is a deliberate change, not a side effect of a new node.
 */
export const DOCKER_ENGINE_MAJOR = 28;

/** File the bootstrap writes as its very last step (UTC timestamp inside); a later step waits for it. */
export const BOOTSTRAP_MARKER_PATH = "/var/lib/ai-platform/bootstrap-done";

/** Hetzner Cloud's limit on user data, in bytes. */
export const HETZNER_USER_DATA_LIMIT_BYTES = 32 * 1024;

/** Where the auth key waits for `tailscale up`: tmpfs, so it never reaches a disk; the bootstrap deletes it. */
export const TAILSCALE_AUTH_KEY_PATH = "/run/ai-platform/tailscale-auth-key";

/** The one script runcmd runs. */
export const BOOTSTRAP_SCRIPT_PATH = "/usr/local/lib/ai-platform/bootstrap";

/** Run by docker.service before it starts: waits, bounded, for the tailnet address. */
const WAIT_FOR_TAILNET_SCRIPT_PATH = "/usr/local/lib/ai-platform/wait-for-tailnet-address";

/** Upper bound of that wait, in seconds; below systemd's default start timeout of 90 s. */
const TAILNET_WAIT_SECONDS = 60;

/** Hetzner's own NTP servers (the same its standard images use). */
const HETZNER_NTP_SERVERS = ["ntp1.hetzner.de", "ntp2.hetzner.com", "ntp3.hetzner.net"];

/** The subset of cloud-config this renderer writes; the key order here is the order in the output. */
interface CloudConfig {
  hostname: string;
  preserve_hostname: boolean;
  timezone: string;
  ntp: { enabled: boolean; ntp_client: string; servers: string[] };
  ssh_pwauth: boolean;
  disable_root: boolean;
  package_update: boolean;
  package_upgrade: boolean;
  packages: string[];
  swap?: { filename: string; size: string; maxsize: string };
  bootcmd: string[][];
  write_files: WriteFile[];
  runcmd: string[][];
}

/** One write_files entry; permissions as an octal string, because cloud-init reads them that way. */
interface WriteFile {
  path: string;
  owner: string;
  permissions: string;
  content: string;
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Renders the user data of one node: "#cloud-config" and YAML, the same bytes for the same spec.
 * Throws a plain Error if the hostname is not a DNS label or a tag does not start with "tag:", because both
 * end up in a command line and in the tailnet.
 */
export function renderCloudInit(spec: BootstrapSpec): string {
  checkSpec(spec);
  const logMaxSizeMiB = spec.dockerLogMaxSizeMiB ?? 10;
  const logMaxFiles = spec.dockerLogMaxFiles ?? 3;

  const config: CloudConfig = {
    hostname: spec.hostname,
    preserve_hostname: false,
    timezone: "Etc/UTC",
    ntp: { enabled: true, ntp_client: "systemd-timesyncd", servers: HETZNER_NTP_SERVERS },
    ssh_pwauth: false,
    // Hetzner puts the project's SSH key on root; keep it usable (by key only, see the sshd drop-in).
    disable_root: false,
    package_update: true,
    // Security fixes before anything listens; a new kernel waits for a planned reboot.
    package_upgrade: true,
    packages: ["ca-certificates", "curl", "gnupg", "unattended-upgrades"],
    ...(spec.swapGiB > 0 ? { swap: swapFile(spec.swapGiB) } : {}),
    // bootcmd runs before write_files: cloud-init creates a file first and sets its mode after, so the
    // directory of the auth key is made root-only beforehand.
    bootcmd: [["install", "-d", "-m", "0700", dirname(TAILSCALE_AUTH_KEY_PATH)]],
    write_files: [
      file(TAILSCALE_AUTH_KEY_PATH, "0600", spec.tailscaleAuthKey),
      file("/etc/docker/daemon.json", "0644", dockerDaemonJson(spec.dockerAddressPool, logMaxSizeMiB, logMaxFiles)),
      file("/etc/apt/preferences.d/docker-engine", "0644", DOCKER_APT_PIN),
      file("/etc/sysctl.d/60-ai-platform-nonlocal-bind.conf", "0644", NONLOCAL_BIND_SYSCTL),
      file("/etc/systemd/system/docker.service.d/10-after-tailscale.conf", "0644", DOCKER_AFTER_TAILSCALE_DROPIN),
      file(WAIT_FOR_TAILNET_SCRIPT_PATH, "0755", WAIT_FOR_TAILNET_SCRIPT),
      file("/etc/ssh/sshd_config.d/10-ai-platform.conf", "0644", SSHD_HARDENING),
      file("/etc/apt/apt.conf.d/20auto-upgrades", "0644", AUTO_UPGRADES),
      file(BOOTSTRAP_SCRIPT_PATH, "0755", BOOTSTRAP_SCRIPT),
    ],
    // One command, its arguments quoted by cloud-init; the key travels as a file path, never as a value.
    runcmd: [
      [
        BOOTSTRAP_SCRIPT_PATH,
        spec.hostname,
        spec.tailscaleTags.join(","),
        TAILSCALE_AUTH_KEY_PATH,
        spec.dataMountPoint,
      ],
    ],
  };

  // cloud-init reads YAML 1.1: serializing as 1.1 quotes strings such as "0600" or "on" that it would
  // otherwise read as numbers or booleans.
  const doc = new Document(config, { version: "1.1" });
  // A command reads best on one line, as the argument list it is.
  for (const key of ["bootcmd", "runcmd"]) {
    const commands = doc.get(key);
    if (isSeq(commands)) {
      for (const command of commands.items) {
        if (isSeq(command)) command.flow = true;
      }
    }
  }
  return "#cloud-config\n" + doc.toString({ lineWidth: 0, blockQuote: "literal", flowCollectionPadding: false });
}

function checkSpec(spec: BootstrapSpec): void {
  if (!DNS_LABEL.test(spec.hostname)) {
    throw new Error(
      `cloud-init: hostname "${spec.hostname}" is not a DNS label: use 1-63 lowercase letters, digits and ` +
        `hyphens, starting and ending with a letter or digit (e.g. "ai-prod-inference")`,
    );
  }
  if (spec.tailscaleTags.length === 0) {
    throw new Error(`cloud-init: node "${spec.hostname}" advertises no Tailscale tag: give at least one "tag:..."`);
  }
  for (const tag of spec.tailscaleTags) {
    if (!TAG_PATTERN.test(tag)) {
      throw new Error(
        `cloud-init: Tailscale tag "${tag}" of node "${spec.hostname}" must start with "tag:" followed by ` +
          `a lowercase letter, then lowercase letters, digits or hyphens (e.g. "tag:ai-prod-inference")`,
      );
    }
  }
}

function file(path: string, permissions: string, content: string): WriteFile {
  return { path, owner: "root:root", permissions, content };
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

function swapFile(gib: number): { filename: string; size: string; maxsize: string } {
  const size = `${gib}G`;
  return { filename: "/swapfile", size, maxsize: size };
}

function dockerDaemonJson(pool: string, logMaxSizeMiB: number, logMaxFiles: number): string {
  const daemon = {
    // Bridge networks from the project's own range, so they never collide with the host's or the tailnet's.
    "default-address-pools": [{ base: pool, size: 24 }],
    // A port published without a host address lands on loopback, not on every address of the node.
    ip: "127.0.0.1",
    "log-driver": "json-file",
    "log-opts": { "max-file": String(logMaxFiles), "max-size": `${logMaxSizeMiB}m` },
  };
  return JSON.stringify(daemon, null, 2) + "\n";
}

const DOCKER_APT_PIN = `Explanation: Docker Engine stays on major ${DOCKER_ENGINE_MAJOR} until the project moves it on purpose.
Package: docker-ce docker-ce-cli docker-ce-rootless-extras
Pin: version 5:${DOCKER_ENGINE_MAJOR}.*
Pin-Priority: 1001
`;

// tailscaled brings the tailnet address up after Docker has started at boot (tailscale#11504, #10205), and a
// container publishing a port on an address the host does not have yet fails to start and stays down.
// Non-local bind lets Docker bind that address early; the drop-in below also orders Docker after tailscaled.
const NONLOCAL_BIND_SYSCTL = `# Containers published on the tailnet address must come back after a reboot, although tailscaled
# brings that address up after Docker starts (tailscale#11504, #10205).
net.ipv4.ip_nonlocal_bind = 1
net.ipv6.ip_nonlocal_bind = 1
`;

const DOCKER_AFTER_TAILSCALE_DROPIN = `# Start Docker after tailscaled and give it a bounded wait for the tailnet address, so containers
# published on that address come back after a reboot (tailscale#11504, #10205).
[Unit]
Wants=tailscaled.service
After=tailscaled.service

[Service]
ExecStartPre=${WAIT_FOR_TAILNET_SCRIPT_PATH}
`;

const WAIT_FOR_TAILNET_SCRIPT = String.raw`#!/bin/sh
# ExecStartPre of docker.service: waits up to ${TAILNET_WAIT_SECONDS} s for this node's tailnet IPv4 address.
# It never fails: a node whose tailnet is down still starts its containers (non-local bind lets them bind).
command -v tailscale >/dev/null 2>&1 || exit 0
waited=0
while [ "$waited" -lt ${TAILNET_WAIT_SECONDS} ]; do
  if tailscale ip -4 >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
  waited=$((waited + 1))
done
echo "wait-for-tailnet-address: no tailnet address after ${TAILNET_WAIT_SECONDS} s; starting Docker anyway" >&2
exit 0
`;

const SSHD_HARDENING = `# Tailscale SSH is the way in. This sshd stays for root by key (Coolify needs it locally) and
# the cloud firewall keeps it off the internet. Loaded before 50-cloud-init.conf: the first value wins.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
`;

// Ubuntu's security updates, daily; no automatic reboot, because a reboot restarts every container.
const AUTO_UPGRADES = `APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
Unattended-Upgrade::Automatic-Reboot "false";
`;

// The bootstrap proper. Static text: the node's values arrive as arguments that cloud-init quotes, so no spec
// value is ever parsed as shell. Its output lands in /var/log/cloud-init-output.log, so it never reads the
// auth key itself: `tailscale up` reads the file.
const BOOTSTRAP_SCRIPT = String.raw`#!/bin/bash
# Bootstrap of one ai-platform node, run once by cloud-init: Tailscale, Docker, the data volume, hardening.
# Usage: bootstrap HOSTNAME TAGS AUTH_KEY_FILE DATA_MOUNT_POINT   (TAGS comma-separated)
set -euo pipefail

log() { printf 'bootstrap: %s\n' "$*"; }
die() {
  printf 'bootstrap: error: %s\n' "$*" >&2
  exit 1
}

if [ "$#" -ne 4 ]; then
  die "usage: bootstrap HOSTNAME TAGS AUTH_KEY_FILE DATA_MOUNT_POINT"
fi
node_name=$1
tailscale_tags=$2
auth_key_file=$3
data_mount_point=$4

# The key file goes whatever happens: a failed run must not leave it behind.
trap 'rm -f -- "$auth_key_file"' EXIT

export DEBIAN_FRONTEND=noninteractive
# The apt-daily timers may hold the dpkg lock at first boot: wait for it rather than fail.
apt_get() { apt-get -o DPkg::Lock::Timeout=600 -y -q "$@"; }

# Trusts a vendor's apt key only if it has the pinned primary fingerprint, and only that key.
install_apt_key() {
  local url=$1 fingerprint=$2 keyring=$3 workdir
  workdir=$(mktemp -d)
  curl -fsSL --proto '=https' --retry 5 --retry-delay 3 --retry-all-errors -o "$workdir/download" "$url"
  gpg --homedir "$workdir" --batch --quiet --no-autostart --import "$workdir/download"
  gpg --homedir "$workdir" --batch --quiet --no-autostart --export "$fingerprint" >"$workdir/keyring"
  if [ ! -s "$workdir/keyring" ]; then
    rm -rf -- "$workdir"
    die "the key at $url is not $fingerprint"
  fi
  install -D -m 0644 "$workdir/keyring" "$keyring"
  rm -rf -- "$workdir"
}

# Writes a deb822 source: NAME URI SUITE COMPONENT KEYRING.
write_apt_source() {
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\nSigned-By: %s\n' "$2" "$3" "$4" "$5" \
    >"/etc/apt/sources.list.d/$1.sources"
}

mount_data_volume() {
  local mount_point=$1 device="" waited=0 candidate fs_type mounted_at
  case "$mount_point" in
    *[[:space:]]*) die "data mount point has white space: $mount_point" ;;
    /?*) ;;
    *) die "data mount point is not an absolute path: $mount_point" ;;
  esac
  # Hetzner may attach the volume shortly after the server boots: wait for it, bounded.
  while [ -z "$device" ]; do
    for candidate in /dev/disk/by-id/scsi-0HC_Volume_*; do
      case "$candidate" in *-part*) continue ;; esac
      if [ -b "$candidate" ]; then
        device=$candidate
        break
      fi
    done
    if [ -z "$device" ]; then
      [ "$waited" -lt 300 ] || die "no Hetzner volume at /dev/disk/by-id/scsi-0HC_Volume_* after 300 s"
      sleep 5
      waited=$((waited + 5))
    fi
  done
  # Hetzner formats the volume; formatting here could erase data, so anything but ext4 stops the bootstrap.
  fs_type=$(blkid -o value -s TYPE "$device" || true)
  [ "$fs_type" = ext4 ] || die "$device holds '$fs_type', not ext4; not formatting it"
  mounted_at=$(findmnt -n -o TARGET --source "$(readlink -f "$device")" || true)
  if [ -n "$mounted_at" ] && [ "$mounted_at" != "$mount_point" ]; then
    die "$device is already mounted at $mounted_at: create the volume without automount"
  fi
  mkdir -p "$mount_point"
  if ! mountpoint -q "$mount_point"; then
    # Immutable while nothing is mounted on it: if the volume is missing at some boot (nofail), a container
    # fails to create its data directory instead of writing to the root disk unnoticed.
    chattr +i "$mount_point"
  fi
  if ! awk -v device="$device" '$1 == device { found = 1 } END { exit !found }' /etc/fstab; then
    printf '%s %s ext4 discard,nofail,defaults 0 2\n' "$device" "$mount_point" >>/etc/fstab
  fi
  systemctl daemon-reload
  mountpoint -q "$mount_point" || mount "$mount_point"
  log "data volume $device mounted at $mount_point"
}

join_tailnet() {
  local attempt=1
  if tailscale ip -4 >/dev/null 2>&1; then
    log "already on the tailnet"
    return 0
  fi
  [ -s "$auth_key_file" ] || die "no Tailscale auth key at $auth_key_file"
  # file: lets tailscale read the key itself: it never shows in a process list or in this log.
  until tailscale up --auth-key="file:$auth_key_file" --hostname="$node_name" \
    --advertise-tags="$tailscale_tags" --ssh --timeout=120s; do
    [ "$attempt" -lt 3 ] || die "tailscale up failed $attempt times"
    attempt=$((attempt + 1))
    sleep 15
  done
  log "joined the tailnet as $node_name ($(tailscale ip -4))"
}

log "kernel settings"
sysctl -q -p /etc/sysctl.d/60-ai-platform-nonlocal-bind.conf

log "data volume"
mount_data_volume "$data_mount_point"

log "apt repositories of Tailscale and Docker"
codename=$(awk -F= '$1 == "VERSION_CODENAME" { print $2 }' /etc/os-release)
[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"
install_apt_key "https://pkgs.tailscale.com/stable/ubuntu/$codename.noarmor.gpg" \
  2596A99EAAB33821893C0A79458CA832957F5868 /etc/apt/keyrings/tailscale.gpg
write_apt_source tailscale https://pkgs.tailscale.com/stable/ubuntu "$codename" main /etc/apt/keyrings/tailscale.gpg
install_apt_key https://download.docker.com/linux/ubuntu/gpg \
  9DC858229FC7DD38854AE2D88D81803C0EBFCD88 /etc/apt/keyrings/docker.gpg
write_apt_source docker https://download.docker.com/linux/ubuntu "$codename" stable /etc/apt/keyrings/docker.gpg
apt_get update

log "Tailscale"
apt_get install tailscale
systemctl enable --now tailscaled.service
join_tailnet
rm -f -- "$auth_key_file"

# After the join, so that Docker's first start already finds the tailnet address.
log "Docker Engine ${DOCKER_ENGINE_MAJOR}"
systemctl daemon-reload
apt_get install docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin
docker_version=$(dockerd --version)
case "$docker_version" in
  "Docker version ${DOCKER_ENGINE_MAJOR}."*) ;;
  *) die "expected Docker Engine ${DOCKER_ENGINE_MAJOR}, got: $docker_version" ;;
esac
systemctl enable --now docker.service

log "sshd and unattended upgrades"
# Ubuntu starts sshd from a socket; its check needs the directory the service would have made.
install -d -m 0755 /run/sshd
sshd -t || die "sshd rejects its configuration"
systemctl try-reload-or-restart ssh.service
systemctl enable --now unattended-upgrades.service

# The very last step: whoever waits for the node's bootstrap waits for this file.
install -d -m 0755 ${dirname(BOOTSTRAP_MARKER_PATH)}
date -u +%Y-%m-%dT%H:%M:%SZ >${BOOTSTRAP_MARKER_PATH}.tmp
mv -f ${BOOTSTRAP_MARKER_PATH}.tmp ${BOOTSTRAP_MARKER_PATH}
log "done"
`;
