/**
 * `npm run test:lifecycle`: runs the local cloud's lifecycle tests (every *.test.ts under test/lifecycle, sorted)
 * with `node --import tsx --test --test-reporter=spec`, inside a fresh network namespace that only they see
 * (test/localcloud/netns.ts), and exits with the test run's exit code once the namespace is deleted.
 *
 *   npm run test:lifecycle                                  # every lifecycle test
 *   npm run test:lifecycle -- test/lifecycle/x.test.ts      # only these files
 *   npm run test:lifecycle -- --test-name-pattern=replace   # options go to node --test
 *
 * Needs root, for the namespace. Inside, a test adds its fake nodes' addresses with addAddress().
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { reexecInNetns } from "../localcloud/netns";

const HERE = __dirname;
const ROOT = path.resolve(HERE, "..", "..");

function testFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? testFiles(path.join(dir, e.name)) : e.name.endsWith(".test.ts") ? [path.join(dir, e.name)] : []));
}

async function main(): Promise<never> {
  const args = process.argv.slice(2);
  const options = args.filter((a) => a.startsWith("-"));
  const chosen = args.filter((a) => !a.startsWith("-"));
  const files = (chosen.length > 0 ? chosen : testFiles(HERE).sort()).map((f) => path.relative(ROOT, path.resolve(f)));
  if (files.length === 0) {
    // `node --test` without files would run every test of the repository: say so instead.
    console.error(`test:lifecycle: no *.test.ts under ${path.relative(ROOT, HERE)}: nothing to run`);
    process.exit(1);
  }
  process.chdir(ROOT);
  return reexecInNetns([process.execPath, "--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=spec", ...options, ...files]);
}

void main();
