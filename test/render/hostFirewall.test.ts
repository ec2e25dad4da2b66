/**
 * The host firewall (components/render/hostFirewall.ts), applied for real: the rendered script runs with the
 * real iptables and ip6tables in a namespace standing for the operations node, and real TCP connections show
 * what reaches what. The node has a public interface (pub0, 203.0.113.10, the internet and Hetzner's metadata
 * service behind it), a tailnet interface (tailscale0, 100.64.0.2 and fd7a:115c:a1e0::2, a tailnet peer behind
 * it), a bridge standing for a Coolify network (an app, and Coolify's own container answering its UI on 8080)
 * and a bridge standing for the platform's network ai-operations (Prometheus).
 *
 * What stands for Docker, said here once: the forwarding, the DOCKER-USER chain that FORWARD jumps to first,
 * the masquerading of each bridge's traffic, and the DNAT of a port published on the tailnet address (Coolify's
 * UI 8000 -> 8080, as the compose override publishes it; Grafana's 3000) are rules this test adds as Docker
 * would; a `docker` on PATH answers `docker info` and the platform network's id. Everything else is the script.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  HOST_FIREWALL_CHAINS,
  HOST_FIREWALL_SCRIPT_PATH,
  HOST_FIREWALL_UNITS,
  renderHostFirewall,
  renderHostFirewallInstall,
  type HostFirewallSpec,
} from "../../components/render/hostFirewall";
import { assertShellcheckClean } from "../validators";
import { NetnsLab } from "../validators/netnsLab";
import { RootSandbox } from "../validators/rootSandbox";

const OPERATIONS: HostFirewallSpec = { tailnet: { allowedNetworks: ["ai-operations"] }, publicDeniedTcpPorts: [8000, 6001, 6002] };
const INFERENCE: HostFirewallSpec = { publicDeniedTcpPorts: [] };

/** The id Docker gave the platform network in this lab: its bridge is br- and the id's first 12 characters. */
const PLATFORM_NETWORK_ID = "5eed0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6";
const PLATFORM_BRIDGE = `br-${PLATFORM_NETWORK_ID.slice(0, 12)}`;
const COOLIFY_BRIDGE = "br-c0011f7a0001";

const ADDR = {
  nodePublic: "203.0.113.10",
  gateway: "203.0.113.1",
  metadata: "169.254.169.254",
  nodeTailnet: "100.64.0.2",
  nodeTailnet6: "fd7a:115c:a1e0::2",
  peer: "100.64.0.1",
  peer6: "fd7a:115c:a1e0::1",
  app: "172.30.1.2",
  app6: "fd00:30:1::2",
  coolify: "172.30.1.3",
  prometheus: "172.30.2.2",
  prometheus6: "fd00:30:2::2",
};

/** A `docker` that answers `docker info` (unless DOCKER_STUB_DOWN is set) and `docker network inspect` of ai-operations. */
function dockerStub(dir: string): string {
  const stub = path.join(dir, "docker");
  fs.writeFileSync(
    stub,
    [
      "#!/bin/sh",
      "# Stands for Docker in the host firewall test.",
      'echo "$*" >>"$(dirname "$0")/docker.log"',
      '[ -z "$DOCKER_STUB_DOWN" ] || exit 1',
      'case "$*" in',
      '  info) exit 0 ;;',
      `  "network inspect --format {{.Id}} ai-operations") [ -n "$DOCKER_STUB_NO_NETWORK" ] && exit 1; echo ${PLATFORM_NETWORK_ID} ;;`,
      '  *) echo "docker stub: $*" >&2; exit 1 ;;',
      "esac",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return dir;
}

describe("the host firewall script", () => {
  it("passes shellcheck, for each node, and so does its installer", () => {
    for (const [name, spec] of [["operations", OPERATIONS], ["inference", INFERENCE]] as const) {
      assertShellcheckClean(`host firewall (${name})`, renderHostFirewall(spec));
      assertShellcheckClean(`host firewall install (${name})`, renderHostFirewallInstall(spec));
    }
  });

  it("refuses a network name or a port that would not be one", () => {
    assert.throws(() => renderHostFirewall({ tailnet: { allowedNetworks: ["a b"] }, publicDeniedTcpPorts: [] }), /"a b" is not a Docker network name/);
    assert.throws(() => renderHostFirewall({ publicDeniedTcpPorts: [70000] }), /70000 is not a TCP port/);
  });
});

describe("the host firewall applied with the real iptables, in network namespaces", () => {
  let lab: NetnsLab;
  let ns: Record<"node" | "inet" | "peer" | "app" | "coolify" | "prometheus", string>;
  let stubDir: string;
  let script: string;

  const applyScript = (spec: HostFirewallSpec, env: Record<string, string> = {}, args: string[] = []) => {
    fs.writeFileSync(script, renderHostFirewall(spec), { mode: 0o755 });
    return lab.attempt(ns.node, [script, ...args], { ...process.env, PATH: `${stubDir}:${process.env.PATH}`, ...env });
  };
  const rulesNow = () => ["iptables", "ip6tables"].flatMap((t) => [lab.run(ns.node, [t, "-S"]), lab.run(ns.node, [t, "-t", "mangle", "-S"])]).join("");

  before(async () => {
    lab = new NetnsLab("hf");
    ns = {
      node: lab.namespace("node"),
      inet: lab.namespace("inet"),
      peer: lab.namespace("peer"),
      app: lab.namespace("app"),
      coolify: lab.namespace("coolify"),
      prometheus: lab.namespace("prom"),
    };
    stubDir = dockerStub(fs.mkdtempSync(path.join(os.tmpdir(), "host-firewall-")));
    script = path.join(stubDir, "host-firewall");

    // The public side: the node's public interface, the internet's gateway, and Hetzner's metadata service.
    lab.link(ns.node, "pub0", ns.inet, "eth0");
    lab.address(ns.node, "pub0", `${ADDR.nodePublic}/24`);
    lab.address(ns.inet, "eth0", `${ADDR.gateway}/24`);
    lab.address(ns.inet, "lo", `${ADDR.metadata}/32`);
    lab.route(ns.node, ["default", "via", ADDR.gateway]);
    // Someone on the public side who sends packets for the node's tailnet address to its public interface.
    lab.route(ns.inet, [`${ADDR.nodeTailnet}/32`, "via", ADDR.nodePublic]);

    // The tailnet: tailscale0 with the node's addresses, the tailnet's ranges routed there, a peer behind it.
    lab.link(ns.node, "tailscale0", ns.peer, "tailscale0");
    lab.address(ns.node, "tailscale0", `${ADDR.nodeTailnet}/32`);
    lab.address(ns.node, "tailscale0", `${ADDR.nodeTailnet6}/128`);
    lab.route(ns.node, ["100.64.0.0/10", "dev", "tailscale0"]);
    lab.route(ns.node, ["fd7a:115c:a1e0::/48", "dev", "tailscale0"]);
    lab.address(ns.peer, "tailscale0", `${ADDR.peer}/32`);
    lab.address(ns.peer, "tailscale0", `${ADDR.peer6}/128`);
    lab.route(ns.peer, ["100.64.0.0/10", "dev", "tailscale0"]);
    lab.route(ns.peer, ["fd7a:115c:a1e0::/48", "dev", "tailscale0"]);

    // A Coolify network: an app and Coolify's own container on one bridge.
    lab.bridge(ns.node, COOLIFY_BRIDGE);
    lab.address(ns.node, COOLIFY_BRIDGE, "172.30.1.1/24");
    lab.address(ns.node, COOLIFY_BRIDGE, "fd00:30:1::1/64");
    for (const [name, addr, addr6] of [["app", ADDR.app, ADDR.app6], ["coolify", ADDR.coolify, "fd00:30:1::3"]] as const) {
      lab.link(ns.node, `v${name}`, ns[name], "eth0");
      lab.enslave(ns.node, `v${name}`, COOLIFY_BRIDGE);
      lab.address(ns[name], "eth0", `${addr}/24`);
      lab.address(ns[name], "eth0", `${addr6}/64`);
      lab.route(ns[name], ["default", "via", "172.30.1.1"]);
      lab.route(ns[name], ["default", "via", "fd00:30:1::1"]);
    }
    // The platform's network ai-operations, with Prometheus on it.
    lab.bridge(ns.node, PLATFORM_BRIDGE);
    lab.address(ns.node, PLATFORM_BRIDGE, "172.30.2.1/24");
    lab.address(ns.node, PLATFORM_BRIDGE, "fd00:30:2::1/64");
    lab.link(ns.node, "vprom", ns.prometheus, "eth0");
    lab.enslave(ns.node, "vprom", PLATFORM_BRIDGE);
    lab.address(ns.prometheus, "eth0", `${ADDR.prometheus}/24`);
    lab.address(ns.prometheus, "eth0", `${ADDR.prometheus6}/64`);
    lab.route(ns.prometheus, ["default", "via", "172.30.2.1"]);
    lab.route(ns.prometheus, ["default", "via", "fd00:30:2::1"]);

    // Standing for Docker: forwarding, DOCKER-USER first in FORWARD, masquerading, the published ports' DNAT.
    lab.run(ns.node, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]);
    for (const iptables of ["iptables", "ip6tables"]) {
      lab.run(ns.node, [iptables, "-N", "DOCKER-USER"]);
      lab.run(ns.node, [iptables, "-A", "FORWARD", "-j", "DOCKER-USER"]);
    }
    for (const [bridge, subnet, subnet6] of [[COOLIFY_BRIDGE, "172.30.1.0/24", "fd00:30:1::/64"], [PLATFORM_BRIDGE, "172.30.2.0/24", "fd00:30:2::/64"]]) {
      lab.run(ns.node, ["iptables", "-t", "nat", "-A", "POSTROUTING", "-s", subnet, "!", "-o", bridge, "-j", "MASQUERADE"]);
      lab.run(ns.node, ["ip6tables", "-t", "nat", "-A", "POSTROUTING", "-s", subnet6, "!", "-o", bridge, "-j", "MASQUERADE"]);
    }
    const publish = (port: number, to: string, fromBridge: string) =>
      lab.run(ns.node, ["iptables", "-t", "nat", "-A", "PREROUTING", "-d", ADDR.nodeTailnet, "!", "-i", fromBridge, "-p", "tcp", "--dport", String(port), "-j", "DNAT", "--to-destination", to]);
    publish(8000, `${ADDR.coolify}:8080`, COOLIFY_BRIDGE);
    publish(3000, `${ADDR.prometheus}:3000`, PLATFORM_BRIDGE);

    // Who answers: the peer and the internet, Coolify's UI, a platform service, and a host service listening
    // on the node's tailnet address (as docker-proxy or tailscaled do).
    await lab.listen(ns.peer, "peer", [{ host: ADDR.peer, port: 7000 }, { host: ADDR.peer6, port: 7000 }]);
    await lab.listen(ns.inet, "internet", [{ host: ADDR.gateway, port: 80 }]);
    await lab.listen(ns.inet, "metadata", [{ host: ADDR.metadata, port: 80 }]);
    await lab.listen(ns.coolify, "coolify", [{ host: ADDR.coolify, port: 8080 }]);
    await lab.listen(ns.prometheus, "grafana", [{ host: ADDR.prometheus, port: 3000 }]);
    await lab.listen(ns.node, "host", [{ host: ADDR.nodeTailnet, port: 9999 }, { host: ADDR.nodeTailnet6, port: 9999 }]);
  });
  after(() => {
    lab?.close();
    if (stubDir) fs.rmSync(stubDir, { recursive: true, force: true });
  });

  it("without it, an app reaches the tailnet and the metadata service, and the public side reaches Coolify's UI", () => {
    assert.equal(lab.connect(ns.app, ADDR.peer, 7000), "answered by peer");
    assert.equal(lab.connect(ns.app, ADDR.peer6, 7000), "answered by peer");
    assert.equal(lab.connect(ns.app, ADDR.metadata, 80), "answered by metadata");
    assert.equal(lab.connect(ns.app, ADDR.nodeTailnet, 3000), "answered by grafana");
    assert.equal(lab.connect(ns.app, ADDR.nodeTailnet, 9999), "answered by host");
    // Sent to the tailnet address, arriving on the public interface: Docker's DNAT forwards it.
    assert.equal(lab.connect(ns.inet, ADDR.nodeTailnet, 8000), "answered by coolify");
  });

  it("with the operations node's rules: Coolify's UI answers on the tailnet side only", () => {
    const applied = applyScript(OPERATIONS);
    assert.equal(applied.status, 0, applied.output);
    assert.match(applied.output, new RegExp(`public interface pub0; platform bridges: ${PLATFORM_BRIDGE}`));
    assert.equal(lab.connect(ns.peer, ADDR.nodeTailnet, 8000), "answered by coolify", "on the tailnet address");
    assert.equal(lab.connect(ns.inet, ADDR.nodePublic, 8000), "refused", "not on the public address: nothing is published there");
    assert.equal(lab.connect(ns.inet, ADDR.nodeTailnet, 8000), "timeout", "nor to the tailnet address from the public interface");
    assert.equal(lab.connect(ns.peer, ADDR.nodeTailnet, 3000), "answered by grafana", "the tailnet's connections to published ports pass");
  });

  it("an app reaches neither the tailnet (IPv4, IPv6, the node's own address) nor the metadata service, and still the internet", () => {
    assert.equal(lab.connect(ns.app, ADDR.peer, 7000), "timeout");
    assert.equal(lab.connect(ns.app, ADDR.peer6, 7000), "timeout");
    assert.equal(lab.connect(ns.app, ADDR.nodeTailnet, 3000), "timeout", "a platform port published on the tailnet address");
    assert.equal(lab.connect(ns.app, ADDR.nodeTailnet, 9999), "timeout", "a host service on the tailnet address");
    assert.equal(lab.connect(ns.app, ADDR.nodeTailnet6, 9999), "timeout");
    assert.equal(lab.connect(ns.app, ADDR.metadata, 80), "timeout");
    assert.equal(lab.connect(ns.app, ADDR.gateway, 80), "answered by internet");
  });

  it("the platform's network still reaches the tailnet, but not the metadata service", () => {
    assert.equal(lab.connect(ns.prometheus, ADDR.peer, 7000), "answered by peer");
    assert.equal(lab.connect(ns.prometheus, ADDR.peer6, 7000), "answered by peer");
    assert.equal(lab.connect(ns.prometheus, ADDR.nodeTailnet, 9999), "answered by host");
    assert.equal(lab.connect(ns.prometheus, ADDR.metadata, 80), "timeout");
  });

  it("holds when tailscaled has put its own forward chain first, as it does at each start (its ts-forward accepts what goes out tailscale0)", () => {
    // Standing for Tailscale's iptables rules (util/linuxfw/iptables_runner.go: AddHooks inserts -j ts-forward
    // at the top of FORWARD, and ts-forward ends with -o tailscale0 -j ACCEPT), as after a restart of tailscaled.
    for (const iptables of ["iptables", "ip6tables"]) {
      lab.run(ns.node, [iptables, "-N", "ts-forward"]);
      lab.run(ns.node, [iptables, "-A", "ts-forward", "-o", "tailscale0", "-j", "ACCEPT"]);
      lab.run(ns.node, [iptables, "-I", "FORWARD", "1", "-j", "ts-forward"]);
    }
    try {
      assert.equal(lab.connect(ns.app, ADDR.peer, 7000), "timeout");
      assert.equal(lab.connect(ns.app, ADDR.peer6, 7000), "timeout");
      assert.equal(lab.connect(ns.prometheus, ADDR.peer, 7000), "answered by peer");
      assert.equal(lab.connect(ns.inet, ADDR.nodeTailnet, 8000), "timeout");
    } finally {
      for (const iptables of ["iptables", "ip6tables"]) {
        lab.run(ns.node, [iptables, "-D", "FORWARD", "-j", "ts-forward"]);
        lab.run(ns.node, [iptables, "-F", "ts-forward"]);
        lab.run(ns.node, [iptables, "-X", "ts-forward"]);
      }
    }
  });

  it("applied again, it replaces its chains whole: the same rules, each once", () => {
    const first = rulesNow();
    const again = applyScript(OPERATIONS);
    assert.equal(again.status, 0, again.output);
    assert.equal(rulesNow(), first);
    for (const chain of Object.values(HOST_FIREWALL_CHAINS)) {
      assert.equal(first.split("\n").filter((l) => l.endsWith(`-j ${chain}`)).length, 2, `one jump to ${chain} per family`);
    }
    assert.match(first, /-A AIP-FORWARD -i pub0 -p tcp -m conntrack --ctorigdstport 8000 --ctdir ORIGINAL -j DROP/);
  });

  it("before Docker at boot, and when the platform's network is missing, nothing gets through; when Docker does not answer, it changes nothing", () => {
    const down = applyScript(OPERATIONS, { DOCKER_STUB_DOWN: "1" });
    assert.notEqual(down.status, 0);
    assert.match(down.output, /Docker does not answer: the rules are left as they were/);
    assert.equal(lab.connect(ns.prometheus, ADDR.peer, 7000), "answered by peer", "the rules were left as they were");

    // Early at boot the network may not be up: the containers' rules go in, the public interface's wait.
    lab.ip(["-n", ns.node, "route", "del", "default"]);
    const noRoute = applyScript(OPERATIONS, { DOCKER_STUB_DOWN: "1" }, ["--before-docker"]);
    lab.route(ns.node, ["default", "via", ADDR.gateway]);
    assert.equal(noRoute.status, 0, noRoute.output);
    assert.match(noRoute.output, /no default IPv4 route yet: the public interface's rules wait for the next run/);
    assert.match(rulesNow(), /-A AIP-EGRESS -d 169\.254\.169\.254\/32 -j DROP/);
    assert.doesNotMatch(rulesNow(), /ctorigdstport/);
    const restored = applyScript(OPERATIONS);
    assert.equal(restored.status, 0, restored.output);

    const early = applyScript(OPERATIONS, { DOCKER_STUB_DOWN: "1" }, ["--before-docker"]);
    assert.equal(early.status, 0, early.output);
    assert.equal(lab.connect(ns.prometheus, ADDR.peer, 7000), "timeout", "no exemption before Docker");
    assert.equal(lab.connect(ns.app, ADDR.metadata, 80), "timeout");

    const missing = applyScript(OPERATIONS, { DOCKER_STUB_NO_NETWORK: "1" });
    assert.equal(missing.status, 0, missing.output);
    assert.match(missing.output, /no Docker network ai-operations: its containers are kept off the tailnet until it exists/);
    assert.equal(lab.connect(ns.prometheus, ADDR.peer, 7000), "timeout");

    assert.equal(applyScript(OPERATIONS).status, 0);
    assert.equal(lab.connect(ns.prometheus, ADDR.peer, 7000), "answered by peer", "once the network is there");
  });

  it("with the inference node's rules: no container reaches the metadata service; the tailnet is not filtered there", () => {
    const applied = applyScript(INFERENCE);
    assert.equal(applied.status, 0, applied.output);
    assert.equal(lab.connect(ns.app, ADDR.metadata, 80), "timeout");
    assert.equal(lab.connect(ns.prometheus, ADDR.metadata, 80), "timeout");
    assert.equal(lab.connect(ns.app, ADDR.peer, 7000), "answered by peer");
    assert.equal(lab.connect(ns.inet, ADDR.nodeTailnet, 8000), "answered by coolify", "no Coolify port to keep off the public side");
  });
});

describe("the host firewall's install, run as root on a copy of this machine in a namespace of its own", () => {
  let lab: NetnsLab;
  let box: RootSandbox;
  before(() => {
    lab = new NetnsLab("hfi");
    box = new RootSandbox();
  });
  after(() => {
    box?.close();
    lab?.close();
  });

  it("writes the script and its units, enables them for every boot, applies the rules, and removes what the former Coolify install left", () => {
    const node = lab.namespace("node");
    lab.link(node, "eth0", lab.namespace("gateway"), "eth0");
    lab.address(node, "eth0", "203.0.113.10/24");
    lab.route(node, ["default", "via", "203.0.113.1"]);
    // What the former version left: its unit, and its rule in DOCKER-USER (Docker's chain, made as Docker does).
    const former = ["-i", "eth0", "-p", "tcp", "-m", "multiport", "--dports", "8000,6001,6002", "-j", "DROP"];
    for (const iptables of ["iptables", "ip6tables"]) {
      lab.run(node, [iptables, "-N", "DOCKER-USER"]);
      lab.run(node, [iptables, "-A", "DOCKER-USER", ...former]);
    }
    box.write("/etc/systemd/system/coolify-ports-private.service", "[Service]\nExecStart=/bin/true\n");
    // Stand-ins: systemctl records what it is asked; docker answers for the platform network.
    box.write("/opt/stand-ins/systemctl", '#!/bin/sh\necho "$*" >>/var/log/systemctl.log\n', 0o755);
    box.write(
      "/opt/stand-ins/docker",
      `#!/bin/sh\ncase "$*" in info) ;; *ai-operations) echo ${PLATFORM_NETWORK_ID} ;; *) exit 1 ;; esac\n`,
      0o755,
    );
    box.write("/root/install", renderHostFirewallInstall(OPERATIONS), 0o700);
    const env = { PATH: "/opt/stand-ins:/usr/sbin:/usr/bin:/sbin:/bin" };
    const installed = box.run(["bash", "/root/install"], { env, netns: node });
    assert.equal(installed.status, 0, installed.stdout + installed.stderr);
    assert.match(installed.stdout, new RegExp(`host-firewall: applied \\(public interface eth0; platform bridges: ${PLATFORM_BRIDGE}\\)`));

    assert.equal(box.read(HOST_FIREWALL_SCRIPT_PATH), renderHostFirewall(OPERATIONS));
    assert.equal(box.read("/etc/systemd/system/coolify-ports-private.service"), undefined, "the former unit is gone");
    assert.deepEqual(box.read("/var/log/systemctl.log")?.trim().split("\n"), [
      "disable coolify-ports-private.service",
      "daemon-reload",
      `enable ${HOST_FIREWALL_UNITS.early} ${HOST_FIREWALL_UNITS.main} ${HOST_FIREWALL_UNITS.timer}`,
      `start ${HOST_FIREWALL_UNITS.timer}`,
    ]);
    const rules = lab.run(node, ["iptables", "-S"]) + lab.run(node, ["ip6tables", "-S"]);
    assert.doesNotMatch(rules, /multiport/, "the former rule is gone, in both families");
    assert.equal(rules.split("\n").filter((l) => l === "-A DOCKER-USER -j AIP-FORWARD").length, 2);

    // systemd's own check of the units as they lie on the node, their programs in place.
    const units = Object.values(HOST_FIREWALL_UNITS).map((u) => `/etc/systemd/system/${u}`);
    const verify = box.run(["systemd-analyze", "verify", "--man=no", "--recursive-errors=no", ...units]);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    assert.doesNotMatch(verify.stdout + verify.stderr, /ai-platform-host-firewall/, verify.stdout + verify.stderr);
    assert.match(box.read(`/etc/systemd/system/${HOST_FIREWALL_UNITS.early}`) ?? "", /^Before=docker\.service/m);
    assert.match(box.read(`/etc/systemd/system/${HOST_FIREWALL_UNITS.early}`) ?? "", /^ExecStart=\/usr\/local\/lib\/ai-platform\/host-firewall --before-docker$/m);
    assert.match(box.read(`/etc/systemd/system/${HOST_FIREWALL_UNITS.main}`) ?? "", /^After=docker\.service/m);
    assert.match(box.read(`/etc/systemd/system/${HOST_FIREWALL_UNITS.timer}`) ?? "", /^OnUnitActiveSec=5min$/m);
  });
});
