/**
 * The README's access table: who reaches which port of which node, and who logs in as root, read from the
 * tailnet policy the stacks render (components/plan/tailnetPolicy.ts) for the project's default deployers,
 * with one named admin and one user standing for `tailnetAdmins` and `tailnetUsers`. tools/syncDocs.ts writes
 * it; test/project.test.ts fails when the README's copy differs.
 */
import { SERVICE_PORTS } from "../components/catalog/services";
import { DEPLOYERS_SETTING, ENVIRONMENTS, type Environment } from "../components/config";
import { accessBySource } from "../components/plan/tailnetAccess";
import { buildTailnetPolicy, stackPolicySpec } from "../components/plan/tailnetPolicy";
import { SETTINGS } from "../components/config/schema";

/** The example identities the table is drawn for. */
export const EXAMPLE_ADMIN = "admin@example.com";
export const EXAMPLE_USER = "alice@example.com";

/** The access table as Markdown, for the project's defaults. */
export function accessTableMarkdown(): string {
  const prefix = SETTINGS.namePrefix.default;
  const deployers = Object.fromEntries(ENVIRONMENTS.map((env) => [env, [...(SETTINGS[DEPLOYERS_SETTING[env]].default as readonly string[])]])) as Record<
    Environment,
    string[]
  >;
  const policy = buildTailnetPolicy(
    stackPolicySpec({
      namePrefix: prefix,
      tailnet: { deployers, admins: [EXAMPLE_ADMIN], users: [EXAMPLE_USER], managePolicy: false },
      backends: { dev: [], prod: [] },
    }),
  );
  const serviceOf = (port: number) => SERVICE_PORTS.find((p) => p.port === port)?.name ?? String(port);
  const who = (source: string): string => {
    if (source === "autogroup:admin") return "the tailnet's admins (`autogroup:admin`)";
    if (source === EXAMPLE_ADMIN) return `a named admin (\`tailnetAdmins\`, here ${EXAMPLE_ADMIN})`;
    if (source === `group:${prefix}-users`) return `the user group \`${source}\` (\`tailnetUsers\`)`;
    for (const env of ENVIRONMENTS) {
      if (deployers[env].includes(source)) return `${env}'s deployers (\`${DEPLOYERS_SETTING[env]}\`, by default \`${source}\`)`;
      if (source === `tag:${prefix}-${env}-operations`) return `${env}'s operations node (\`${source}\`)`;
    }
    return `\`${source}\``;
  };
  const node = (tag: string) => tag.replace(/^tag:/, "");
  const rows = accessBySource(policy).map((r) => {
    // Nodes reached on the same ports share one entry: "ai-dev-inference, ai-prod-inference: 4000 litellm, ...".
    const byPorts = new Map<string, string[]>();
    for (const [tag, ports] of Object.entries(r.reaches)) {
      const key = ports.map((p) => `${p} ${serviceOf(p)}`).join(", ");
      byPorts.set(key, [...(byPorts.get(key) ?? []), node(tag)]);
    }
    const reaches = [...byPorts].map(([ports, nodes]) => `${nodes.join(", ")}: ${ports}`).join("; ");
    const ssh = r.ssh
      .map((s) => `${s.users.join(", ")} on ${s.dst.map(node).join(", ")}${s.action === "check" ? `, after a check every ${s.checkPeriod ?? "12h"}` : ""}`)
      .join("; ");
    return `| ${who(r.source)} | ${reaches || "nothing"} | ${ssh || "no"} |`;
  });
  return [
    "| who | reaches over the tailnet (TCP) | Tailscale SSH |",
    "|---|---|---|",
    ...rows,
    "| anyone else on the tailnet, and every inference node | nothing | no |",
  ].join("\n");
}
