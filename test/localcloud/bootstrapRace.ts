/**
 * The bootstrap takes time: a real server answers Tailscale SSH as soon as `tailscale up` has run, while its
 * bootstrap still installs Docker (apt holds dpkg's lock) and has not mounted the data volume yet. Until the
 * bootstrap has finished, the fake node answers the program's commands as such a server would:
 *
 * - the bootstrap wait (`cloud-init status --wait`) blocks until the bootstrap has finished, then answers;
 * - `docker ...` fails: "docker: command not found" (exit 127), Docker is not installed yet;
 * - Coolify's installer fails on dpkg's lock, which the bootstrap's apt holds (exit 100, apt-get's message);
 * - `install -d` under the data mount point succeeds, on the root disk: once the bootstrap mounts the volume
 *   over the mount point, those directories are hidden (mount(8): the previous contents of the directory
 *   become invisible), so they are gone from the node's directories.
 */
import { defaultHandlers, type FakeNode, type RecordedCommand } from "./node";

const finishedAt = new WeakMap<FakeNode, Date>();

/** Where cloud-init mounts the data volume (components/render/cloudInit.ts, index.ts' DATA_MOUNT_POINT). */
const DATA_MOUNT_POINT = "/srv/data";

/** When the node's bootstrap finished; undefined while it runs, or when the node was not given one. */
export function bootstrapFinishedAt(node: FakeNode): Date | undefined {
  return finishedAt.get(node);
}

/** The commands the program ran on the node before its bootstrap finished (the wait and Docker's dial aside). */
export function commandsBeforeBootstrap(node: FakeNode): RecordedCommand[] {
  const at = finishedAt.get(node);
  return node.commands.filter((c) => c.handler !== "bootstrap-wait" && c.handler !== "docker-dial-stdio" && (at === undefined || c.startedAt < at));
}

/** Starts the node's bootstrap: it finishes `durationMs` from now. Call before the node boots. */
export function startBootstrap(node: FakeNode, durationMs: number): void {
  node.bootstrapped = false;
  const madeBeforeMount = new Set<string>();
  const builtIn = (name: string) => defaultHandlers().find((h) => h.name === name)!;
  const finished = new Promise<void>((resolve) =>
    setTimeout(() => {
      for (const dir of madeBeforeMount) node.directories.delete(dir);
      node.bootstrapped = true;
      finishedAt.set(node, new Date());
      resolve();
    }, durationMs),
  );
  const running = () => !node.bootstrapped;
  node.handle({
    name: "bootstrap-wait",
    matches: (command) => builtIn("bootstrap-wait").matches(command),
    run: async (ctx) => {
      await finished;
      return builtIn("bootstrap-wait").run(ctx);
    },
  });
  node.handle({
    name: "docker-before-bootstrap",
    matches: (command) => running() && /^docker\s/.test(command),
    run: () => ({ stderr: "bash: line 1: docker: command not found\n", exitCode: 127 }),
  });
  node.handle({
    name: "apt-before-bootstrap",
    matches: (command) => running() && builtIn("coolify-install").matches(command),
    run: () => ({
      stderr: "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1234 (apt-get)\n",
      exitCode: 100,
    }),
  });
  node.handle({
    name: "install-dirs-before-mount",
    matches: (command) => running() && builtIn("install-dirs").matches(command),
    run: async (ctx) => {
      const before = new Set(node.directories.keys());
      const result = await builtIn("install-dirs").run(ctx);
      for (const dir of node.directories.keys()) {
        if (!before.has(dir) && (dir === DATA_MOUNT_POINT || dir.startsWith(`${DATA_MOUNT_POINT}/`))) madeBeforeMount.add(dir);
      }
      return result;
    },
  });
}
