/**
 * Writes the settings, from components/settingsSchema.ts, where people and the CLI read them: Pulumi.yaml's
 * declarations (defaults, types, descriptions) and the README's settings table, so that neither ever
 * disagrees with the config module. Run after changing a setting: `npx tsx tools/syncSettings.ts`;
 * test/project.test.ts fails until it has been.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { SECRET_SETTINGS, SETTINGS } from "../components/settingsSchema";

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
const header = "# Generated from components/settingsSchema.ts by tools/syncSettings.ts: edit the schema, not this file.\n";
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
const readmePath = path.join(root, "README.md");
const readme = fs.readFileSync(readmePath, "utf8");
const start = "<!-- settings:start -->";
const end = "<!-- settings:end -->";
if (!readme.includes(start) || !readme.includes(end)) throw new Error(`README.md has no ${start} ... ${end} block`);
fs.writeFileSync(
  readmePath,
  readme.slice(0, readme.indexOf(start) + start.length) + "\n" + table + "\n" + readme.slice(readme.indexOf(end)),
);
