/**
 * The offline plan: `npm run plan -- <env> [--out DIR]`. Evaluates the real program for a stack under
 * Pulumi's mocks, with no credentials and no Pulumi CLI, prints what it would build, and writes every
 * rendered file into DIR (default plan-out/<env>).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ENVIRONMENTS } from "../components/config";
import { runProgram } from "./mocksRunner";
import { buildReport, renderedFiles } from "./report";

const USAGE = `usage: npm run plan -- <${ENVIRONMENTS.join("|")}> [--out DIR]`;

async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  const outIndex = args.indexOf("--out");
  const outArg = outIndex >= 0 ? args.splice(outIndex, 2)[1] : undefined;
  const stack = args[0];
  if (!stack || args.length > 1 || (outIndex >= 0 && !outArg) || stack.startsWith("-")) {
    console.error(USAGE);
    return 2;
  }
  const outDir = path.resolve(outArg ?? path.join("plan-out", stack));

  let run;
  try {
    run = await runProgram(stack);
  } catch (err) {
    // A settings mistake is the user's to fix: its message alone, never a stack trace.
    const message = err instanceof Error ? err.message : String(err);
    console.error(message);
    return 1;
  }

  process.stdout.write(buildReport(run));
  const files = renderedFiles(run);
  for (const file of files) {
    const target = path.join(outDir, file.path);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, file.content);
  }
  console.log(`\n## Rendered files, written to ${outDir}`);
  for (const file of files) console.log(`  ${file.path} (${Buffer.byteLength(file.content)} bytes)`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
