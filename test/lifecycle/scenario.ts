/**
 * What every lifecycle scenario needs: a local cloud seeded as the stack expects it, a throwaway stack of the
 * real project pointed at it, and the offline plan of the same stack to compare the fakes' state with.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { ProgramRun, runProgram } from "../../tools/mocksRunner";
import { LocalCloud, NETNS_ENV, log } from "../localcloud/cloud";
import { createProjectStack, type ProjectStack } from "../localcloud/engine";
import type { FakeNode } from "../localcloud/node";

/** Why a scenario does not run: outside `npm run test:lifecycle` (so `npm test` skips them). */
export const SKIP = process.env[NETNS_ENV]
  ? false
  : "lifecycle scenario: runs only under `npm run test:lifecycle` (a network namespace of its own, as root)";

export interface Scenario {
  cloud: LocalCloud;
  project: ProjectStack;
  /** The offline plan of the same stack (mocks): what the program declares. */
  plan: ProgramRun;
  close(): Promise<void>;
}

export interface ScenarioOptions {
  /**
   * The tailnet's policy at the start: "merged" (the default) is the policy the stack outputs, as its README
   * tells the user to merge it; "default" is a new tailnet's, which defines no tags.
   */
  tailnetPolicy?: "merged" | "default";
  /** Changes the merged policy before the tailnet starts with it: a tailnet merged from an earlier version. */
  editPolicy?: (merged: string) => string;
}

/**
 * Starts a local cloud for `stack` and a stack of the real project against it. A stack that does not manage the
 * tailnet policy finds the tailnet holding the policy it outputs, unless `options` say otherwise.
 */
export async function startScenario(stack: string, options: ScenarioOptions = {}): Promise<Scenario> {
  const plan = await runProgram(stack);
  const merged = options.tailnetPolicy === "default" ? undefined : plan.outputs.tailnetPolicy;
  const policy = typeof merged === "string" && options.editPolicy ? options.editPolicy(merged) : merged;
  const cloud = new LocalCloud({ initialPolicy: typeof policy === "string" ? policy : undefined });
  await cloud.start();
  log(`stack ${stack}: Hetzner at ${cloud.hetzner.endpoint}, Tailscale at ${cloud.tailscale.baseUrl}`);
  try {
    const project = await createProjectStack({
      stack,
      config: cloud.providerConfig(),
      env: cloud.providerEnv(),
      secrets: LocalCloud.credentials(),
    });
    log(`stack ${stack}: project in ${path.relative(process.cwd(), project.workDir) || project.workDir}`);
    return {
      cloud,
      project,
      plan,
      close: async () => {
        await project.cleanup();
        await cloud.stop();
      },
    };
  } catch (err) {
    await cloud.stop();
    throw err;
  }
}

/** Progress lines of the engine, shortened: one per resource event. */
export function onOutput(prefix: string): (line: string) => void {
  return (text: string) => {
    for (const line of text.split("\n")) {
      const progress = /^\s*[+~-]+\s+\S+ \S+ (created|deleted|updated|replaced|failed)/.test(line) || /error|Resources:|Duration:|refus/.test(line);
      if (progress && !/using pulumi-resource/.test(line)) log(`${prefix} ${line.trim()}`);
    }
  };
}

/** Every resource step of an update that is not "same": `op type::name`, and an update's changed properties. */
export function changesOf(events: EngineEvent[]): string[] {
  return events
    .map((e) => e.resOutputsEvent?.metadata ?? e.resourcePreEvent?.metadata)
    .filter((m): m is NonNullable<typeof m> => m !== undefined && m.op !== "same" && m.op !== "read")
    .map((m) => `${m.op} ${m.type}::${m.urn.split("::").pop()}${m.op === "update" ? ` [${[...(m.diffs ?? [])].sort().join(",")}]` : ""}`)
    .filter((line, i, all) => all.indexOf(line) === i);
}

/**
 * Runs `pulumi up`, fails unless it succeeded, and returns its steps (changesOf), each resource name of a LiteLLM
 * or Prometheus container shortened to the container's name, and the stack's outputs.
 */
export async function upSteps(s: Scenario, label: string): Promise<{ changes: string[]; outputs: Record<string, { value: unknown }> }> {
  const events: EngineEvent[] = [];
  const result = await s.project.stack.up({ onOutput: onOutput(label), onEvent: (e) => events.push(e), color: "never" });
  log(`${label}: ${JSON.stringify(result.summary.resourceChanges)}`);
  assert.equal(result.summary.result, "succeeded");
  const changes = changesOf(events).map((c) => c.replace(/::[a-z0-9]+-[a-z0-9]+-[a-z-]*?-(litellm|prometheus)$/, "::$1"));
  log(`${label}: ${changes.join("; ")}`);
  return { changes, outputs: result.outputs };
}

/** A file's text in a container of a fake node, empty when the container or the file is not there. */
export function containerFile(node: FakeNode, container: string, file: string): string {
  const c = node.docker.containerByName(container);
  return c ? (node.docker.fileText(c, file) ?? "") : "";
}

/**
 * The server of a node by its labels: "inference", "operations", or an extra inference node's name (its server
 * is labelled role=worker, node=<name>); undefined when there is none.
 */
export function serverOf(s: Scenario, node: string) {
  return [...s.cloud.hetzner.state.servers.values()].find((x) => (x.labels.role === "worker" ? x.labels.node : x.labels.role) === node);
}

/** The running fake node of a node's server (serverOf): its boot that has not been deleted. */
export function runningNode(s: Scenario, node: string): FakeNode {
  const server = serverOf(s, node);
  assert.ok(server, `no server for the ${node} node`);
  const boot = s.cloud.boots.find((b) => b.serverId === server.id && b.node && !b.deletedAt);
  assert.ok(boot?.node, `the ${node} node's server ${server.name} is not running`);
  return boot.node;
}
