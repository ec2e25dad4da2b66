// The user data of a node: valid for the real cloud-init, its scripts clean for the real shellcheck, the auth
// key in one root-only file, and the same bytes for the same spec.
//
// Needs the Debian packages `cloud-init` and `shellcheck` (apt-get install -y cloud-init shellcheck); without
// them the tests fail, they never skip.
//
// Snapshots live in test/render/fixtures/cloudInit/. After an intended change, regenerate them with
//   UPDATE_SNAPSHOTS=1 node --import tsx --test test/render/cloudInit.test.ts
// and review the diff: every change of user data replaces the servers.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { assertShellcheckClean, assertValidCloudConfig } from "../validators";
import {
  BOOTSTRAP_MARKER_PATH,
  BOOTSTRAP_SCRIPT_PATH,
  DOCKER_AFTER_DATA_VOLUME_DROPIN_PATH,
  DOCKER_ENGINE_MAJOR,
  HETZNER_USER_DATA_LIMIT_BYTES,
  renderCloudInit,
  type BootstrapSpec,
} from "../../components/render/cloudInit";

const SNAPSHOT_DIR = path.join(__dirname, "fixtures", "cloudInit");
const UPDATE_SNAPSHOTS = process.env.UPDATE_SNAPSHOTS === "1";

// Fake keys, shaped unlike real ones so that no secret scanner mistakes them for a leak.
const prodInference: BootstrapSpec = {
  hostname: "ai-prod-inference",
  tailscaleAuthKey: "fake-tailscale-auth-key-prod-inference-0123456789abcdef",
  tailscaleTags: ["tag:ai-prod-inference"],
  swapGiB: 4,
  dockerAddressPool: "172.30.0.0/16",
  dataMountPoint: "/srv/data",
};

const devOperations: BootstrapSpec = {
  hostname: "ai-dev-operations",
  tailscaleAuthKey: "fake-tailscale-auth-key-dev-operations-fedcba9876543210",
  tailscaleTags: ["tag:ai-dev-operations", "tag:ai-dev"],
  swapGiB: 0,
  dockerAddressPool: "172.31.0.0/16",
  dataMountPoint: "/srv/data",
  dockerLogMaxSizeMiB: 20,
  dockerLogMaxFiles: 5,
};

const SPECS = [prodInference, devOperations];

interface WriteFile {
  path: string;
  owner: string;
  permissions: string;
  content: string;
}

interface UserData {
  bootcmd: string[][];
  runcmd: string[][];
  write_files: WriteFile[];
  swap?: { filename: string; size: string };
}

/** Parsed as cloud-init reads it: YAML 1.1. */
function parseUserData(text: string): UserData {
  return parse(text, { version: "1.1" }) as UserData;
}

function writtenFile(userData: UserData, filePath: string): WriteFile {
  const found = userData.write_files.find((f) => f.path === filePath);
  assert.ok(found, `write_files has no ${filePath}`);
  return found;
}

/** The shell scripts the user data carries: write_files with a shebang, and the command lists cloud-init runs. */
function embeddedScripts(userData: UserData): { name: string; text: string }[] {
  const files = userData.write_files
    .filter((f) => f.content.startsWith("#!"))
    .map((f) => ({ name: f.path, text: f.content }));
  return [
    ...files,
    { name: "runcmd", text: shellify(userData.runcmd) },
    { name: "bootcmd", text: shellify(userData.bootcmd) },
  ];
}

/** The script cloud-init makes of a runcmd or bootcmd list: each argument in single quotes, under /bin/sh. */
function shellify(commands: string[][]): string {
  const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
  return "#!/bin/sh\n" + commands.map((command) => command.map(quote).join(" ")).join("\n") + "\n";
}

function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe("renderCloudInit", () => {
  for (const spec of SPECS) {
    describe(spec.hostname, () => {
      const text = renderCloudInit(spec);
      const userData = parseUserData(text);

      it("passes the real `cloud-init schema` without errors or deprecations", () => {
        assertValidCloudConfig(text);
      });

      it("carries only shell scripts that pass the real shellcheck", () => {
        const scripts = embeddedScripts(userData);
        assert.ok(scripts.some((s) => s.name === BOOTSTRAP_SCRIPT_PATH), "the bootstrap script is missing");
        for (const script of scripts) assertShellcheckClean(script.name, script.text);
      });

      it("matches its committed snapshot", () => {
        const snapshot = path.join(SNAPSHOT_DIR, `${spec.hostname}.yaml`);
        if (UPDATE_SNAPSHOTS) {
          fs.mkdirSync(SNAPSHOT_DIR, { recursive: true });
          fs.writeFileSync(snapshot, text);
        }
        assert.ok(fs.existsSync(snapshot), `no snapshot at ${snapshot}: run with UPDATE_SNAPSHOTS=1 once`);
        assert.equal(text, fs.readFileSync(snapshot, "utf8"), "user data changed: review, then UPDATE_SNAPSHOTS=1");
      });

      it(`stays under Hetzner's limit of ${HETZNER_USER_DATA_LIMIT_BYTES} bytes`, () => {
        assert.ok(Buffer.byteLength(text, "utf8") < HETZNER_USER_DATA_LIMIT_BYTES);
      });
    });
  }

  describe("output", () => {
    it("starts with the #cloud-config line", () => {
      assert.ok(renderCloudInit(prodInference).startsWith("#cloud-config\n"));
    });

    it("quotes what YAML 1.1 would read as another type, as cloud-init reads YAML 1.1", () => {
      const parsed = parse(renderCloudInit({ ...prodInference, hostname: "on" }), { version: "1.1" }) as {
        hostname: unknown;
      };
      assert.equal(parsed.hostname, "on");
    });

    it("is the same for the same spec, whatever else changes, and leaves the spec alone", () => {
      const first = renderCloudInit(prodInference);
      const copy = structuredClone(prodInference);
      const frozen = Object.freeze({ ...copy, tailscaleTags: Object.freeze([...copy.tailscaleTags]) });
      const previousTz = process.env.TZ;
      process.env.TZ = "Pacific/Kiritimati";
      try {
        assert.equal(renderCloudInit(frozen as BootstrapSpec), first);
      } finally {
        process.env.TZ = previousTz;
      }
      assert.equal(renderCloudInit(prodInference), first);
    });

    it("changes only the key's line when only the auth key changes", () => {
      const before = renderCloudInit(prodInference).split("\n");
      const otherKey = "fake-tailscale-auth-key-rotated-00000000";
      const after = renderCloudInit({ ...prodInference, tailscaleAuthKey: otherKey }).split("\n");
      assert.equal(after.length, before.length);
      const changed = before.flatMap((line, i) => (line === after[i] ? [] : [i]));
      assert.equal(changed.length, 1, `lines changed: ${changed.join(", ")}`);
      assert.ok(before[changed[0]].includes(prodInference.tailscaleAuthKey));
      assert.ok(after[changed[0]].includes(otherKey));
    });

    it("is under 32 KiB even for the longest names and many tags", () => {
      const longest: BootstrapSpec = {
        hostname: "a".repeat(63),
        tailscaleAuthKey: "k".repeat(256),
        tailscaleTags: Array.from({ length: 20 }, (_, i) => `tag:${"t".repeat(40)}-${i}`),
        swapGiB: 64,
        dockerAddressPool: "172.30.0.0/16",
        dataMountPoint: "/srv/" + "d".repeat(200),
      };
      const size = Buffer.byteLength(renderCloudInit(longest), "utf8");
      assert.ok(size < HETZNER_USER_DATA_LIMIT_BYTES, `${size} bytes`);
    });
  });

  describe("the Tailscale auth key", () => {
    const key = prodInference.tailscaleAuthKey;
    const text = renderCloudInit(prodInference);
    const userData = parseUserData(text);

    it("appears exactly once, as the whole content of one root-only file on tmpfs", () => {
      assert.equal(occurrences(text, key), 1);
      const holders = userData.write_files.filter((f) => f.content.includes(key));
      assert.equal(holders.length, 1);
      const [holder] = holders;
      assert.equal(holder.content, key);
      assert.equal(holder.permissions, "0600");
      assert.equal(holder.owner, "root:root");
      assert.ok(holder.path.startsWith("/run/"), `${holder.path} is not on /run (tmpfs)`);
      // cloud-init sets a file's mode only after writing it: the directory is made root-only before (bootcmd).
      const dir = path.posix.dirname(holder.path);
      assert.deepEqual(userData.bootcmd, [["install", "-d", "-m", "0700", dir]]);
    });

    it("is never on a command line, and the bootstrap hands tailscale the file, never its content", () => {
      for (const command of [...userData.runcmd, ...userData.bootcmd]) {
        assert.ok(!command.join(" ").includes(key));
      }
      const bootstrap = writtenFile(userData, BOOTSTRAP_SCRIPT_PATH).content;
      assert.match(bootstrap, /tailscale up --auth-key="file:\$auth_key_file"/);
      const uses = bootstrap.split("\n").filter((line) => line.includes("auth_key_file"));
      for (const line of uses) {
        assert.doesNotMatch(line, /\b(cat|echo|printf|tee|head|tail|less|xargs|read)\b|set -x/, line);
      }
      assert.doesNotMatch(bootstrap, /set -x|set -o xtrace/);
      // Deleted after the join, and on any exit.
      assert.match(bootstrap, /trap 'rm -f -- "\$auth_key_file"' EXIT/);
      assert.match(bootstrap, /^join_tailnet\nrm -f -- "\$auth_key_file"$/m);
    });
  });

  describe("Docker", () => {
    const userData = parseUserData(renderCloudInit(devOperations));

    it("gets a daemon.json with loopback as default address, log rotation and the spec's pool", () => {
      const daemon = JSON.parse(writtenFile(userData, "/etc/docker/daemon.json").content) as Record<string, unknown>;
      assert.equal(daemon.ip, "127.0.0.1");
      assert.equal(daemon["log-driver"], "json-file");
      assert.deepEqual(daemon["log-opts"], { "max-file": "5", "max-size": "20m" });
      assert.deepEqual(daemon["default-address-pools"], [{ base: "172.31.0.0/16", size: 24 }]);
    });

    it("rotates logs at 10 MiB x 3 files by default", () => {
      const prod = parseUserData(renderCloudInit(prodInference));
      const daemon = JSON.parse(writtenFile(prod, "/etc/docker/daemon.json").content) as Record<string, unknown>;
      assert.deepEqual(daemon["log-opts"], { "max-file": "3", "max-size": "10m" });
    });

    it(`is pinned to Engine ${DOCKER_ENGINE_MAJOR} from Docker's apt repository, and the bootstrap checks it`, () => {
      const pin = writtenFile(userData, "/etc/apt/preferences.d/docker-engine").content;
      assert.match(pin, /^Package: docker-ce docker-ce-cli docker-ce-rootless-extras$/m);
      assert.match(pin, new RegExp(`^Pin: version 5:${DOCKER_ENGINE_MAJOR}\\.\\*$`, "m"));
      assert.match(pin, /^Pin-Priority: 1001$/m);
      const bootstrap = writtenFile(userData, BOOTSTRAP_SCRIPT_PATH).content;
      assert.match(bootstrap, /https:\/\/download\.docker\.com\/linux\/ubuntu/);
      assert.match(bootstrap, /apt_get install docker-ce docker-ce-cli containerd\.io/);
      assert.ok(bootstrap.includes(`"Docker version ${DOCKER_ENGINE_MAJOR}."*) ;;`));
      assert.doesNotMatch(bootstrap, /get\.docker\.com/);
    });

    it("starts after tailscaled and may bind the tailnet address before it exists (tailscale #11504, #10205)", () => {
      const sysctl = writtenFile(userData, "/etc/sysctl.d/60-ai-platform-nonlocal-bind.conf").content;
      assert.match(sysctl, /^net\.ipv4\.ip_nonlocal_bind = 1$/m);
      assert.match(sysctl, /^net\.ipv6\.ip_nonlocal_bind = 1$/m);
      const dropIn = writtenFile(userData, "/etc/systemd/system/docker.service.d/10-after-tailscale.conf").content;
      assert.match(dropIn, /^After=tailscaled\.service$/m);
      const execStartPre = /^ExecStartPre=(\S+)$/m.exec(dropIn);
      assert.ok(execStartPre, "the drop-in has no ExecStartPre");
      const wait = writtenFile(userData, execStartPre[1]);
      assert.equal(wait.permissions, "0755");
      assert.match(wait.content, /tailscale ip -4/);
      assert.match(wait.content, /while \[ "\$waited" -lt \d+ \]/, "the wait must be bounded");
      assert.match(wait.content, /exit 0\n$/, "the wait must never keep Docker down");
    });

    it("starts only once the data volume is mounted, whose fstab entry (nofail) orders it before nothing", () => {
      const dropIn = writtenFile(userData, DOCKER_AFTER_DATA_VOLUME_DROPIN_PATH);
      assert.ok(dropIn.path.startsWith("/etc/systemd/system/docker.service.d/") && dropIn.path.endsWith(".conf"));
      assert.equal(dropIn.permissions, "0644");
      assert.match(dropIn.content, /^\[Unit\]\nRequiresMountsFor=\/srv\/data$/m);
      const bootstrap = writtenFile(userData, BOOTSTRAP_SCRIPT_PATH).content;
      assert.match(bootstrap, /ext4 discard,nofail,defaults/, "the drop-in is needed because the mount has nofail");
    });
  });

  describe("the host", () => {
    const prod = parseUserData(renderCloudInit(prodInference));
    const dev = parseUserData(renderCloudInit(devOperations));
    const bootstrap = writtenFile(prod, BOOTSTRAP_SCRIPT_PATH).content;

    it("runs one bootstrap script with the node's values as quoted arguments", () => {
      assert.deepEqual(prod.runcmd, [
        [
          BOOTSTRAP_SCRIPT_PATH,
          "ai-prod-inference",
          "tag:ai-prod-inference",
          "/run/ai-platform/tailscale-auth-key",
          "/srv/data",
        ],
      ]);
      assert.equal(dev.runcmd[0][2], "tag:ai-dev-operations,tag:ai-dev");
      assert.equal(writtenFile(prod, BOOTSTRAP_SCRIPT_PATH).permissions, "0755");
    });

    it("joins the tailnet with its tags, its name and Tailscale SSH", () => {
      assert.match(bootstrap, /--hostname="\$node_name"/);
      assert.match(bootstrap, /--advertise-tags="\$tailscale_tags"/);
      assert.match(bootstrap, / --ssh /);
      assert.match(bootstrap, /https:\/\/pkgs\.tailscale\.com\/stable\/ubuntu/);
    });

    it("mounts the data volume by a glob, with nofail, and carries no volume id", () => {
      assert.ok(bootstrap.includes("/dev/disk/by-id/scsi-0HC_Volume_*"));
      assert.match(bootstrap, /ext4 discard,nofail,defaults/);
      assert.doesNotMatch(renderCloudInit(prodInference), /HC_Volume_\d/);
    });

    it("writes the marker file as its very last step", () => {
      const commands = bootstrap
        .trimEnd()
        .split("\n")
        .filter((line) => line.trim() !== "" && !line.trim().startsWith("#") && !line.startsWith("log "));
      assert.equal(commands.at(-1), `mv -f ${BOOTSTRAP_MARKER_PATH}.tmp ${BOOTSTRAP_MARKER_PATH}`);
    });

    it("hardens sshd: no passwords, root by key only", () => {
      const sshd = writtenFile(prod, "/etc/ssh/sshd_config.d/10-ai-platform.conf").content;
      assert.match(sshd, /^PasswordAuthentication no$/m);
      assert.match(sshd, /^PermitRootLogin prohibit-password$/m);
      assert.match(renderCloudInit(prodInference), /^ssh_pwauth: false$/m);
    });

    it("turns on unattended upgrades and time sync", () => {
      const periodic = writtenFile(prod, "/etc/apt/apt.conf.d/20auto-upgrades").content;
      assert.match(periodic, /^APT::Periodic::Unattended-Upgrade "1";$/m);
      const text = renderCloudInit(prodInference);
      assert.match(text, /^ {2}- unattended-upgrades$/m);
      assert.match(text, /^ntp:\n {2}enabled: true\n {2}ntp_client: systemd-timesyncd$/m);
    });

    it("makes a swap file of the given size, and none for 0", () => {
      assert.deepEqual(prod.swap, { filename: "/swapfile", size: "4G", maxsize: "4G" });
      assert.equal(dev.swap, undefined);
    });
  });

  describe("names it refuses", () => {
    for (const hostname of ["AI-Prod", "ai_prod", "-ai", "ai-", "", "a".repeat(64), "ai.prod"]) {
      it(`hostname ${JSON.stringify(hostname)}`, () => {
        assert.throws(() => renderCloudInit({ ...prodInference, hostname }), /is not a DNS label/);
      });
    }

    for (const tag of ["ai-prod", "group:ai", "tag:", "tag:a b", "tag:a,tag:b"]) {
      it(`tag ${JSON.stringify(tag)}`, () => {
        assert.throws(() => renderCloudInit({ ...prodInference, tailscaleTags: [tag] }), /must start with "tag:"/);
      });
    }

    for (const dataMountPoint of ["srv/data", "/srv/data dir", "/srv/%h", "/srv/data/", "/", "/srv//data"]) {
      it(`data mount point ${JSON.stringify(dataMountPoint)}`, () => {
        assert.throws(() => renderCloudInit({ ...prodInference, dataMountPoint }), /data mount point .* must be an absolute path/);
      });
    }

    it("no tag at all", () => {
      assert.throws(() => renderCloudInit({ ...prodInference, tailscaleTags: [] }), /no Tailscale tag/);
    });
  });
});
