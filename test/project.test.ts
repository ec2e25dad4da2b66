/**
 * The project's own files agree with the code: Pulumi.yaml declares every setting the config module reads,
 * with the same type and default; the stack files set only known settings; the README documents them.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { SETTINGS } from "../components/config/schema";
import { PROJECT_ROOT } from "./harness";
import { accessTableMarkdown } from "../tools/accessTable";

const read = (file: string) => fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8");
const project = parse(read("Pulumi.yaml")) as {
  name: string;
  runtime: { name: string };
  config: Record<string, { type: string; default: unknown; description: string; items?: { type: string } }>;
};

describe("Pulumi.yaml", () => {
  it("is a Node.js project", () => {
    assert.equal(project.runtime.name, "nodejs");
    assert.match(project.name, /^[A-Za-z0-9_.-]+$/);
  });

  it("declares exactly the settings the config module reads, with the same type, default and description", () => {
    // After changing components/config/schema.ts: npx tsx tools/syncDocs.ts
    assert.deepEqual(Object.keys(project.config).sort(), Object.keys(SETTINGS).sort());
    for (const [key, declared] of Object.entries(SETTINGS)) {
      const inYaml = project.config[key];
      assert.equal(inYaml.type, declared.type, key);
      assert.deepEqual(inYaml.default, declared.default, key);
      assert.equal(inYaml.description, declared.description, key);
      if (declared.type === "array") assert.deepEqual(inYaml.items, { type: "string" }, key);
    }
  });
});

describe("the stack files", () => {
  for (const stack of ["dev", "prod"]) {
    it(`Pulumi.${stack}.yaml sets only declared settings, and no secret in plain text`, () => {
      const text = read(`Pulumi.${stack}.yaml`);
      const config = ((parse(text) as { config?: Record<string, unknown> }).config ?? {});
      for (const key of Object.keys(config)) {
        const [namespace, name] = key.split(":");
        assert.equal(namespace, project.name, `${key} is outside the project's namespace`);
        assert.ok(name in SETTINGS, `${key} is not a declared setting`);
      }
      for (const [key, value] of Object.entries(config)) {
        assert.doesNotMatch(key, /token|apiKey|secret|password/i, `${key} belongs in a secret, set per stack`);
        assert.doesNotMatch(JSON.stringify(value), /tskey-|sk-[A-Za-z0-9]{8}/, `${key} holds what looks like a key`);
      }
    });
  }
});

describe("README", () => {
  const readme = read("README.md");
  it("documents every setting with its default in the settings table", () => {
    // The settings table only: other tables (what a change replaces) name settings in their first column too.
    const table = readme.slice(readme.indexOf("<!-- settings:start -->"), readme.indexOf("<!-- settings:end -->"));
    for (const [key, declared] of Object.entries(SETTINGS)) {
      const row = table.split("\n").find((l) => l.startsWith(`| \`${key}\``));
      assert.ok(row, `README has no row for ${key}`);
      assert.ok(row.includes(`\`${JSON.stringify(declared.default).replace(/^"|"$/g, "")}\``), `README's default for ${key} is not ${JSON.stringify(declared.default)}`);
    }
  });

  it("shows who reaches what as the tailnet policy says (npx tsx tools/syncDocs.ts writes it)", () => {
    const block = readme.slice(readme.indexOf("<!-- access:start -->") + "<!-- access:start -->".length, readme.indexOf("<!-- access:end -->"));
    assert.equal(block.trim(), accessTableMarkdown());
    // The rows the design promises, in so many words.
    assert.match(block, /dev's deployers .*\| ai-dev-inference, ai-dev-operations: 22 ssh \| root on ai-dev-inference, ai-dev-operations \|/);
    assert.match(block, /a named admin .*after a check every 12h \|/);
  });

  it("gives the two commands: the offline plan and the tests", () => {
    assert.match(readme, /npm ci && npm run plan -- dev/);
    assert.match(readme, /^bash \.ci\/run +# the whole test suite/m);
    // The test command installs what the tests need, then runs all of them, the local cloud included.
    const ci = read(".ci/run");
    for (const step of ["npm ci", "bash .ci/install-validators.sh", "bash .ci/install-pulumi-engine.sh", "npm run lint", "npm run typecheck", "npm test", "npm run test:lifecycle"]) {
      assert.ok(ci.includes(step), `.ci/run does not run ${step}`);
    }
  });
});
