/**
 * Real servers run on loopback for a test (Prometheus, Alertmanager, the exporters, LiteLLM): start one, wait
 * until it answers, stop it; and what a running Prometheus says: how it parses PromQL, which metric names it
 * holds per scrape job.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A TCP port free on 127.0.0.1 at the time of the call. */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RunningProgram {
  name: string;
  /** stdout and stderr so far. */
  log(): string;
  /** SIGTERM to its process group, SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/** How long one readiness request may take: a server that accepted the connection but never answers fails it. */
const READY_PROBE_TIMEOUT_MS = 5_000;

/**
 * The Python stack of every process in the process group `pgid`, read by py-spy (installed beside LiteLLM by
 * .ci/install-litellm.sh), or why it could not be read: what a Python server that does not answer is doing.
 */
export function pythonStacks(pgid: number, pySpy: string): string {
  const pids = spawnSync("pgrep", ["-g", String(pgid)], { encoding: "utf8" }).stdout.trim().split("\n").filter((p) => p !== "");
  return pids
    .map((pid) => {
      const dump = spawnSync(pySpy, ["dump", "--pid", pid], { encoding: "utf8", timeout: 30_000 });
      return `--- py-spy dump --pid ${pid}\n${dump.stdout}${dump.stderr}${dump.error ? String(dump.error) : ""}`;
    })
    .join("\n");
}

/**
 * Starts `binary` in its own process group and waits until `readyUrl` answers 200; fails with the end of its
 * log when it exits first or is not ready within `timeoutMs`, and then with what `diagnose` says of the
 * process group (say, its stacks) before it is stopped.
 */
export async function startProgram(
  name: string,
  binary: string,
  args: string[],
  opts: {
    readyUrl: string;
    cwd: string;
    env?: Record<string, string>;
    timeoutMs?: number;
    readyHeaders?: Record<string, string>;
    diagnose?: (pgid: number) => string;
  },
): Promise<RunningProgram> {
  const child = spawn(binary, args, { cwd: opts.cwd, env: opts.env ?? { PATH: "/usr/bin:/bin" }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")));
  const spawned = new Promise<void>((resolve, reject) => {
    child.once("spawn", () => resolve());
    child.once("error", reject);
  });
  await spawned;
  const tail = () => output.split("\n").slice(-30).join("\n");
  const program: RunningProgram = {
    name,
    log: () => output,
    stop: async () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      process.kill(-child.pid, "SIGTERM");
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, "SIGKILL");
    },
  };
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      assert.fail(`${name} exited (${child.exitCode ?? child.signalCode}) before it answered ${opts.readyUrl}:\n${tail()}`);
    }
    try {
      const res = await fetch(opts.readyUrl, { headers: opts.readyHeaders, signal: AbortSignal.timeout(READY_PROBE_TIMEOUT_MS) });
      if (res.status === 200) return program;
    } catch {
      // Not listening yet, or listening without answering.
    }
    if (Date.now() > deadline) {
      const diagnosis = opts.diagnose && child.pid !== undefined ? `\n${opts.diagnose(child.pid)}` : "";
      await program.stop();
      assert.fail(`${name} did not answer ${opts.readyUrl} within ${timeoutMs / 1000} s:\n${tail()}${diagnosis}`);
    }
    await sleep(250);
  }
}

/** The metric names in a text exposition (Prometheus text format or OpenMetrics): one per sample line. */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)?.[1];
    if (name !== undefined) names.add(name);
  }
  return names;
}

/** A series selector as Prometheus parses it: the metric name (empty when none is given) and every matcher. */
export interface ParsedSelector {
  name: string;
  matchers: { type: string; name: string; value: string }[];
}

/** The `data` of a successful Prometheus HTTP API answer. */
export async function prometheusApi<T>(base: string, route: string, params: Record<string, string> = {}): Promise<T> {
  const res = await fetch(`${base}/api/v1/${route}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params).toString(),
  });
  const body = (await res.json()) as { status: string; data: T; error?: string };
  assert.equal(body.status, "success", `Prometheus ${route} ${JSON.stringify(params)}: ${body.error ?? res.status}`);
  return body.data;
}

/**
 * Every series selector of a PromQL expression, instant and range alike, read from the syntax tree that the
 * running Prometheus's own parser returns (/api/v1/parse_query, the tree its UI explains queries with).
 */
export async function parsedSelectors(prometheusUrl: string, expr: string): Promise<ParsedSelector[]> {
  const tree = await prometheusApi<unknown>(prometheusUrl, "parse_query", { query: expr });
  const selectors: ParsedSelector[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (node === null || typeof node !== "object") return;
    const record = node as Record<string, unknown>;
    if (record.type === "vectorSelector" || record.type === "matrixSelector") {
      selectors.push({ name: typeof record.name === "string" ? record.name : "", matchers: (record.matchers ?? []) as ParsedSelector["matchers"] });
    }
    Object.values(record).forEach(visit);
  };
  visit(tree);
  return selectors;
}

/** The metric names the running Prometheus holds for the scrape job. */
export async function metricNamesOfJob(prometheusUrl: string, job: string): Promise<Set<string>> {
  const query = new URLSearchParams({ "match[]": `{job="${job}"}` }).toString();
  const res = await fetch(`${prometheusUrl}/api/v1/label/__name__/values?${query}`);
  const body = (await res.json()) as { status: string; data: string[] };
  assert.equal(body.status, "success", JSON.stringify(body));
  return new Set(body.data);
}
