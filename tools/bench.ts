/**
 * `npm run bench`: how long the offline plan takes to evaluate the program for each environment, and the
 * peak memory of the process doing it. Each run is a fresh process (the plan's real shape: one stack per
 * invocation); the table shows the median of the runs, with the min and max beside it.
 *
 *   npm run bench -- [--runs N]        (default 5 runs per environment, after one warm-up)
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { ENVIRONMENTS } from "../components/config";

interface Sample {
  evalMs: number;
  processMs: number;
  maxRssMiB: number;
}

const ONE_RUN = path.join(__dirname, "benchOne.ts");

function sample(stack: string): Sample {
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ["--import", "tsx", ONE_RUN, stack], { encoding: "utf8" });
  const processMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) throw new Error(`the ${stack} run failed:\n${child.stderr}`);
  const { evalMs, maxRssMiB } = JSON.parse(child.stdout.trim().split("\n").pop() ?? "{}") as Sample;
  return { evalMs, processMs, maxRssMiB };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function main() {
  const runsFlag = process.argv.indexOf("--runs");
  const runs = runsFlag >= 0 ? Number(process.argv[runsFlag + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs takes a whole number of 1 or more");
  const rows: string[][] = [];
  for (const stack of ENVIRONMENTS) {
    sample(stack); // warm-up: file cache, tsx's transform cache
    const samples = Array.from({ length: runs }, () => sample(stack));
    const cell = (pick: (s: Sample) => number, digits: number) => {
      const xs = samples.map(pick);
      return `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
    };
    rows.push([stack, String(runs), cell((s) => s.evalMs, 0), cell((s) => s.processMs, 0), cell((s) => s.maxRssMiB, 1)]);
  }
  const header = ["stack", "runs", "evaluation ms", "whole process ms", "peak RSS MiB"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
  console.log(`Offline plan benchmark: median (min-max) of ${runs} runs per stack, Node ${process.version}`);
  console.log([line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n"));
}

main();
