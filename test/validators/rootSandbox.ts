/**
 * A throwaway copy-on-write view of this machine's root filesystem, for running a script the program sends to a
 * node as root, unchanged, with its real paths (/etc/docker, /data/coolify, /etc/systemd/system): an overlayfs
 * whose lower layer is `/` and whose upper layer is a temporary directory, mounted in a mount namespace of its
 * own (`unshare --mount`) and entered with `chroot`. What the script writes lands in the upper layer only; the
 * machine's own files are never touched, and close() removes it all.
 *
 *   const box = new RootSandbox();
 *   box.write("/etc/docker/daemon.json", "{}");
 *   const run = box.run(["bash", "-c", "echo hi > /data/x"]);
 *   box.read("/data/x");   // "hi\n"
 *
 * Needs root (mount namespaces and overlayfs) and util-linux's unshare.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface SandboxRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

// Mounts the overlay and the kernel's filesystems, then runs the command under chroot: $1 upper, $2 work,
// $3 the mount point, $4 the working directory, the rest the command.
const ENTER = `set -e
mount -t overlay overlay -o "lowerdir=/,upperdir=$1,workdir=$2" "$3"
for fs in proc dev sys; do mount --rbind "/$fs" "$3/$fs"; done
root=$3 dir=$4
shift 4
exec chroot "$root" /bin/sh -c 'cd "$0" && exec "$@"' "$dir" "$@"`;

export class RootSandbox {
  private readonly dir: string;
  private readonly upper: string;

  constructor() {
    assert.equal(process.getuid?.(), 0, "the root sandbox needs root (a mount namespace and overlayfs)");
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "root-sandbox-"));
    this.upper = path.join(this.dir, "upper");
    for (const d of ["upper", "work", "merged"]) fs.mkdirSync(path.join(this.dir, d));
  }

  /** Puts a file into the sandbox's view (in the upper layer), as if it were on the machine. */
  write(file: string, content: string, mode = 0o644): void {
    const target = path.join(this.upper, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content, { mode });
    fs.chmodSync(target, mode);
  }

  /**
   * Runs argv as root inside the sandbox, in `cwd` (default /), with `input` on standard input; inside the
   * network namespace `netns` when one is given (else the machine's own network, so never a firewall there).
   */
  run(argv: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; netns?: string } = {}): SandboxRun {
    const enter = ["unshare", "--mount", "--propagation", "private", "sh", "-c", ENTER, "enter", this.upper, path.join(this.dir, "work"), path.join(this.dir, "merged"), options.cwd ?? "/", ...argv];
    const command = options.netns ? ["ip", "netns", "exec", options.netns, ...enter] : enter;
    const result = spawnSync(command[0], command.slice(1), { encoding: "utf8", input: options.input ?? "", env: options.env ?? process.env });
    assert.equal(result.error, undefined, `could not enter the sandbox: ${String(result.error)}`);
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** A file's content as the sandbox sees it now; undefined when it is not there. */
  read(file: string): string | undefined {
    const run = this.run(["cat", file]);
    return run.status === 0 ? run.stdout : undefined;
  }

  close(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
