/**
 * The Prometheus programs at the versions the stack deploys, built into .tools/bin by
 * .ci/install-prometheus-tools.sh (promtool, amtool, and the servers the metric-name test runs), and PromQL
 * checked by the real promtool. Tests using them fail, never skip, when a program is missing: a green run
 * must mean the program ran.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { requireBinary } from "./index";

/** Where the install script puts the tools. */
export const PROMETHEUS_TOOLS_DIR = path.resolve(__dirname, "..", "..", ".tools", "bin");

export type PrometheusTool = "promtool" | "amtool" | "prometheus" | "alertmanager" | "node_exporter" | "blackbox_exporter";

/** The tool's path; fails with how to install it when it is missing. */
export function requirePrometheusTool(tool: PrometheusTool): string {
  const binary = path.join(PROMETHEUS_TOOLS_DIR, tool);
  requireBinary(binary, `run \`bash .ci/install-prometheus-tools.sh\` to build ${tool} at the deployed version`);
  return binary;
}

export interface ToolResult {
  status: number | null;
  /** stdout and stderr together. */
  output: string;
  stdout: string;
}

/** Runs the tool with the arguments; fails only when it cannot be started. */
export function runPrometheusTool(tool: PrometheusTool, args: string[], cwd?: string): ToolResult {
  const binary = requirePrometheusTool(tool);
  const result = spawnSync(binary, args, { encoding: "utf8", cwd });
  assert.equal(result.error, undefined, `could not run ${binary}: ${String(result.error)}`);
  return { status: result.status, output: `${result.stdout}${result.stderr}`, stdout: result.stdout };
}

/** A fresh temporary directory. */
export function tempDir(prefix = "prometheus-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Asserts that promtool accepts every expression as PromQL. Each becomes a recording rule in a temporary rule
 * file checked with `promtool check rules`; a failure names the rule (`check:expr_<index>`) and the expression.
 *
 * Grafana queries carry template variables (`$__rate_interval`, `$job`, `${instance}`) that are not PromQL:
 * pass their stand-in values in `variables` (name without `$`), e.g. `{ __rate_interval: "5m", job: "node" }`.
 */
export function promtoolCheckExpressions(exprs: string[], variables: Record<string, string> = {}): void {
  assert.ok(exprs.length > 0, "promtoolCheckExpressions needs at least one expression");
  const rules = exprs.map((expr, index) => ({ record: `check:expr_${index}`, expr: substituteVariables(expr, variables) }));
  const file = path.join(tempDir("promql-"), "expressions.yml");
  fs.writeFileSync(file, stringify({ groups: [{ name: "expressions", rules }] }, { lineWidth: 0 }));
  const result = runPrometheusTool("promtool", ["check", "rules", file]);
  const listing = rules.map((r) => `  ${r.record}: ${r.expr}`).join("\n");
  assert.equal(result.status, 0, `promtool rejects PromQL:\n${result.output}\nexpressions:\n${listing}`);
  assert.match(result.output, new RegExp(`SUCCESS: ${rules.length} rules found`), result.output);
}

/**
 * The query with Grafana's template variables (`$name`, `${name}`, `[[name]]`) replaced by the stand-in values
 * in `variables` (names without `$`), as Grafana does before a query reaches Prometheus.
 */
export function substituteVariables(expr: string, variables: Record<string, string>): string {
  // Longest names first, so that $job does not eat the start of $job_name.
  const names = Object.keys(variables).sort((a, b) => b.length - a.length);
  return names.reduce(
    (text, name) => text.split("${" + name + "}").join(variables[name]).split("[[" + name + "]]").join(variables[name]).split("$" + name).join(variables[name]),
    expr,
  );
}
