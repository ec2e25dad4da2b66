/**
 * Writes Pulumi.yaml's project and settings declarations from components/settingsSchema.ts, so the CLI
 * (defaults, types, `pulumi config` help) and the config module never disagree. Run after changing a
 * setting: `npx tsx tools/writePulumiYaml.ts`; test/project.test.ts fails until it has been.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { SETTINGS } from "../components/settingsSchema";

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

const header = "# Generated from components/settingsSchema.ts by tools/writePulumiYaml.ts: edit the schema, not this file.\n";
fs.writeFileSync(path.join(__dirname, "..", "Pulumi.yaml"), header + stringify(project, { lineWidth: 0 }));
