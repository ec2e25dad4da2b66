/**
 * Coolify's install and upgrade (components/render/coolify.ts), run for real: the rendered script, clean for the
 * real shellcheck, runs unchanged as root in a copy-on-write view of this machine's root filesystem
 * (test/validators/rootSandbox.ts), against stand-ins for what cannot be had here:
 * - `curl`, which records what it was asked and hands over a stand-in of Coolify's install.sh instead of the
 *   one on Coolify's CDN;
 * - that stand-in installer, which records its arguments and environment and does what the real one (its
 *   scripts/install.sh and scripts/upgrade.sh at the pinned version) does with them that matters here: a pool
 *   that is not x.x.x.x/nn becomes its default 10.0.0.0/8, and a pool other than daemon.json's rewrites
 *   daemon.json without its "ip"; then Coolify's compose files, with docker-compose.custom.yml when it is
 *   there, make the containers;
 * - `docker`, which keeps containers, their images, ports and networks in files, and publishes a compose
 *   service's ports as the real Docker Compose (2.38.2, built by .ci/install-compose.sh) merges its files,
 *   each port without an address on daemon.json's "ip", as Docker does.
 * The compose files stand for Coolify's with the facts that matter here only: the services, containers and
 * the ports they publish.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { afterEach, before, beforeEach, describe, it } from "node:test";
import { parse } from "yaml";
import { COOLIFY_VERSION } from "../../components/catalog/images";
import { COOLIFY_INSTALLER_URL, COOLIFY_PATHS, renderCoolifyInstall, type CoolifyInstallSpec } from "../../components/render/coolify";
import { renderCloudInit } from "../../components/render/cloudInit";
import { PROJECT_ROOT } from "../harness";
import { assertShellcheckClean, requireBinary } from "../validators";
import { RootSandbox } from "../validators/rootSandbox";

const COMPOSE = path.join(PROJECT_ROOT, ".tools", "bin", "docker-compose");
const STANDINS = "/opt/stand-ins";
const STATE = "/var/lib/stand-ins";
const PASSWORD = "ROOT_USER_PASSWORD=Stand-in-Pass-1\n";

const SPEC: CoolifyInstallSpec = {
  version: COOLIFY_VERSION,
  adminEmail: "ops@example.org",
  dockerAddressPool: "172.30.0.0/16",
  tailnetAddress: "100.64.0.9",
};

/** The bootstrap's daemon.json, as cloud-init writes it on every node. */
function bootstrapDaemonJson(pool: string): string {
  const userData = parse(
    renderCloudInit({ hostname: "ai-test-operations", tailscaleAuthKey: "tskey-x", tailscaleTags: ["tag:ai-test-operations"], swapGiB: 0, dockerAddressPool: pool, dataMountPoint: "/srv/data" }),
  ) as { write_files: { path: string; content: string }[] };
  const file = userData.write_files.find((f) => f.path === "/etc/docker/daemon.json");
  assert.ok(file, "the bootstrap writes daemon.json");
  return file.content;
}

// The ports of Coolify's docker-compose.prod.yml and the containers of its docker-compose.yml (at 4.1.1).
const COOLIFY_COMPOSE = `services:
  coolify:
    container_name: coolify
    image: "ghcr.io/coollabsio/coolify:\${LATEST_IMAGE:-latest}"
  soketi:
    container_name: coolify-realtime
    image: "ghcr.io/coollabsio/coolify-realtime:1.0.15"
`;
const COOLIFY_COMPOSE_PROD = `services:
  coolify:
    ports:
      - "\${APP_PORT:-8000}:8080"
  soketi:
    ports:
      - "\${SOKETI_PORT:-6001}:6001"
      - "6002:6002"
`;
// The proxy's compose file as Coolify writes it (bootstrap/helpers/proxy.php, Traefik), with the facts that matter.
const PROXY_COMPOSE = `name: coolify-proxy
networks:
  coolify:
    external: true
services:
  traefik:
    container_name: coolify-proxy
    image: "traefik:v3.6"
    networks: [coolify]
    ports:
      - "80:80"
      - "443:443"
      - "443:443/udp"
      - "8080:8080"
`;

/** compose-publish CONTAINER SERVICE [COMPOSE ARGS...]: records SERVICE's ports as `docker port` prints them. */
const COMPOSE_PUBLISH = `#!/bin/bash
set -euo pipefail
container=$1 service=$2
shift 2
default_ip=$(jq -r '.ip // "0.0.0.0"' /etc/docker/daemon.json)
mkdir -p ${STATE}/docker/$container
${COMPOSE} "$@" config --format json |
  jq -r --arg s "$service" --arg ip "$default_ip" '.services[$s].ports[] |
    (.host_ip // $ip) as $h | "\\(.target)/\\(.protocol) " + (if ($h | contains(":")) then "[\\($h)]" else $h end) + ":\\(.published)"' \\
  >${STATE}/docker/$container/ports
`;

const DOCKER = `#!/bin/bash
# Stands for Docker: containers are directories of ${STATE}/docker with their image, ports and networks.
set -euo pipefail
echo "$PWD: $*" >>${STATE}/docker.log
c=${STATE}/docker
case "$1" in
  inspect)
    if [ "$2" = --format ]; then format=$3 name=$4; else format="" name=$2; fi
    [ -f "$c/$name/image" ] || { echo "Error: No such object: $name" >&2; exit 1; }
    case "$format" in
      "") echo "[{}]" ;;
      "{{.Config.Image}}") cat "$c/$name/image" ;;
      "{{json .NetworkSettings.Networks}}") jq -Rn '[inputs | {(.): {}}] | add // {}' <"$c/$name/networks" ;;
      *) echo "docker stand-in: no format $format" >&2; exit 1 ;;
    esac ;;
  port)
    [ -f "$c/$2/image" ] || exit 1
    awk -v t="$3" '$1 == t { print $2 }' "$c/$2/ports" ;;
  network)
    [ "$2" = connect ] || exit 1
    grep -qxF "$3" "$c/$4/networks" && { echo "endpoint already exists" >&2; exit 1; }
    echo "$3" >>"$c/$4/networks" ;;
  compose)
    # Coolify's proxy, made again from the compose files in this directory, on its compose networks only.
    [ "$*" = "compose up -d --wait --remove-orphans" ] || exit 1
    ${STANDINS}/compose-publish coolify-proxy traefik
    echo coolify >"$c/coolify-proxy/networks" ;;
  *) echo "docker stand-in: $*" >&2; exit 1 ;;
esac
`;

const CURL = `#!/bin/sh
# Stands for curl: records what it was asked, and hands over the stand-in of Coolify's installer.
echo "$*" >>${STATE}/curl.log
out="" url=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    https://*) url=$1; shift ;;
    *) shift ;;
  esac
done
[ "$url" = ${COOLIFY_INSTALLER_URL} ] || { echo "curl stand-in: nothing at $url" >&2; exit 22; }
cp ${STANDINS}/coolify-install.sh "$out"
`;

const INSTALLER = `#!/bin/bash
# Stands for Coolify's install.sh: records what it was asked, and does what the real one does with it.
set -euo pipefail
jq -cn --args '$ARGS.positional as $args | {$args, pool: env.DOCKER_ADDRESS_POOL_BASE, size: env.DOCKER_ADDRESS_POOL_SIZE,
  autoupdate: env.AUTOUPDATE, user: env.ROOT_USERNAME, email: env.ROOT_USER_EMAIL, password: (env.ROOT_USER_PASSWORD != null)}' "$@" \\
  >>${STATE}/installer.log
pool=\${DOCKER_ADDRESS_POOL_BASE:-10.0.0.0/8}
[[ $pool =~ ^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+/[0-9]+$ ]] || pool=10.0.0.0/8
if [ "$(jq -r '.["default-address-pools"][0].base' /etc/docker/daemon.json)" != "$pool" ]; then
  cp /etc/docker/daemon.json /etc/docker/daemon.json.original-stand-in
  jq -n --arg pool "$pool" '{"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"},
    "default-address-pools": [{base: $pool, size: 24}]}' >/etc/docker/daemon.json
fi
mkdir -p /data/coolify/source
cp ${STANDINS}/docker-compose.yml ${STANDINS}/docker-compose.prod.yml /data/coolify/source/
files=(-f /data/coolify/source/docker-compose.yml -f /data/coolify/source/docker-compose.prod.yml)
if [ -f /data/coolify/source/docker-compose.custom.yml ] && [ ! -f ${STATE}/ignore-custom ]; then
  files+=(-f /data/coolify/source/docker-compose.custom.yml)
fi
export LATEST_IMAGE=$1
${STANDINS}/compose-publish coolify coolify "\${files[@]}"
${STANDINS}/compose-publish coolify-realtime soketi "\${files[@]}"
echo "ghcr.io/coollabsio/coolify:$1" >${STATE}/docker/coolify/image
echo "ghcr.io/coollabsio/coolify-realtime:1.0.15" >${STATE}/docker/coolify-realtime/image
echo coolify | tee ${STATE}/docker/coolify/networks >${STATE}/docker/coolify-realtime/networks
`;

interface InstallerCall {
  args: string[];
  pool: string;
  size: string;
  autoupdate: string;
  user: string;
  email: string;
  password: boolean;
}

describe("Coolify's install script", () => {
  it("passes shellcheck, with and without publicWeb", () => {
    assertShellcheckClean("Coolify install", renderCoolifyInstall(SPEC));
    assertShellcheckClean("Coolify install (publicWeb)", renderCoolifyInstall({ ...SPEC, publicWeb: { ipv4: "203.0.113.10", ipv6: "2001:db8::10" } }));
  });

  it("refuses a pool without its prefix, which the installer would replace by 10.0.0.0/8", () => {
    assert.throws(() => renderCoolifyInstall({ ...SPEC, dockerAddressPool: "172.30.0.0" }), /takes the Docker address pool as x\.x\.x\.x\/nn; got "172\.30\.0\.0"/);
  });
});

describe("Coolify's install script, run as root against stand-ins of Docker and Coolify's installer", () => {
  let box: RootSandbox;
  const script = (spec: Partial<CoolifyInstallSpec> = {}) => renderCoolifyInstall({ ...SPEC, ...spec });
  const runScript = (text: string, input = PASSWORD) => {
    box.write("/root/coolify-install", text, 0o700);
    return box.run(["bash", "/root/coolify-install"], { input, env: { PATH: `${STANDINS}/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: "/root" } });
  };
  const calls = (): InstallerCall[] => (box.read(`${STATE}/installer.log`) ?? "").split("\n").filter(Boolean).map((l) => JSON.parse(l) as InstallerCall);
  const ports = (container: string) => (box.read(`${STATE}/docker/${container}/ports`) ?? "").split("\n").filter(Boolean).sort();

  before(() => requireBinary(COMPOSE, "build it with `bash .ci/install-compose.sh` (Docker Compose 2.38.2 from the Go module proxy)"));
  beforeEach(() => {
    box = new RootSandbox();
    box.write("/etc/docker/daemon.json", bootstrapDaemonJson(SPEC.dockerAddressPool));
    for (const [name, text] of [["bin/docker", DOCKER], ["bin/curl", CURL], ["compose-publish", COMPOSE_PUBLISH], ["coolify-install.sh", INSTALLER]]) {
      box.write(`${STANDINS}/${name}`, text, 0o755);
    }
    box.write(`${STANDINS}/docker-compose.yml`, COOLIFY_COMPOSE);
    box.write(`${STANDINS}/docker-compose.prod.yml`, COOLIFY_COMPOSE_PROD);
    box.write(`${STATE}/docker/.keep`, "");
  });
  afterEach(() => box?.close());

  it("on a new node: fetches Coolify's installer, asks it for the pinned version with the pool whole, and Coolify answers on the tailnet address", () => {
    const run = runScript(script());
    assert.equal(run.status, 0, run.stderr);
    assert.match(box.read(`${STATE}/curl.log`) ?? "", new RegExp(`--proto =https .*${COOLIFY_INSTALLER_URL.replace(/\./g, "\\.")} -o `));
    assert.deepEqual(calls(), [
      { args: [COOLIFY_VERSION], pool: "172.30.0.0/16", size: "24", autoupdate: "false", user: "admin", email: "ops@example.org", password: true },
    ]);
    assert.deepEqual(ports("coolify"), ["8080/tcp 100.64.0.9:8000", "8080/tcp 127.0.0.1:8000"], "the UI on the tailnet address, and on loopback as before");
    assert.deepEqual(ports("coolify-realtime"), ["6001/tcp 100.64.0.9:6001", "6001/tcp 127.0.0.1:6001", "6002/tcp 100.64.0.9:6002", "6002/tcp 127.0.0.1:6002"]);
    assert.equal(box.read("/etc/docker/daemon.json"), bootstrapDaemonJson(SPEC.dockerAddressPool), "daemon.json is the bootstrap's");
    assert.equal(box.read(COOLIFY_PATHS.proxyOverride), undefined, "no proxy override: the proxy stays on loopback");
    assert.match(run.stdout, new RegExp(`coolify: ${COOLIFY_VERSION.replace(/\./g, "\\.")}, its UI on http://100\\.64\\.0\\.9:8000`));
    assert.doesNotMatch(run.stdout + run.stderr, /Stand-in-Pass-1/, "the password shows nowhere");
  });

  it("run again with nothing changed, it leaves Coolify alone; with a new version, the installer upgrades it to that version", () => {
    assert.equal(runScript(script()).status, 0);
    const again = runScript(script());
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /is installed/);
    assert.equal(calls().length, 1, "no second install");

    const upgrade = runScript(script({ version: "4.1.2" }));
    assert.equal(upgrade.status, 0, upgrade.stderr);
    assert.deepEqual(calls().map((c) => c.args), [[COOLIFY_VERSION], ["4.1.2"]]);
    assert.equal(box.read(`${STATE}/docker/coolify/image`), "ghcr.io/coollabsio/coolify:4.1.2\n");
    assert.deepEqual(ports("coolify"), ["8080/tcp 100.64.0.9:8000", "8080/tcp 127.0.0.1:8000"], "the ports survive the upgrade");
  });

  it("another tailnet address: the installer runs again and Coolify moves to it", () => {
    assert.equal(runScript(script()).status, 0);
    const moved = runScript(script({ tailnetAddress: "100.64.0.77" }));
    assert.equal(moved.status, 0, moved.stderr);
    assert.equal(calls().length, 2);
    assert.deepEqual(ports("coolify"), ["8080/tcp 100.64.0.77:8000", "8080/tcp 127.0.0.1:8000"]);
  });

  it("stops, naming daemon.json and what to do, when the installer took the pool for another and rewrote daemon.json", () => {
    // daemon.json carves from another pool than the one handed over: the installer rewrites it, without "ip".
    box.write("/etc/docker/daemon.json", bootstrapDaemonJson("10.210.0.0/16"));
    const run = runScript(script());
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /\/etc\/docker\/daemon\.json has "ip": \(none\), not 127\.0\.0\.1, so ports published without an address answer on every address of the node; .*put "ip": "127\.0\.0\.1" back and run systemctl restart docker/);
  });

  it("stops when Coolify's ports are not on the tailnet address after the install", () => {
    box.write(`${STATE}/ignore-custom`, "");
    const run = runScript(script());
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /coolify does not publish its port 8080 on 100\.64\.0\.9:8000/);
  });

  it("stops before anything when the password does not come on standard input", () => {
    const run = runScript(script(), "");
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /the root password must arrive on standard input/);
    assert.deepEqual(calls(), []);
  });

  it("publicWeb puts the running proxy's 80 and 443 on the public addresses, back on its networks; without it, on loopback again", () => {
    assert.equal(runScript(script()).status, 0);
    // Coolify has started its proxy, from its compose file, and connected it to an app's network.
    box.write("/data/coolify/proxy/docker-compose.yml", PROXY_COMPOSE);
    box.write(`${STATE}/docker/coolify-proxy/image`, "traefik:v3.6\n");
    box.write(`${STATE}/docker/coolify-proxy/networks`, "coolify\napp-network-1\n");
    assert.equal(box.run([`${STANDINS}/compose-publish`, "coolify-proxy", "traefik"], { cwd: "/data/coolify/proxy" }).status, 0);
    assert.deepEqual(ports("coolify-proxy"), ["443/tcp 127.0.0.1:443", "443/udp 127.0.0.1:443", "80/tcp 127.0.0.1:80", "8080/tcp 127.0.0.1:8080"]);

    const publicWeb = runScript(script({ publicWeb: { ipv4: "203.0.113.10", ipv6: "2001:db8::10" } }));
    assert.equal(publicWeb.status, 0, publicWeb.stderr);
    assert.deepEqual(ports("coolify-proxy"), [
      "443/tcp 127.0.0.1:443",
      "443/tcp 203.0.113.10:443",
      "443/tcp [2001:db8::10]:443",
      "443/udp 127.0.0.1:443",
      "80/tcp 127.0.0.1:80",
      "80/tcp 203.0.113.10:80",
      "80/tcp [2001:db8::10]:80",
      "8080/tcp 127.0.0.1:8080",
    ]);
    assert.deepEqual(box.read(`${STATE}/docker/coolify-proxy/networks`)?.split("\n").filter(Boolean).sort(), ["app-network-1", "coolify"]);
    assert.match(box.read(`${STATE}/docker.log`) ?? "", /^\/data\/coolify\/proxy: compose up -d --wait --remove-orphans$/m);
    assert.equal(calls().length, 1, "Coolify itself is left alone");

    const off = runScript(script());
    assert.equal(off.status, 0, off.stderr);
    assert.equal(box.read(COOLIFY_PATHS.proxyOverride), undefined);
    assert.deepEqual(ports("coolify-proxy"), ["443/tcp 127.0.0.1:443", "443/udp 127.0.0.1:443", "80/tcp 127.0.0.1:80", "8080/tcp 127.0.0.1:8080"]);
  });
});
