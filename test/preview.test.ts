/**
 * A real `pulumi preview` of dev and prod: the real CLI, language host and provider plugins (test/localcloud/
 * engine.ts) run the real program with each stack's own settings and the project's policy pack, in a
 * throwaway local backend with dummy credentials (a preview makes no API calls). It must plan exactly what the
 * mocks harness records for the same stack, with no error, no warning beyond the ambient-plugin notices, and
 * no policy violation; and a bad setting must stop it with the settings message, without a stack trace.
 *
 * Needs the Pulumi engine: a `pulumi` on PATH with its plugins, or the offline one that
 * `bash .ci/install-pulumi-engine.sh` installs (it is run for you when there is no pulumi on PATH). Without
 * it these tests fail, never skip, and say how to install it.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { ProgramRun, projectName, runProgram } from "./harness";
import { createProjectStack, POLICY_PACK_DIR } from "./localcloud/engine";

const PROJECT = projectName();
const SERVER = "hcloud:index/server:Server";

/** The policy pack's name, as policy/index.ts declares it. */
const POLICY_PACK = /new PolicyPack\("([^"]+)"/.exec(fs.readFileSync(path.join(POLICY_PACK_DIR, "index.ts"), "utf8"))?.[1];

/** Engine events the SDK's types do not describe yet (CLI 3.248 sends them). */
interface PolicySummary {
  resourceUrn?: string;
  policyPackName: string;
  passed?: string[];
  failed?: string[];
}
type Event = EngineEvent & {
  policyAnalyzeSummaryEvent?: PolicySummary;
  policyAnalyzeStackSummaryEvent?: PolicySummary;
  summaryEvent?: { PolicyPacks?: Record<string, string> };
};

/** What a policy reports when it reads a value that only a deployment knows: it could not run, nothing more. */
const CANNOT_RUN_IN_PREVIEW = /^can't run policy '[^']+' from policy pack '[^']+' during preview: .* can't be known during preview\s*$/;
const AMBIENT_PLUGIN_NOTICE = /^using pulumi-resource-[a-z]+ from \$PATH at \S+\s*$/;

const resourceName = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);
const isDefaultProvider = (type: string, urn: string): boolean =>
  type.startsWith("pulumi:providers:") && resourceName(urn).startsWith("default");
const countBy = (items: string[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item] = (counts[item] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
};

interface Preview {
  events: Event[];
  changeSummary: Record<string, number>;
  seconds: number;
}

async function preview(stack: string, config: Record<string, unknown> = {}): Promise<Preview> {
  const project = await createProjectStack({ stack, config });
  const events: Event[] = [];
  const started = Date.now();
  try {
    const result = await project.stack.preview({ policyPacks: [POLICY_PACK_DIR], onEvent: (e) => events.push(e) });
    return { events, changeSummary: result.changeSummary, seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    // The events so far are what a failing preview is judged by.
    throw Object.assign(err as Error, { events, seconds: (Date.now() - started) / 1000 });
  } finally {
    await project.cleanup();
  }
}

/** The resources a preview plans, as `type::name`, without the stack itself and the default providers. */
function planned(events: Event[]): { urn: string; key: string; type: string; op: string; inputs: Record<string, unknown> }[] {
  return events
    .map((e) => e.resourcePreEvent?.metadata)
    .filter((m) => m !== undefined)
    .filter((m) => m.type !== "pulumi:pulumi:Stack" && !isDefaultProvider(m.type, m.urn))
    .map((m) => ({
      urn: m.urn,
      key: `${m.type}::${resourceName(m.urn)}`,
      type: m.type,
      op: m.op,
      inputs: (m.new?.inputs ?? {}) as Record<string, unknown>,
    }));
}

// One preview at a time: each is a CPU-bound pulumi, language host (with its TypeScript check) and six plugins.
describe("pulumi preview, through the Automation API, with the policy pack", () => {
  // The program under mocks: what each stack declares. Recorded one stack at a time (the mocks are global).
  const mocks: Record<string, ProgramRun> = {};
  before(async () => {
    for (const stack of ["dev", "prod"]) mocks[stack] = await runProgram(stack, { preview: true });
  });

  for (const stack of ["dev", "prod"]) {
    it(`${stack}: plans what the program declares under mocks, with no error and no policy violation`, async (t) => {
      const { events, changeSummary, seconds } = await preview(stack);
      const plan = planned(events);
      const mock = mocks[stack];
      t.diagnostic(`${stack}: ${JSON.stringify(changeSummary)} in ${seconds.toFixed(1)} s`);

      // A new stack: everything is a create; the program's own resources plus the stack, nothing else.
      assert.deepEqual(Object.keys(changeSummary), ["create"]);
      assert.deepEqual([...new Set(plan.map((p) => p.op))], ["create"]);
      assert.equal(changeSummary.create, plan.length + 1, "the summary counts the planned resources and the stack");

      // The same resources, by type and name, as the mocks harness records for this stack.
      assert.deepEqual(plan.map((p) => p.key).sort(), mock.resources.map((r) => `${r.type}::${r.name}`).sort());
      const counts = countBy(plan.map((p) => p.type));
      t.diagnostic(`${stack} creates by type: ${JSON.stringify(counts)}`);
      // The core of either environment, spelled out.
      const containers = mock.ofType("docker:index/container:Container").length;
      for (const [type, expected] of Object.entries({
        [SERVER]: 2,
        "hcloud:index/volume:Volume": 2,
        "hcloud:index/volumeAttachment:VolumeAttachment": 2,
        "hcloud:index/firewall:Firewall": 2,
        "hcloud:index/sshKey:SshKey": 1,
        "tailscale:index/tailnetKey:TailnetKey": 2,
        "pulumi:providers:docker": 2,
        "docker:index/container:Container": containers,
        "docker:index/remoteImage:RemoteImage": containers,
      })) {
        assert.equal(counts[type], expected, `${type}: ${counts[type]} planned, ${expected} expected`);
      }
      for (const role of ["inference", "operations"]) {
        const onNode = plan.filter((p) => p.type === "docker:index/container:Container" && p.key.includes(`-${stack}-${role}-`));
        assert.ok(onNode.length > 0, `no container on the ${role} node`);
      }
      // The servers carry the stack's settings, as the mocks saw them.
      for (const server of plan.filter((p) => p.type === SERVER)) {
        const name = server.key.split("::")[1];
        const recorded = mock.one(SERVER, name).inputs;
        for (const key of ["serverType", "location", "image", "backups", "deleteProtection", "rebuildProtection", "labels"]) {
          assert.deepEqual(server.inputs[key], recorded[key], `${name}.${key}`);
        }
      }

      // No error; the only warnings are the engine's notices that it uses the plugins on PATH.
      const diagnostics = events.map((e) => e.diagnosticEvent).filter((d) => d !== undefined);
      assert.deepEqual(diagnostics.filter((d) => d.severity === "error").map((d) => d.message), []);
      const warnings = diagnostics.filter((d) => d.severity === "warning").map((d) => d.message);
      assert.deepEqual(warnings.filter((w) => !AMBIENT_PLUGIN_NOTICE.test(w)), [], "unexpected warnings");

      // The policy pack ran.
      assert.ok(POLICY_PACK, "policy/index.ts names its PolicyPack");
      const summary = events.find((e) => e.summaryEvent)?.summaryEvent;
      const packs = Object.keys(summary?.PolicyPacks ?? {});
      assert.ok(packs.some((p) => p.startsWith(POLICY_PACK)), `the policy pack did not run: ${JSON.stringify(packs)}`);
      const analyzed = events.map((e) => e.policyAnalyzeSummaryEvent).filter((s) => s !== undefined);
      const seen = new Set(analyzed.map((s) => s.resourceUrn));
      assert.deepEqual(plan.filter((p) => !seen.has(p.urn)).map((p) => p.key), [], "resources the policy pack did not see");
      // No violation at any level: the pack's only reports are policies that could not run because they read
      // a value only a deployment knows (an image digest, a tailnet address, a generated key). Those checks
      // run at `pulumi up`, on the resolved values.
      const reports = events.map((e) => e.policyEvent).filter((p) => p !== undefined);
      const violations = reports.filter((p) => !(String(p.enforcementLevel) === "advisory" && CANNOT_RUN_IN_PREVIEW.test(p.message)));
      assert.deepEqual(violations.map((v) => `${v.policyName} (${v.enforcementLevel}) ${v.resourceUrn}: ${v.message}`), []);
      const cannotRun = new Set(reports.map((p) => `${p.resourceUrn ?? ""} ${p.policyName}`));
      const stackSummary = events.find((e) => e.policyAnalyzeStackSummaryEvent)?.policyAnalyzeStackSummaryEvent;
      for (const s of [...analyzed, ...(stackSummary ? [stackSummary] : [])]) {
        for (const failed of s.failed ?? []) {
          const urn = s.resourceUrn ?? reports.find((p) => p.policyName === failed)?.resourceUrn ?? "";
          assert.ok(cannotRun.has(`${urn} ${failed}`), `${failed} failed on ${urn}`);
        }
      }
      t.diagnostic(
        `${stack}: policies that could not run during preview: ${JSON.stringify(countBy(reports.map((p) => p.policyName)))}`,
      );
      // The rules that read only what a preview knows did run, and passed, on every resource they cover.
      const passedOn = (type: string, policy: string) => {
        const urns = new Set(plan.filter((p) => p.type === type).map((p) => p.urn));
        const passing = analyzed.filter((s) => urns.has(s.resourceUrn ?? "") && s.passed?.includes(policy));
        assert.ok(urns.size > 0 && passing.length === urns.size, `${policy} passed on ${passing.length} of ${urns.size} ${type}`);
      };
      passedOn(SERVER, "server-has-firewall");
      passedOn("hcloud:index/firewall:Firewall", "firewall-no-public-tcp");
      passedOn("docker:index/container:Container", "container-memory-and-restart");
    });
  }

  it("a bad setting stops the real preview with the settings message, without a stack trace", async (t) => {
    const started = Date.now();
    const err = await preview("dev", { [`${PROJECT}:inferenceServerType`]: "cx999" }).then(
      () => assert.fail("the preview of an unknown server type succeeded"),
      (e: Error & { events?: Event[] }) => e,
    );
    t.diagnostic(`failed as expected in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const errors = (err.events ?? [])
      .map((e) => e.diagnosticEvent)
      .filter((d) => d?.severity === "error")
      .map((d) => d?.message ?? "");
    assert.equal(errors.length, 1, `one error expected: ${JSON.stringify(errors)}`);
    const [message] = errors;
    assert.match(message, /^The stack's settings need a fix before anything is created:/);
    assert.match(message, new RegExp(`${PROJECT}:inferenceServerType is "cx999", which is not a Hetzner server type: use one of .*cx23`));
    for (const text of [message, err.message]) {
      assert.doesNotMatch(text, /^\s+at \S.*:\d+:\d+\)?$/m, "a stack trace was printed");
      assert.doesNotMatch(text, /failed with an unhandled exception/);
    }
    assert.match(err.message, /inferenceServerType is "cx999"/, "the CLI's own output carries the message");
    assert.deepEqual(planned(err.events ?? []), [], "a refused setting must plan no resource");
  });

  it("a secret setting in plain text stops the real preview, naming the key and the command", async () => {
    // createProjectStack sets `config` in plain text, as a stack file without `secure:` has it.
    const err = await preview("dev", { [`${PROJECT}:openaiApiKey`]: "sk-plain-text" }).then(
      () => assert.fail("the preview of a plain-text API key succeeded"),
      (e: Error & { events?: Event[] }) => e,
    );
    const errors = (err.events ?? []).map((e) => e.diagnosticEvent).filter((d) => d?.severity === "error").map((d) => d?.message ?? "");
    assert.equal(errors.length, 1, `one error expected: ${JSON.stringify(errors)}`);
    assert.ok(
      errors[0].includes(
        `${PROJECT}:openaiApiKey is set in plain text (in Pulumi.dev.yaml): remove it from the file and set it encrypted ` +
          `with \`pulumi config set --secret ${PROJECT}:openaiApiKey\``,
      ),
      errors[0],
    );
    assert.doesNotMatch(errors[0], /sk-plain-text/, "the message must not print the secret");
  });
});
