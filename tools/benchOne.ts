/** One benchmark sample: evaluates the program for a stack under mocks and prints time and peak memory. */
import { runProgram } from "./mocksRunner";
import { buildReport, renderedFiles } from "./report";

async function main(stack: string) {
  const started = process.hrtime.bigint();
  const run = await runProgram(stack);
  buildReport(run);
  renderedFiles(run);
  const evalMs = Number(process.hrtime.bigint() - started) / 1e6;
  // resourceUsage().maxRSS is in KiB.
  console.log(JSON.stringify({ evalMs, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

main(process.argv[2] ?? "dev").then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
