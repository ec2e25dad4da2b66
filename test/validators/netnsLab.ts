/**
 * A lab of Linux network namespaces for testing netfilter rules for real: namespaces joined by veth pairs and
 * bridges, the real `iptables`/`ip6tables` in them, and real TCP connections between them (Node's `net`, run
 * inside a namespace by `ip netns exec`). Nothing leaves the lab: every address lives in a namespace it made,
 * and close() deletes them all.
 *
 *   const lab = new NetnsLab("hf");
 *   const node = lab.namespace("node"), peer = lab.namespace("peer");
 *   lab.link(node, "tailscale0", peer, "eth0");
 *   await lab.listen(peer, [{ host: "100.64.0.1", port: 7000 }]);
 *   lab.connect(node, "100.64.0.1", 7000);   // "answered by peer" | "refused" | "timeout" | "unreachable"
 *
 * Needs root (namespaces, addresses, rules) and iproute2, iptables (Debian's, nf_tables backend).
 */
import assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { requireBinary } from ".";

export type Reach = `answered by ${string}` | "refused" | "timeout" | "unreachable";

export interface Listener {
  host: string;
  port: number;
}

/** What the lab needs installed, and how to get it. */
export function requireLab(): void {
  assert.equal(process.getuid?.(), 0, "the network namespace tests need root (namespaces, addresses and netfilter rules)");
  for (const binary of ["/usr/sbin/ip", "/usr/sbin/iptables", "/usr/sbin/ip6tables", "/usr/sbin/iptables-restore"]) {
    const alt = binary.replace("/usr/sbin/", "/sbin/");
    requireBinary(fs.existsSync(binary) ? binary : alt, "install it with `bash .ci/install-validators.sh` (Debian's iproute2 and iptables)");
  }
}

const CLIENT = `
const [host, port, timeout] = process.argv.slice(1);
const socket = require("net").connect({ host, port: Number(port) });
const done = (text) => { process.stdout.write(text); socket.destroy(); process.exit(0); };
const timer = setTimeout(() => done("timeout"), Number(timeout));
socket.once("data", (data) => { clearTimeout(timer); done("answered by " + String(data).trim()); });
socket.once("error", (err) => {
  clearTimeout(timer);
  done(err.code === "ECONNREFUSED" ? "refused" : /UNREACH/.test(err.code) ? "unreachable" : "error " + err.code);
});
`;

const SERVER = `
const [name, ...addresses] = process.argv.slice(1);
const net = require("net");
let pending = addresses.length;
for (const address of addresses) {
  const [host, port] = JSON.parse(address);
  net.createServer((socket) => { socket.on("error", () => {}); socket.end(name + "\\n"); })
    .listen(Number(port), host, () => { if (--pending === 0) process.stdout.write("listening\\n"); })
    .on("error", (err) => { process.stderr.write(String(err)); process.exit(1); });
}
`;

export class NetnsLab {
  private readonly names: string[] = [];
  private readonly servers: ChildProcess[] = [];

  /** `prefix` and this process's id name every namespace, so that concurrent runs never meet. */
  constructor(private readonly prefix: string) {
    requireLab();
  }

  /** A new namespace with its loopback up; its name is returned. */
  namespace(name: string): string {
    const full = `${this.prefix}-${process.pid}-${name}`;
    this.ip(["netns", "add", full]);
    this.names.push(full);
    this.ip(["-n", full, "link", "set", "lo", "up"]);
    return full;
  }

  /** Runs argv inside `ns`; throws with its output when it fails. */
  run(ns: string, argv: string[], input?: string, env?: NodeJS.ProcessEnv): string {
    const result = spawnSync("ip", ["netns", "exec", ns, ...argv], { encoding: "utf8", input, env: env ?? process.env });
    if (result.status !== 0) {
      throw new Error(`in ${ns}: ${argv.join(" ")} failed (${result.status}): ${result.stdout}${result.stderr}`);
    }
    return result.stdout;
  }

  /** Runs argv inside `ns` and returns its exit status and output, whatever they are. */
  attempt(ns: string, argv: string[], env?: NodeJS.ProcessEnv): { status: number | null; output: string } {
    const result = spawnSync("ip", ["netns", "exec", ns, ...argv], { encoding: "utf8", env: env ?? process.env });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  /** `ip` with these arguments; throws with its output when it fails. */
  ip(args: string[]): void {
    const result = spawnSync("ip", args, { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`ip ${args.join(" ")} failed: ${result.stdout}${result.stderr}`);
  }

  /** A veth pair, `ifA` in `a` and `ifB` in `b`, both up. */
  link(a: string, ifA: string, b: string, ifB: string): void {
    const tmp = `lab${process.pid % 100000}${this.names.length}${Math.floor(Math.random() * 1000)}`;
    this.ip(["link", "add", `${tmp}a`, "type", "veth", "peer", "name", `${tmp}b`]);
    this.ip(["link", "set", `${tmp}a`, "netns", a]);
    this.ip(["link", "set", `${tmp}b`, "netns", b]);
    this.ip(["-n", a, "link", "set", `${tmp}a`, "name", ifA]);
    this.ip(["-n", b, "link", "set", `${tmp}b`, "name", ifB]);
    this.ip(["-n", a, "link", "set", ifA, "up"]);
    this.ip(["-n", b, "link", "set", ifB, "up"]);
  }

  /** A bridge `name` in `ns`, up. */
  bridge(ns: string, name: string): void {
    this.ip(["-n", ns, "link", "add", name, "type", "bridge"]);
    this.ip(["-n", ns, "link", "set", name, "up"]);
  }

  /** Puts `iface` of `ns` into the bridge `bridge` of the same namespace. */
  enslave(ns: string, iface: string, bridge: string): void {
    this.ip(["-n", ns, "link", "set", iface, "master", bridge]);
  }

  /** Adds an address (with its prefix) to an interface; IPv6 without duplicate address detection. */
  address(ns: string, iface: string, cidr: string): void {
    this.ip(["-n", ns, "addr", "add", cidr, "dev", iface, ...(cidr.includes(":") ? ["nodad"] : [])]);
  }

  /** Adds a route: `ip route add` with these words, in `ns`. */
  route(ns: string, words: string[]): void {
    this.ip(["-n", ns, ...(words.some((w) => w.includes(":")) ? ["-6"] : []), "route", "add", ...words]);
  }

  /** Starts a TCP server in `ns` answering `name` on each address, and waits until all listen. */
  async listen(ns: string, name: string, listeners: Listener[]): Promise<void> {
    const server = spawn(
      "ip",
      ["netns", "exec", ns, process.execPath, "-e", SERVER, name, ...listeners.map((l) => JSON.stringify([l.host, l.port]))],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      let errors = "";
      server.stderr?.on("data", (d: Buffer) => (errors += String(d)));
      server.stdout?.on("data", (d: Buffer) => (String(d).includes("listening") ? resolve() : undefined));
      server.once("exit", (code) => reject(new Error(`the server in ${ns} exited (${code}): ${errors}`)));
    });
  }

  /** One TCP connection from `ns` to host:port, and what came of it. */
  connect(ns: string, host: string, port: number, timeoutMs = 1500): Reach {
    const result = spawnSync("ip", ["netns", "exec", ns, process.execPath, "-e", CLIENT, host, String(port), String(timeoutMs)], {
      encoding: "utf8",
    });
    assert.match(result.stdout, /^(answered by .+|refused|timeout|unreachable)$/, `connect from ${ns} to ${host}:${port}: ${result.stdout}${result.stderr}`);
    return result.stdout as Reach;
  }

  /** Stops the servers and deletes every namespace the lab made. */
  close(): void {
    for (const server of this.servers) server.kill("SIGKILL");
    for (const ns of this.names) spawnSync("ip", ["netns", "delete", ns]);
    this.names.length = 0;
  }
}
