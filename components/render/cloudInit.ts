// The cloud-init user data of one node, rendered from typed data.
//
// Bootstrap only: Docker, the Tailscale join, host hardening, the data volume. A change of user data replaces
// the Hetzner server, so nothing about services or models may enter here; those reach the node later through
// the Docker provider over Tailscale SSH. The script that runcmd runs is in bootstrapScript.ts.

import { posix } from "node:path";
import { TAG_PATTERN } from "../catalog/identities";
import { Document, isSeq } from "yaml";
import { BOOTSTRAP_SCRIPT, DOCKER_ENGINE_MAJOR, NONLOCAL_BIND_SYSCTL_PATH } from "./bootstrapScript";

export { BOOTSTRAP_MARKER_PATH, DOCKER_ENGINE_MAJOR } from "./bootstrapScript";

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

/** Hetzner Cloud's limit on user data, in bytes. */
export const HETZNER_USER_DATA_LIMIT_BYTES = 32 * 1024;

/** Where the auth key waits for `tailscale up`: tmpfs, so it never reaches a disk; the bootstrap deletes it. */
export const TAILSCALE_AUTH_KEY_PATH = "/run/ai-platform/tailscale-auth-key";

/** The one script runcmd runs. */
export const BOOTSTRAP_SCRIPT_PATH = "/usr/local/lib/ai-platform/bootstrap";

/** The docker.service drop-in that orders Docker after the data volume's mount. */
export const DOCKER_AFTER_DATA_VOLUME_DROPIN_PATH = "/etc/systemd/system/docker.service.d/20-after-data-volume.conf";

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

/** An absolute path that systemd takes literally in a unit file (no specifier %, no escape, no space). */
const PLAIN_ABSOLUTE_PATH = /^(\/[A-Za-z0-9._-]+)+$/;

/**
 * Renders the user data of one node: "#cloud-config" and YAML, the same bytes for the same spec.
 * Throws a plain Error if the hostname is not a DNS label or a tag does not start with "tag:", because both
 * end up in a command line and in the tailnet, or if the data mount point is not a plain absolute path, because
 * a systemd unit names it.
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
    bootcmd: [["install", "-d", "-m", "0700", posix.dirname(TAILSCALE_AUTH_KEY_PATH)]],
    write_files: [
      file(TAILSCALE_AUTH_KEY_PATH, "0600", spec.tailscaleAuthKey),
      file("/etc/docker/daemon.json", "0644", dockerDaemonJson(spec.dockerAddressPool, logMaxSizeMiB, logMaxFiles)),
      file("/etc/apt/preferences.d/docker-engine", "0644", DOCKER_APT_PIN),
      file(NONLOCAL_BIND_SYSCTL_PATH, "0644", NONLOCAL_BIND_SYSCTL),
      file("/etc/systemd/system/docker.service.d/10-after-tailscale.conf", "0644", DOCKER_AFTER_TAILSCALE_DROPIN),
      file(DOCKER_AFTER_DATA_VOLUME_DROPIN_PATH, "0644", dockerAfterDataVolumeDropIn(spec.dataMountPoint)),
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
  if (!PLAIN_ABSOLUTE_PATH.test(spec.dataMountPoint)) {
    throw new Error(
      `cloud-init: data mount point "${spec.dataMountPoint}" of node "${spec.hostname}" must be an absolute path ` +
        `of letters, digits, ".", "_", "-" and "/" (e.g. "/srv/data"): a systemd unit and the fstab name it`,
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

// The bootstrap's fstab line for the data volume has nofail, so that a node whose volume is missing still boots
// and answers over Tailscale SSH. But systemd.mount(5), nofail: the mount is "only wanted, not required, by
// local-fs.target" and "not ordered before" it, so nothing waits for it, and docker.service (ordered after
// local-fs.target only) can restart Qdrant, Postgres, Prometheus and Grafana before the volume is there.
// RequiresMountsFor= (systemd.unit(5)) "adds dependencies of type Requires= and After= for all mount units
// required to access the specified path": Docker starts once the volume is mounted, and not at all when it
// cannot be (the node still answers Tailscale SSH, and the alerts or the dead man's switch notice the missing
// services), never on the empty mount point. The drop-in is in place before the bootstrap installs Docker, whose
// first start finds the volume already mounted.
function dockerAfterDataVolumeDropIn(dataMountPoint: string): string {
  return `# Start Docker only once the data volume is mounted: its fstab entry has nofail, which orders the
# mount before nothing (systemd.mount(5)), and containers keep their data there.
[Unit]
RequiresMountsFor=${dataMountPoint}
`;
}

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
