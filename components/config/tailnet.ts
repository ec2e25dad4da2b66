/** Who is who on the tailnet: who deploys each environment, who administers, who uses, and who owns the policy. */
import { IDENTITY_FORMS, IdentityKind } from "../catalog/identities";
import { Environment, ENVIRONMENTS } from "./naming";
import { Problems, SettingsReader } from "./reader";
import { SettingName } from "./schema";

export interface TailnetSettings {
  /**
   * Each environment's deployers. Every stack reads all of them, as the tailnet policy it renders covers every
   * environment; it deploys as its own environment's.
   */
  deployers: Record<Environment, string[]>;
  admins: string[];
  users: string[];
  managePolicy: boolean;
}

/** The setting that lists an environment's deployers: tailnetDevDeployers, tailnetProdDeployers. */
export const DEPLOYERS_SETTING: Readonly<Record<Environment, SettingName>> = {
  dev: "tailnetDevDeployers",
  prod: "tailnetProdDeployers",
};

/** The only environment whose stack may write the tailnet's policy file, which covers every environment. */
export const POLICY_OWNER: Environment = "prod";

export function readTailnet(read: SettingsReader, namePrefix: string, environment: Environment | undefined): TailnetSettings {
  const { project, problems } = read;
  const deployers = Object.fromEntries(ENVIRONMENTS.map((env) => [env, read.array(DEPLOYERS_SETTING[env])])) as Record<
    Environment,
    string[]
  >;
  const tailnet = {
    deployers,
    admins: read.array("tailnetAdmins"),
    users: read.array("tailnetUsers"),
    managePolicy: read.boolean("manageTailnetPolicy"),
  };
  for (const env of ENVIRONMENTS) {
    const key = DEPLOYERS_SETTING[env];
    checkIdentities(project, key, deployers[env], ["tag", "user"], problems);
    if (deployers[env].length === 0) {
      problems.add(
        `${project}:${key} is empty: name who runs \`pulumi up\` on ${env} (it reaches ${env}'s nodes by Tailscale SSH), ` +
          `e.g. ["tag:${namePrefix}-${env}-deployer"] for a CI runner or ["you@example.com"] for your laptop`,
      );
    }
  }
  checkDeployersSeparate(project, namePrefix, deployers, problems);
  checkIdentities(project, "tailnetAdmins", tailnet.admins, ["group", "user"], problems);
  checkIdentities(project, "tailnetUsers", tailnet.users, ["user"], problems);
  if (tailnet.managePolicy && environment !== undefined && environment !== POLICY_OWNER) {
    problems.add(
      `${project}:manageTailnetPolicy is true in the ${environment} stack: the policy covers every environment, so a ` +
        `${environment} credential that may write it could grant itself ${POLICY_OWNER}. Turn it on in the ` +
        `${POLICY_OWNER} stack only (\`pulumi config rm ${project}:manageTailnetPolicy\` here)`,
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

/** An identity that deploys two environments would carry one's access into the other: each has its own. */
function checkDeployersSeparate(project: string, namePrefix: string, deployers: Record<Environment, string[]>, problems: Problems) {
  const seen = new Map<string, Environment>();
  for (const env of ENVIRONMENTS) {
    for (const identity of new Set(deployers[env])) {
      const other = seen.get(identity);
      if (other === undefined) {
        seen.set(identity, env);
        continue;
      }
      problems.add(
        `${project}:${DEPLOYERS_SETTING[other]} and ${project}:${DEPLOYERS_SETTING[env]} both have "${identity}": ` +
          `a deployer is root on its environment's nodes, so one shared identity lets the ${other} pipeline reach ` +
          `${env}. Give each environment its own (e.g. tag:${namePrefix}-${other}-deployer and tag:${namePrefix}-${env}-deployer); ` +
          `a person who works on both is better listed in ${project}:tailnetAdmins`,
      );
    }
  }
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
