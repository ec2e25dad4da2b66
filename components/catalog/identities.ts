/**
 * The forms of tailnet identities, and the names the platform gives its own: one source for the tag pattern,
 * the node tags and the user group, read by the settings, the bootstrap and the tailnet policy alike.
 */
import type { NodeRole } from "./services";

/** A Tailscale tag: "tag:" and a letter, then lowercase letters, digits and dashes. */
export const TAG_PATTERN = /^tag:[a-z][a-z0-9-]*$/;
/** A Tailscale group defined in the policy file. */
export const GROUP_PATTERN = /^group:[a-z][a-z0-9-]*$/;
/** A user identity (an e-mail, or "name@github" style), as opposed to a group, tag or autogroup. */
export const USER_PATTERN = /^[^\s@:]+@[^\s@:]+$/;

export type IdentityKind = "tag" | "group" | "user";

/** Each kind of identity a setting may take, with the example its error message gives. */
export const IDENTITY_FORMS: Readonly<Record<IdentityKind, { pattern: RegExp; example: string }>> = {
  tag: { pattern: TAG_PATTERN, example: "tag:ai-dev-deployer" },
  group: { pattern: GROUP_PATTERN, example: "group:platform-admins" },
  user: { pattern: USER_PATTERN, example: "alice@example.com" },
};

export function isUserIdentity(identity: string): boolean {
  return USER_PATTERN.test(identity);
}

/**
 * The tag of one environment's node, e.g. nodeTag("ai", "dev", "inference") is "tag:ai-dev-inference"; every
 * extra inference node of an environment carries its worker tag, "tag:ai-dev-worker".
 */
export function nodeTag(prefix: string, env: string, role: NodeRole): string {
  return `tag:${prefix}-${env}-${role}`;
}

/** The group whose members reach the user-facing services, e.g. "group:ai-users". */
export function userGroup(prefix: string): string {
  return `group:${prefix}-users`;
}
