/**
 * Runs the lifecycle scenarios (test/lifecycle/*.test.ts) inside a fresh network namespace that has nothing but
 * `lo`: the program, the engine, the providers and the fakes can reach each other on loopback and nothing else.
 * Needs root (ip netns). `npm run test:lifecycle [-- FILE...]`.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { NETNS_ENV } from "../localcloud/cloud";

const here = __dirname;
const files = process.argv.slice(2).length > 0
  ? process.argv.slice(2)
  : fs.readdirSync(here).filter((f) => f.endsWith(".test.ts")).sort().map((f) => path.join(here, f));

function ip(...args: string[]): void {
  const run = spawnSync("ip", args, { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`ip ${args.join(" ")}: ${run.stderr.trim() || `exit ${run.status}`}`);
}

const netns = `localcloud-${process.pid}`;
ip("netns", "add", netns);
let status = 1;
try {
  ip("-n", netns, "link", "set", "lo", "up");
  console.error(`[localcloud] running ${files.length} scenario file(s) in network namespace ${netns} (lo only)`);
  const started = Date.now();
  const run = spawnSync(
    "ip",
    ["netns", "exec", netns, process.execPath, "--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=spec", ...files],
    { stdio: "inherit", env: { ...process.env, [NETNS_ENV]: netns } },
  );
  status = run.status ?? 1;
  console.error(`[localcloud] done in ${((Date.now() - started) / 1000).toFixed(0)} s, exit ${status}`);
} finally {
  ip("netns", "del", netns);
}
process.exit(status);
