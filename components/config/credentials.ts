/** The providers' credentials: not read here (the providers read them), only checked to be present. */
import { ConfigSource, Problems } from "./reader";
import { CREDENTIALS } from "./schema";

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
