/**
 * A private network for a local-cloud run: a Linux network namespace with only `lo`, up, and no route out.
 * The fake nodes' tailnet addresses (100.64.0.N/32, fd7a:115c:a1e0::N/128) are added to that `lo` on demand,
 * so their fake SSH servers listen where the program expects them, and nothing else of the host's network is
 * seen or touched: the whole run (the Node test process, the fakes, the pulumi processes and their plugins)
 * executes inside, and the namespace goes away with it.
 *
 *   // an entry point: re-runs itself inside a fresh namespace, then exits with the run's exit code
 *   if (!inNetns()) await reexecInNetns([process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
 *   // inside, for each fake node:
 *   addAddress("100.64.0.1"); addAddress("fd7a:115c:a1e0::1");
 *
 * Needs root (creating a namespace and adding addresses needs CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";

/** Set, with the namespace's name, in the environment of the command run inside. */
export const NETNS_ENV = "LOCALCLOUD_NETNS";
/** Namespaces this module creates are named `lc-<pid of the process that created it>`. */
const NAME = /^lc-(\d+)$/;
const NETNS_DIR = "/run/netns";

export class NetnsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NetnsError";
  }
}

function ip(args: string[]): { ok: boolean; output: string } {
  const run = spawnSync("ip", args, { encoding: "utf8" });
  if (run.error) throw new NetnsError(`could not run \`ip\` (iproute2): ${run.error.message}`);
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() };
}

function mustIp(args: string[]): void {
  const { ok, output } = ip(args);
  if (!ok) throw new NetnsError(`ip ${args.join(" ")} failed: ${output}`);
}

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) {
    throw new NetnsError(
      `${what} needs root (a network namespace and its addresses need CAP_SYS_ADMIN and CAP_NET_ADMIN): ` +
        `run it as root, e.g. \`sudo env "PATH=$PATH" npm run test:lifecycle\``,
    );
  }
}

const inode = (file: string): number | undefined => {
  try {
    return fs.statSync(file).ino;
  } catch {
    return undefined;
  }
};

/** The namespace this process runs in, when it is one that reexecInNetns made for it. */
export function currentNetns(): string | undefined {
  const name = process.env[NETNS_ENV];
  if (!name || !NAME.test(name)) return undefined;
  const mine = inode("/proc/self/ns/net");
  return mine !== undefined && mine === inode(`${NETNS_DIR}/${name}`) ? name : undefined;
}

/** True inside a namespace made by reexecInNetns (checked against the kernel, not only the environment). */
export const inNetns = (): boolean => currentNetns() !== undefined;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** Deletes the lc-<pid> namespaces whose creator is gone (a run killed with SIGKILL leaves its own behind). */
function deleteStaleNamespaces(): void {
  let names: string[] = [];
  try {
    names = fs.readdirSync(NETNS_DIR);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = NAME.exec(name)?.[1];
    if (pid && !alive(Number(pid))) ip(["netns", "delete", name]);
  }
}

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * Runs `argv` inside a new network namespace `lc-<pid>` (only `lo`, up) and resolves with its exit code
 * (128 + the signal's number when a signal ended it). The namespace is deleted afterwards, whatever happens:
 * on exit, on failure, and on SIGINT, SIGTERM or SIGHUP, which are passed on to the command first. The
 * command gets LOCALCLOUD_NETNS=<name> in its environment, which inNetns() checks against the kernel.
 */
export async function runInNetns(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv.length === 0) throw new NetnsError("runInNetns: no command to run");
  requireRoot("running in a network namespace");
  deleteStaleNamespaces();
  const name = `lc-${process.pid}`;
  mustIp(["netns", "add", name]);
  let deleted = false;
  const remove = (): void => {
    if (deleted) return;
    deleted = true;
    ip(["netns", "delete", name]);
  };
  // The last resort: if this process exits on its own (an uncaught error), the namespace still goes.
  process.once("exit", remove);
  try {
    mustIp(["-n", name, "link", "set", "lo", "up"]);
    return await new Promise<number>((resolve, reject) => {
      // In its own process group, so that a Ctrl-C reaches it once, passed on from here, rather than twice
      // (from the terminal and from here); this process stays to delete the namespace once it has ended.
      const child = spawn("ip", ["netns", "exec", name, ...argv], {
        stdio: "inherit",
        env: { ...env, [NETNS_ENV]: name },
        detached: true,
      });
      const forward = (signal: NodeJS.Signals) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      };
      for (const s of SIGNALS) process.on(s, forward);
      const done = () => {
        for (const s of SIGNALS) process.off(s, forward);
      };
      child.once("error", (err) => {
        done();
        reject(new NetnsError(`could not run ip netns exec: ${err.message}`));
      });
      child.once("exit", (code, signal) => {
        done();
        resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0));
      });
    });
  } finally {
    remove();
    process.off("exit", remove);
  }
}

/**
 * Re-runs `argv` (typically this very process: `[process.execPath, ...process.execArgv, ...process.argv.slice(1)]`)
 * inside a new namespace, deletes the namespace, and exits with the command's exit code. Never returns.
 */
export async function reexecInNetns(argv: string[]): Promise<never> {
  let code: number;
  try {
    code = await runInNetns(argv);
  } catch (err) {
    console.error(err instanceof NetnsError ? `localcloud: ${err.message}` : err);
    code = 1;
  }
  process.exit(code);
}

function hostRoute(addr: string): string {
  const family = net.isIP(addr);
  if (family === 0) throw new NetnsError(`${addr} is not an IP address`);
  return `${addr}/${family === 4 ? 32 : 128}`;
}

function requireInside(what: string): void {
  if (!inNetns()) {
    throw new NetnsError(
      `${what} is only done inside a namespace made by reexecInNetns, never on the host's own network ` +
        `(run through \`npm run test:lifecycle\`)`,
    );
  }
  requireRoot(what);
}

/**
 * Adds `addr` (an IPv4 or IPv6 address) to `lo` in this process's namespace, as /32 or /128, so that a
 * server can listen on it and every process of the run reach it. Adding an address already there is fine.
 * Refuses outside a namespace made by reexecInNetns.
 */
export function addAddress(addr: string): void {
  const prefix = hostRoute(addr);
  requireInside(`adding ${prefix} to lo`);
  // No duplicate address detection: lo has no neighbours, and a tentative address could not be bound yet.
  const { ok, output } = ip(["addr", "add", prefix, "dev", "lo", ...(net.isIPv6(addr) ? ["nodad"] : [])]);
  if (!ok && !/File exists|already assigned/.test(output)) throw new NetnsError(`ip addr add ${prefix} dev lo failed: ${output}`);
}

/** Removes `addr` from `lo` in this process's namespace; removing an address that is not there is fine. */
export function removeAddress(addr: string): void {
  const prefix = hostRoute(addr);
  requireInside(`removing ${prefix} from lo`);
  const { ok, output } = ip(["addr", "del", prefix, "dev", "lo"]);
  if (!ok && !/Cannot assign requested address|not found/i.test(output)) {
    throw new NetnsError(`ip addr del ${prefix} dev lo failed: ${output}`);
  }
}
