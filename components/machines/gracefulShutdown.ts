/**
 * The ACPI shutdown before a server's type changes. The provider's update powers a running server off hard before
 * it asks for the type change (terraform-provider-hcloud internal/server/resource.go, resourceServerUpdate: Poweroff
 * when the status is running, then ChangeType), which kills Postgres and Qdrant mid-write. A step over the tailnet
 * cannot go before the server's update (it needs the address, which comes from the server), so a local step the
 * server depends on asks Hetzner for the shutdown (POST /servers/{id}/actions/shutdown, "Shuts down a Server
 * gracefully by sending an ACPI shutdown request") and waits until the server is off: the provider then finds it
 * off and changes the type without a power cut.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { HetznerApiAccess } from "../config/credentials";

/** How long the OS may take to stop its services once asked, in seconds, before the update fails. */
export const SHUTDOWN_TIMEOUT_SECONDS = 300;

/** The Hetzner label selector of a node's server: every label the node's resources carry, in key order. */
export function serverLabelSelector(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join(",");
}

/**
 * Run by Node (`node -e`; the program's own runtime, so nothing more on the machine that runs `pulumi`), with:
 * SERVER_LABEL_SELECTOR (the node's labels), SERVER_TYPE (the type the server is about to take),
 * SHUTDOWN_TIMEOUT_SECONDS, and the API access: HETZNER_TOKEN and HETZNER_ENDPOINT from the stack's config, else
 * the provider's HCLOUD_TOKEN and HCLOUD_ENDPOINT. The token goes in a request header only.
 *
 * No server with those labels (the first `up`), or one that already has the type or is off: nothing to do. So the
 * step may run again whenever its inputs change, and only a server about to change its type is shut down.
 * A server that is not off in time fails the update before its type is touched: the next `up` tries again.
 */
export const GRACEFUL_SHUTDOWN_SCRIPT = String.raw`
const env = process.env;
const api = (env.HETZNER_ENDPOINT || env.HCLOUD_ENDPOINT || "https://api.hetzner.cloud/v1").replace(/\/+$/, "");
const token = env.HETZNER_TOKEN || env.HCLOUD_TOKEN || "";
const selector = env.SERVER_LABEL_SELECTOR;
const wanted = env.SERVER_TYPE;
const deadline = Date.now() + Number(env.SHUTDOWN_TIMEOUT_SECONDS || "300") * 1000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function call(method, path) {
  const res = await fetch(api + path, { method, headers: { Authorization: "Bearer " + token }, signal: AbortSignal.timeout(30000) });
  const text = await res.text();
  if (!res.ok) throw new Error(method + " " + path + ": HTTP " + res.status + " " + text.slice(0, 300));
  return text ? JSON.parse(text) : {};
}
async function until(what, done) {
  for (;;) {
    if (await done()) return;
    if (Date.now() > deadline) throw new Error(what + " took longer than " + env.SHUTDOWN_TIMEOUT_SECONDS + " s: nothing was changed; run pulumi up again once the server is off");
    await sleep(1000);
  }
}
(async () => {
  if (!selector || !wanted) throw new Error("SERVER_LABEL_SELECTOR and SERVER_TYPE are required");
  const { servers } = await call("GET", "/servers?label_selector=" + encodeURIComponent(selector));
  if (servers.length === 0) return console.log("no server carries " + selector + " yet: nothing to shut down");
  if (servers.length > 1) throw new Error(servers.length + " servers carry " + selector + " (" + servers.map((s) => s.name).join(", ") + "): which one to shut down is unclear");
  const server = servers[0];
  const from = server.server_type.name;
  if (from === wanted) return console.log("server " + server.name + " is a " + wanted + " already: nothing to shut down");
  if (server.status === "off") return console.log("server " + server.name + " is off already");
  if (server.status !== "running") throw new Error("server " + server.name + " is " + server.status + ": run pulumi up again once it is running or off");
  const started = Date.now();
  let { action } = await call("POST", "/servers/" + server.id + "/actions/shutdown");
  await until("the shutdown request", async () => {
    if (action.status === "running") action = (await call("GET", "/actions/" + action.id)).action;
    if (action.status === "error") throw new Error("the shutdown of server " + server.name + " failed: " + JSON.stringify(action.error));
    return action.status === "success";
  });
  await until("the shutdown of server " + server.name, async () => (await call("GET", "/servers/" + server.id)).server.status === "off");
  console.log("server " + server.name + " (" + server.id + ") shut down by ACPI in " + ((Date.now() - started) / 1000).toFixed(1) + " s, before its type changes from " + from + " to " + wanted);
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
`;

/**
 * The step that shuts a node's server down by ACPI before its type changes: replaced, so run, exactly when the
 * server type changes, it finds the server by its labels; on the first up there is none and it does nothing.
 */
export function declareShutdownBeforeResize(
  name: string,
  args: { serverType: string; labels: Record<string, string>; api: HetznerApiAccess },
  parent: pulumi.Resource,
): command.local.Command {
  return new command.local.Command(
    name,
    {
      create: GRACEFUL_SHUTDOWN_SCRIPT,
      interpreter: ["node", "-e"],
      environment: pulumi.secret({
        SERVER_LABEL_SELECTOR: serverLabelSelector(args.labels),
        SERVER_TYPE: args.serverType,
        SHUTDOWN_TIMEOUT_SECONDS: String(SHUTDOWN_TIMEOUT_SECONDS),
        ...(args.api.endpoint !== undefined ? { HETZNER_ENDPOINT: args.api.endpoint } : {}),
        ...(args.api.token !== undefined ? { HETZNER_TOKEN: args.api.token } : {}),
      }),
      triggers: [args.serverType],
    },
    { parent },
  );
}
