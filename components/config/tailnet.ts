/** Who is who on the tailnet: who deploys, who administers, who uses, and whether this stack owns the policy. */
import { IDENTITY_FORMS, IdentityKind } from "../catalog/identities";
import { Problems, SettingsReader } from "./reader";
import { SettingName } from "./schema";

export interface TailnetSettings {
  deployers: string[];
  admins: string[];
  users: string[];
  managePolicy: boolean;
}

export function readTailnet(read: SettingsReader, namePrefix: string): TailnetSettings {
  const { project, problems } = read;
  const tailnet = {
    deployers: read.array("tailnetDeployers"),
    admins: read.array("tailnetAdmins"),
    users: read.array("tailnetUsers"),
    managePolicy: read.boolean("manageTailnetPolicy"),
  };
  checkIdentities(project, "tailnetDeployers", tailnet.deployers, ["tag", "user"], problems);
  checkIdentities(project, "tailnetAdmins", tailnet.admins, ["group", "user"], problems);
  checkIdentities(project, "tailnetUsers", tailnet.users, ["user"], problems);
  if (tailnet.deployers.length === 0) {
    problems.add(
      `${project}:tailnetDeployers is empty: name who runs \`pulumi up\` (it reaches the nodes by Tailscale SSH), ` +
        `e.g. ["tag:${namePrefix}-deployer"] for a CI runner or ["you@example.com"] for your laptop`,
    );
  }
  if (tailnet.managePolicy && tailnet.users.length === 0) {
    problems.add(
      `${project}:manageTailnetPolicy is true but ${project}:tailnetUsers is empty: list the user e-mails that ` +
        `may reach LiteLLM and Qdrant, or leave the policy unmanaged and merge the output by hand`,
    );
  }
  return tailnet;
}

function checkIdentities(project: string, key: SettingName, values: string[], kinds: IdentityKind[], problems: Problems) {
  for (const value of values) {
    if (kinds.some((kind) => IDENTITY_FORMS[kind].pattern.test(value))) continue;
    const malformedTag = value.startsWith("tag:") && kinds.includes("tag");
    problems.add(
      `${project}:${key} has "${value}", which is not ` +
        (malformedTag
          ? `a valid tag: write tag: and a name of lowercase letters, digits and dashes, starting with a letter (e.g. ${IDENTITY_FORMS.tag.example})`
          : `${kinds.map((k) => `a ${k} (e.g. ${IDENTITY_FORMS[k].example})`).join(" or ")}`),
    );
  }
}
