/**
 * The security boundary is two things that must agree: the ports the containers publish on each node's
 * tailnet address, and the tailnet policy's grants. This checks, for each stack as the program declares it,
 * that every published port has a grant and that every grant names a port something publishes there.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse as parseHujson } from "jsonc-parser";
import { nodeTag } from "../components/catalog/identities";
import { NODE_ROLES, type NodeRole, SERVICES } from "../components/catalog/services";
import type { TailnetPolicy } from "../components/render/tailnetPolicy";
import { nodePlacement } from "../tools/nodePlacement";
import { renderedFiles } from "../tools/report";
import { isAfterDeploy, ProgramRun, projectName, runProgram } from "./harness";

const CONTAINER = "docker:index/container:Container";

/** The TCP ports that answer on each node's tailnet address, from what the program declared. */
export function publishedOnTailnet(run: ProgramRun): Record<NodeRole, Set<number>> {
  const placement = nodePlacement(run);
  const published: Record<NodeRole, Set<number>> = { inference: new Set(), operations: new Set(), worker: new Set() };
  for (const c of run.ofType(CONTAINER)) {
    const role = placement.roleOf(c);
    assert.ok(role, `container ${c.name} is on no node`);
    for (const p of (c.inputs.ports ?? []) as { external?: number; internal: number; ip?: string }[]) {
      // Under mocks the node's tailnet address is not known yet: it is the after-deploy marker.
      if (isAfterDeploy(p.ip)) published[role].add(p.external ?? p.internal);
    }
  }
  // What is not a container: Tailscale SSH on every node (the bootstrap runs `tailscale up --ssh`), and the
  // services whose own installer publishes them. The policy covers every environment and cannot know whether
  // another environment turned Coolify on, so its port counts as published on its role in every environment:
  // where it is off, the grant opens a port on which nothing answers.
  for (const role of NODE_ROLES) {
    const userData = String(run.ofType("hcloud:index/server:Server").find((s) => placement.roleOf(s) === role)?.inputs.userData);
    if (userData.includes("--ssh")) published[role].add(SERVICES.ssh.ports[0].port);
    for (const p of SERVICES.coolify.ports.filter((p) => p.publishedOn.includes(role))) published[role].add(p.port);
  }
  return published;
}

/** The TCP ports some grant opens on each role's node of one environment. */
export function grantedOnTailnet(policy: TailnetPolicy, prefix: string, environment: string): Record<NodeRole, Set<number>> {
  const granted: Record<NodeRole, Set<number>> = { inference: new Set(), operations: new Set(), worker: new Set() };
  for (const role of NODE_ROLES) {
    const tag = nodeTag(prefix, environment, role);
    for (const grant of policy.grants.filter((g) => g.dst.includes(tag))) {
      for (const ip of grant.ip) {
        const match = /^tcp:(\d+)$/.exec(ip);
        assert.ok(match, `grant entry "${ip}" to ${tag} is not one TCP port: the boundary check reads ports only`);
        granted[role].add(Number(match[1]));
      }
    }
  }
  return granted;
}

/** Every disagreement between what is published and what is granted, as sentences. */
export function boundaryMismatches(published: Record<NodeRole, Set<number>>, granted: Record<NodeRole, Set<number>>): string[] {
  const problems: string[] = [];
  for (const role of NODE_ROLES) {
    for (const port of published[role]) {
      if (!granted[role].has(port)) problems.push(`the ${role} node publishes ${port} on its tailnet address, but no grant opens it`);
    }
    for (const port of granted[role]) {
      if (!published[role].has(port)) problems.push(`a grant opens ${port} on the ${role} node, where nothing publishes it`);
    }
  }
  return problems;
}

function policyOf(run: ProgramRun): TailnetPolicy {
  const text = renderedFiles(run).find((f) => f.path === "tailnet-policy.hujson")?.content;
  assert.ok(text, "the program renders the tailnet policy");
  return parseHujson(text) as TailnetPolicy;
}

for (const stack of ["dev", "prod"]) {
  describe(`the ${stack} stack's security boundary`, () => {
    let run: ProgramRun;
    before(async () => {
      run = await runProgram(stack);
    });

    it("every port published on a tailnet address has a grant, and every grant a listener", () => {
      const published = publishedOnTailnet(run);
      assert.deepEqual(boundaryMismatches(published, grantedOnTailnet(policyOf(run), "ai", stack)), []);
      // The check had something to check: the services users and Prometheus reach are published.
      assert.ok(published.inference.has(4000) && published.inference.has(6333) && published.operations.has(3000));
      // LiteLLM's metrics port, which Prometheus scrapes holding no key, is granted like every other.
      assert.ok(published.inference.has(4001));
    });

    it("fails on a port published without a grant, and on a grant to a port nothing publishes", () => {
      const granted = grantedOnTailnet(policyOf(run), "ai", stack);
      const published = publishedOnTailnet(run);
      // A container moved to another port: the old grant has no listener and the new port no grant.
      published.inference.delete(4000);
      published.inference.add(4002);
      assert.deepEqual(boundaryMismatches(published, granted), [
        "the inference node publishes 4002 on its tailnet address, but no grant opens it",
        "a grant opens 4000 on the inference node, where nothing publishes it",
      ]);
    });
  });
}

describe("a dev stack with an extra inference node: its security boundary", () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram("dev", { set: { [`${projectName()}:devInferenceNodes`]: ["name=b type=cx33"] } });
  });

  it("every port the worker publishes has a grant, and every grant to the worker tag a listener", () => {
    const published = publishedOnTailnet(run);
    assert.deepEqual(boundaryMismatches(published, grantedOnTailnet(policyOf(run), "ai", "dev")), []);
    // Qdrant's API, gRPC and peer-to-peer ports: its peer of the cluster.
    assert.deepEqual([...published.worker].sort((a, b) => a - b), [22, 6333, 6334, 6335, 8080, 9100, 11434]);
    // The inference node's own Ollama stays unpublished; its Qdrant, now the cluster's first peer, publishes the peer port.
    assert.ok(!published.inference.has(11434));
    assert.ok(published.inference.has(6335));
  });
});
