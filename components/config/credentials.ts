/** The providers' credentials: not read here (the providers read them), only checked to be present. */
import { ConfigSource, Problems } from "./reader";
import { CREDENTIALS, SECRET_SETTINGS } from "./schema";

/** The providers' credentials that are secrets (tailscale:oauthClientId is an id, not one). */
const SECRET_CREDENTIALS = ["hcloud:token", "tailscale:apiKey", "tailscale:oauthClientSecret"] as const;

/**
 * A credential or a secret setting written in plain text (in Pulumi.<stack>.yaml without `secure:`): refused,
 * since the stack file is committed and Pulumi would show the value in every diff.
 */
export function checkSecretsEncrypted(source: ConfigSource, project: string, stack: string, problems: Problems): void {
  const keys = [...SECRET_CREDENTIALS, ...Object.keys(SECRET_SETTINGS).map((k) => `${project}:${k}`)];
  for (const key of keys) {
    const [namespace, name] = key.split(":", 2);
    // A source that cannot tell (isSecret absent) refuses nothing.
    if ((source.get(namespace, name) ?? "") === "" || source.isSecret?.(key) !== false) continue;
    problems.add(
      `${key} is set in plain text (in Pulumi.${stack}.yaml): remove it from the file and set it encrypted ` +
        `with \`pulumi config set --secret ${key}\``,
    );
  }
}

export function checkCredentials(source: ConfigSource, problems: Problems): void {
  const present = (key: string, env: readonly string[]) => {
    const [namespace, name] = key.split(":", 2);
    return (source.get(namespace, name) ?? "") !== "" || env.some((e) => (source.env(e) ?? "") !== "");
  };
  const [hcloud, tailscale] = CREDENTIALS;
  if (!present(hcloud.key, hcloud.env)) {
    problems.add(
      `${hcloud.key} is not set: give ${hcloud.what}, with \`pulumi config set --secret ${hcloud.key}\` ` +
        `or the ${hcloud.env.join(" or ")} environment variable`,
    );
  }
  const oauth =
    present("tailscale:oauthClientId", ["TAILSCALE_OAUTH_CLIENT_ID"]) &&
    present("tailscale:oauthClientSecret", ["TAILSCALE_OAUTH_CLIENT_SECRET"]);
  if (!present(tailscale.key, tailscale.env) && !oauth) {
    problems.add(
      `${tailscale.key} is not set: give ${tailscale.what}, with \`pulumi config set --secret ${tailscale.key}\` ` +
        `or the ${tailscale.env.join(" or ")} environment variable`,
    );
  }
}

/**
 * The Tailscale API access the provider has, as given in the stack's config (the provider's own keys), for the
 * one call the provider has no resource for: removing a former server's device (machines/tailnetMembership.ts).
 * Environment variables (TAILSCALE_API_KEY, TAILSCALE_OAUTH_CLIENT_ID/SECRET, TAILSCALE_BASE_URL) reach that
 * call by themselves. Plain values: the caller wraps them in pulumi.secret.
 */
export interface TailscaleApiAccess {
  baseUrl?: string;
  apiKey?: string;
  oauthClientId?: string;
  oauthClientSecret?: string;
}

export function readTailscaleApiAccess(source: ConfigSource): TailscaleApiAccess {
  const value = (key: string) => {
    const v = source.get("tailscale", key);
    return v === undefined || v === "" ? undefined : v;
  };
  return {
    baseUrl: value("baseUrl"),
    apiKey: value("apiKey"),
    oauthClientId: value("oauthClientId"),
    oauthClientSecret: value("oauthClientSecret"),
  };
}

/**
 * The Hetzner Cloud API access the provider has, as given in the stack's config (`hcloud:token`,
 * `hcloud:endpoint`), for the one call made beside the provider: the ACPI shutdown before a server's type changes
 * (machines/gracefulShutdown.ts). HCLOUD_TOKEN and HCLOUD_ENDPOINT reach that call by themselves. Plain values:
 * the caller wraps them in pulumi.secret.
 */
export interface HetznerApiAccess {
  /** The API base, e.g. "https://api.hetzner.cloud/v1" (the local cloud's fake in the lifecycle tests). */
  endpoint?: string;
  token?: string;
}

export function readHetznerApiAccess(source: ConfigSource): HetznerApiAccess {
  const value = (key: string) => {
    const v = source.get("hcloud", key);
    return v === undefined || v === "" ? undefined : v;
  };
  return { endpoint: value("endpoint"), token: value("token") };
}
