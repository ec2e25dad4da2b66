/**
 * Writes what the code declares where people and the CLI read it: the settings (components/config/schema.ts)
 * into Pulumi.yaml's declarations and the README's settings table, and the outputs contract
 * (components/outputs.ts) into the README's outputs table, and the tailnet policy's access table
 * (tools/accessTable.ts) into the README. Run after changing either:
 * `npx tsx tools/syncDocs.ts`; test/project.test.ts and test/outputs.test.ts fail until it has been.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { OUTPUT_CONTRACT } from "../components/outputs";
import { SECRET_SETTINGS, SETTINGS } from "../components/config/schema";
import { accessTableMarkdown } from "./accessTable";

const config = Object.fromEntries(
  Object.entries(SETTINGS).map(([key, s]) => [
    key,
    {
      type: s.type,
      ...(s.type === "array" ? { items: { type: "string" } } : {}),
      default: s.default,
      description: s.description,
    },
  ]),
);

const project = {
  name: "ai-platform",
  description:
    "A private, self-hosted AI platform: Ollama, LiteLLM, Qdrant and monitoring on two Hetzner servers joined by Tailscale",
  runtime: { name: "nodejs", options: { packagemanager: "npm", typescript: true } },
  config,
};

const root = path.join(__dirname, "..");
const header = "# Generated from components/config/schema.ts by tools/syncDocs.ts: edit the schema, not this file.\n";
fs.writeFileSync(path.join(root, "Pulumi.yaml"), header + stringify(project, { lineWidth: 0 }));

const cell = (text: string) => text.replace(/\|/g, "\\|");
const table = [
  "| setting | type | default | meaning |",
  "|---|---|---|---|",
  ...Object.entries(SETTINGS).map(
    ([key, s]) => `| \`${key}\` | ${s.type} | \`${JSON.stringify(s.default).replace(/^"|"$/g, "")}\` | ${cell(s.description)} |`,
  ),
  "",
  "Secret settings, each set with `pulumi config set --secret ai-platform:<name>` when needed:",
  "",
  "| secret setting | meaning |",
  "|---|---|",
  ...Object.entries(SECRET_SETTINGS).map(([key, what]) => `| \`${key}\` | ${cell(what)} |`),
].join("\n");
const outputsTable = [
  "| output | what |",
  "|---|---|",
  ...OUTPUT_CONTRACT.map(
    (o) =>
      `| \`${o.path}\` | ${cell(o.description)}${o.secret ? " (**secret**)" : ""}${o.onlyWhen ? `; only when ${o.onlyWhen}` : ""} |`,
  ),
].join("\n");

/** Replaces the text between a pair of markers in the README. */
function writeBlock(readme: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  if (!readme.includes(start) || !readme.includes(end)) throw new Error(`README.md has no ${start} ... ${end} block`);
  return readme.slice(0, readme.indexOf(start) + start.length) + "\n" + content + "\n" + readme.slice(readme.indexOf(end));
}

const readmePath = path.join(root, "README.md");
let readme = fs.readFileSync(readmePath, "utf8");
readme = writeBlock(readme, "settings", table);
readme = writeBlock(readme, "outputs", outputsTable);
readme = writeBlock(readme, "access", accessTableMarkdown());
fs.writeFileSync(readmePath, readme);
