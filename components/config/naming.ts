/** What the stack is called: its environment, from the stack's name, and the prefix of every name. */
import { Problems, SettingsReader } from "./reader";

export const ENVIRONMENTS = ["dev", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The stack's environment, or undefined (and a problem) when the stack is named otherwise. */
export function readEnvironment(stack: string, problems: Problems): Environment | undefined {
  const environment = (ENVIRONMENTS as readonly string[]).includes(stack) ? (stack as Environment) : undefined;
  if (!environment) {
    problems.add(
      `stack "${stack}" is not a known environment: name the stack one of ${ENVIRONMENTS.join(", ")} ` +
        `(each has its Pulumi.<stack>.yaml), e.g. \`pulumi stack init dev\``,
    );
  }
  return environment;
}

export function readNamePrefix(read: SettingsReader): string {
  const namePrefix = read.string("namePrefix");
  if (!/^[a-z][a-z0-9]{0,11}$/.test(namePrefix)) {
    read.problems.add(
      `${read.project}:namePrefix is "${namePrefix}": use 1 to 12 lowercase letters and digits, starting with a letter`,
    );
  }
  return namePrefix;
}
