/**
 * The boot order of a node, read from its real user data (the rendered cloud-init that the fake Hetzner keeps as
 * the server's `userData`): where the data volume is mounted, and whether docker.service waits for that mount.
 *
 * What it stands for. At every boot after the first, systemd starts the units; nothing of cloud-init runs again.
 * The bootstrap puts the data volume in /etc/fstab with `nofail` (components/render/bootstrapScript.ts), and
 * systemd.mount(5) says of `nofail`: the mount is "only wanted, not required, by local-fs.target" and "not
 * ordered before" it, so "the boot will continue without waiting for the mount unit". docker.service is ordered
 * after local-fs.target only (through basic.target), so unless one of its own drop-ins orders it after the
 * mount, Docker may start, and restart its containers, before the volume is mounted. The fake takes that bad
 * case every time: a race that a real boot loses only sometimes is lost at every fake boot, so a missing
 * ordering shows at once.
 *
 * What it reads: the docker.service drop-ins the user data writes (write_files under
 * /etc/systemd/system/docker.service.d/), in the lexical order systemd reads them, for `RequiresMountsFor=`
 * (systemd.unit(5): "Requires= and After= for all mount units required to access the specified path", so a
 * path at or below the mount point covers it) and `After=` naming the mount unit itself (the unit name
 * systemd-escape --path gives, e.g. srv-data.mount). What it does not: the fstab options (written by the
 * bootstrap at run time, not in the user data, such as x-systemd.before=), other units, `[Unit]` sections of
 * docker.service itself, resetting a list with an empty assignment, or a volume missing at boot.
 */
import { parse } from "yaml";

export const DOCKER_DROP_IN_DIR = "/etc/systemd/system/docker.service.d/";

export interface BootOrder {
  /** The data volume's mount point: the bootstrap's fourth argument (components/render/cloudInit.ts runcmd). */
  dataMountPoint: string;
  /** Whether docker.service starts only once that mount is up. */
  dockerWaitsForDataMount: boolean;
  /** The drop-in line that makes it wait, for the test's messages; undefined when nothing does. */
  because?: string;
}

interface UserData {
  write_files?: { path: string; content?: string }[];
  runcmd?: unknown[][];
}

/** The unit name systemd gives the mount of an absolute path (systemd-escape --path --suffix=mount). */
export function mountUnitName(mountPoint: string): string {
  const trimmed = mountPoint.replace(/^\/+|\/+$/g, "");
  if (trimmed === "") return "-.mount";
  const escaped = trimmed
    .split(/\/+/)
    .map((part) => [...part].map((ch, i) => (/[A-Za-z0-9:_]/.test(ch) || (ch === "." && i > 0) ? ch : `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`)).join(""))
    .join("-");
  return `${escaped}.mount`;
}

/** Whether `path` can be reached only through the mount at `mountPoint` (the path is it or below it). */
function isAtOrBelow(path: string, mountPoint: string): boolean {
  const norm = (p: string) => p.replace(/\/+$/, "") || "/";
  const p = norm(path);
  const m = norm(mountPoint);
  return p === m || p.startsWith(m === "/" ? "/" : `${m}/`);
}

export function readBootOrder(userData: string): BootOrder {
  const doc = parse(userData, { version: "1.1" }) as UserData;
  const bootstrap = doc.runcmd?.[0];
  const dataMountPoint = Array.isArray(bootstrap) ? bootstrap[4] : undefined;
  if (typeof dataMountPoint !== "string" || !dataMountPoint.startsWith("/")) {
    throw new Error("the user data's bootstrap names no data mount point (its fourth argument)");
  }
  const dropIns = (doc.write_files ?? [])
    .filter((f) => f.path.startsWith(DOCKER_DROP_IN_DIR) && f.path.endsWith(".conf"))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const unit = mountUnitName(dataMountPoint);
  for (const dropIn of dropIns) {
    let section = "";
    for (const raw of (dropIn.content ?? "").split("\n")) {
      const line = raw.trim();
      if (line.startsWith("[")) section = line;
      if (section !== "[Unit]") continue;
      const setting = /^(RequiresMountsFor|After)\s*=\s*(.*)$/.exec(line);
      if (!setting) continue;
      const values = setting[2].split(/\s+/).filter((v) => v !== "");
      const waits = setting[1] === "RequiresMountsFor" ? values.some((p) => isAtOrBelow(p, dataMountPoint)) : values.includes(unit);
      if (waits) return { dataMountPoint, dockerWaitsForDataMount: true, because: `${dropIn.path}: ${line}` };
    }
  }
  return { dataMountPoint, dockerWaitsForDataMount: false };
}
