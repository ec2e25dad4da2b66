// The bootstrap script of every node, which cloud-init's runcmd runs once (see cloudInit.ts): the Tailscale
// join, Docker Engine, the data volume and the last hardening steps, as one bash script checked by shellcheck.

import { posix } from "node:path";

/**
 * Docker Engine major version the nodes run (apt pin `5:28.*` on docker-ce, docker-ce-cli and
 * docker-ce-rootless-extras). 28 is the first major that keeps ports published on 127.0.0.1 away from LAN
 * neighbours; 29 switched fresh installs to the containerd image store, which cAdvisor cannot read
 * (google/cadvisor#3749, #3860), so moving to 29 is a deliberate change, not a side effect of a new node.
 */
export const DOCKER_ENGINE_MAJOR = 28;

/** The sysctl file that allows non-local binds; cloud-init writes it and the bootstrap applies it at once. */
export const NONLOCAL_BIND_SYSCTL_PATH = "/etc/sysctl.d/60-ai-platform-nonlocal-bind.conf";

/** File the bootstrap writes as its very last step (UTC timestamp inside); a later step waits for it. */
export const BOOTSTRAP_MARKER_PATH = "/var/lib/ai-platform/bootstrap-done";

// The bootstrap proper. Static text: the node's values arrive as arguments that cloud-init quotes, so no spec
// value is ever parsed as shell. Its output lands in /var/log/cloud-init-output.log, so it never reads the
// auth key itself: `tailscale up` reads the file.
export const BOOTSTRAP_SCRIPT = String.raw`#!/bin/bash
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
    # Immutable while nothing is mounted on it: if the volume is missing at some boot (nofail), Docker waits
    # for it (RequiresMountsFor, see cloudInit.ts), and anything else fails to create a directory there
    # instead of writing to the root disk unnoticed.
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
sysctl -q -p ${NONLOCAL_BIND_SYSCTL_PATH}

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
install -d -m 0755 ${posix.dirname(BOOTSTRAP_MARKER_PATH)}
date -u +%Y-%m-%dT%H:%M:%SZ >${BOOTSTRAP_MARKER_PATH}.tmp
mv -f ${BOOTSTRAP_MARKER_PATH}.tmp ${BOOTSTRAP_MARKER_PATH}
log "done"
`;
