/**
 * The mocks runner: runs the real program (index.ts) under Pulumi's mocks, with a stack's real settings, and
 * records every resource it declares with its inputs and options. Used by the offline plan, the benchmark and
 * the tests (through test/harness.ts), so it depends on nothing under test/.
 *
 * Values that only a deployment knows (ids, addresses, generated keys) come back as markers that start
 * with AFTER_DEPLOY, so that nothing downstream mistakes them for real values.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { parse, YAMLParseError } from "yaml";
import { loadSettings, SEALED_SECRET, SettingsError } from "../components/config";
import { buildTailnetPolicy, stackPolicySpec } from "../components/plan/tailnetPolicy";
import type { TailnetPolicy } from "../components/render/tailnetPolicy";

export const AFTER_DEPLOY = "known-after-deploy";
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** `known-after-deploy:<what>`: a value the cloud assigns. */
export const afterDeploy = (what: string) => `${AFTER_DEPLOY}:${what}`;
export const isAfterDeploy = (value: unknown): boolean =>
  typeof value === "string" && value.includes(AFTER_DEPLOY);

export interface RecordedResource {
  type: string;
  name: string;
  urn: string;
  inputs: Record<string, unknown>;
  state: Record<string, unknown>;
  id: string;
  custom: boolean;
  protect: boolean;
  parent: string;
  ignoreChanges: string[];
  dependencies: string[];
  /** The URNs each input depends on, e.g. `{ host: [<a server's URN>] }`. */
  propertyDependencies: Record<string, string[]>;
  /** The provider reference (`<urn>::<id>`) given in the resource's options; "" for the default provider. */
  provider: string;
  /** Paths of the inputs that arrived as secrets, e.g. "userData" or "envs[2]". */
  secretInputs: string[];
}

export interface RecordedCall {
  token: string;
  inputs: Record<string, unknown>;
}

export interface ProgramRun {
  stack: string;
  resources: RecordedResource[];
  calls: RecordedCall[];
  outputs: Record<string, unknown>;
  /** Paths of the outputs that are secrets, e.g. "rootSshPrivateKey". */
  secretOutputs: string[];
  ofType(type: string): RecordedResource[];
  one(type: string, nameIncludes: string): RecordedResource;
}

/** Placeholder credentials: the plan and the tests need none, and these reach no provider. */
export const OFFLINE_CREDENTIALS: Record<string, string> = {
  "hcloud:token": "offline-plan-placeholder-not-a-token",
  "tailscale:apiKey": "offline-plan-placeholder-not-a-key",
};

/** A project or stack file; one that is not YAML is a settings mistake naming the file and where it breaks. */
function readYaml(file: string, root = PROJECT_ROOT): Record<string, unknown> {
  const text = fs.readFileSync(path.join(root, file), "utf8");
  try {
    return (parse(text) ?? {}) as Record<string, unknown>;
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : "";
    const reason = (err as Error).message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new SettingsError([`${file} is not valid YAML${where} (${reason}): fix the file, or set the value with \`pulumi config set\``]);
  }
}

/** A setting's value as the Pulumi CLI hands it over: text, arrays and objects as JSON. */
export function configText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A value of a stack file as the program reads it; an encrypted one (`secure:`) cannot be read here. */
function stackValueText(value: unknown): string {
  const encrypted = typeof value === "object" && value !== null && Object.keys(value).length === 1 && "secure" in value;
  return encrypted ? SEALED_SECRET : configText(value);
}

/** The keys of a stack's settings that are secrets: the encrypted ones of its file. */
export function stackSecretKeys(config: Record<string, string>): string[] {
  return Object.keys(config).filter((key) => config[key] === SEALED_SECRET);
}

/**
 * A stack's settings as the Pulumi CLI would hand them to the program: Pulumi.yaml's defaults, then the
 * stack file's values, each as `namespace:key` -> text. `root` holds the files (the project's by default).
 */
export function stackConfig(stack: string, root = PROJECT_ROOT): Record<string, string> {
  const project = readYaml("Pulumi.yaml", root) as { name: string; config?: Record<string, { default?: unknown }> };
  const config: Record<string, string> = {};
  for (const [key, declaration] of Object.entries(project.config ?? {})) {
    if (declaration.default !== undefined) config[`${project.name}:${key}`] = configText(declaration.default);
  }
  const stackFile = `Pulumi.${stack}.yaml`;
  if (fs.existsSync(path.join(root, stackFile))) {
    const values = (readYaml(stackFile, root).config ?? {}) as Record<string, unknown>;
    // Pulumi's rule: a key without a namespace in a stack file is the project's own.
    for (const [key, value] of Object.entries(values)) config[key.includes(":") ? key : `${project.name}:${key}`] = stackValueText(value);
  }
  return config;
}

export const projectName = (): string => (readYaml("Pulumi.yaml") as { name: string }).name;

export interface RunOptions {
  /** Settings to set (`namespace:key` -> value; arrays and objects as JSON) on top of the stack's. */
  set?: Record<string, unknown>;
  /** Settings to remove, e.g. a credential. */
  unset?: string[];
  /** Leave out the placeholder credentials. */
  withoutCredentials?: boolean;
  /** Run as a preview: unknown values stay unknown. */
  preview?: boolean;
  /**
   * The tailnet's current policy file as JSON, as `tailscale.getAcl` returns it. Default: the policy the stack
   * renders, as the README tells a user to merge it before the first `pulumi up`.
   */
  tailnetPolicy?: string;
}

let ids = 1000;
let lastRecorded: RecordedResource[] = [];

/** What the latest run declared, even when it failed: a refused setting must leave this empty. */
export const recorded = (): readonly RecordedResource[] =>
  lastRecorded.filter((r) => r.type !== "pulumi:pulumi:Stack");

function computedState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "hcloud:index/server:Server":
      return {
        name: inputs.name ?? afterDeploy(`server-name:${name}`),
        ipv4Address: afterDeploy("public-ipv4"),
        ipv6Address: afterDeploy("public-ipv6"),
        status: "running",
      };
    case "tls:index/privateKey:PrivateKey":
      return {
        publicKeyOpenssh: afterDeploy("ssh-public-key"),
        privateKeyOpenssh: afterDeploy("ssh-private-key"),
      };
    case "tailscale:index/tailnetKey:TailnetKey":
      // Shaped like a key so that files which carry it stay valid; a marker all the same.
      return { key: `tskey-auth-${AFTER_DEPLOY}` };
    case "random:index/randomPassword:RandomPassword":
      // Named after the resource, so that a test can follow one generated secret to where it ends up.
      return { result: afterDeploy(`generated-secret:${name}`), bcryptHash: afterDeploy("bcrypt-hash") };
    case "random:index/randomId:RandomId":
      // The marker alone, so that a host name made from it stays a DNS label (components/machines/serverGeneration.ts).
      return { hex: AFTER_DEPLOY, dec: AFTER_DEPLOY, b64Std: AFTER_DEPLOY, b64Url: AFTER_DEPLOY };
    case "docker:index/remoteImage:RemoteImage":
      // The pulled image's id is its digest, which only the pull knows: the pinned reference, then the marker.
      return { imageId: `${String(inputs.name)}@${AFTER_DEPLOY}`, repoDigest: afterDeploy("repo-digest") };
    case "command:remote:Command":
      return { stdout: afterDeploy(`stdout:${name}`), stderr: "" };
    case "hcloud:index/storageBox:StorageBox":
    case "hcloud:index/storageBoxSubaccount:StorageBoxSubaccount":
      // Hetzner names the account and its host (u123456-sub1, u123456.your-storagebox.de).
      return { username: afterDeploy(`storage-box-user:${name}`), server: afterDeploy("storage-box-host") };
    default:
      return {};
  }
}

/** Runs index.ts for `stack` under mocks and returns what it declared. */
export async function runProgram(stack: string, options: RunOptions = {}): Promise<ProgramRun> {
  const recording: Recording = { resources: [], calls: [], byName: new Map() };
  lastRecorded = recording.resources;
  setRunConfig(stack, options);
  await pulumi.runtime.setMocks(recordingMocks(recording, options), projectName(), stack, options.preview ?? false);
  const monitor = recordRegistrationOptions(recording.byName);

  const program = await loadProgram();
  // The program's own failure (a refused setting) is caught here and rethrown once the runtime is idle,
  // so that it surfaces as one rejection rather than through every pending output of the stack.
  let failure: unknown;
  await pulumi.runtime.runInPulumiStack(async () => {
    try {
      return await program();
    } catch (err) {
      failure = err;
      return {};
    }
  });
  // Stack outputs and component outputs are registered after the program returns; wait for every RPC.
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(JSON.stringify(failure));
  return programRun(stack, recording, stackOutputs(monitor));
}

/** What the mocks record while the program runs. */
interface Recording {
  resources: RecordedResource[];
  calls: RecordedCall[];
  /** The same records by `<type>::<name>`, for the options the monitor sees later. */
  byName: Map<string, RecordedResource>;
}

/** The stack's settings, the placeholder credentials (as secrets) and the run's own changes, for the program to read. */
function setRunConfig(stack: string, options: RunOptions): void {
  const config: Record<string, string> = {
    ...stackConfig(stack),
    ...(options.withoutCredentials ? {} : OFFLINE_CREDENTIALS),
  };
  for (const [key, value] of Object.entries(options.set ?? {})) config[key] = configText(value);
  for (const key of options.unset ?? []) delete config[key];
  // Secrets: the placeholder credentials, the stack file's encrypted values, and what the run sets (as a
  // `pulumi config set --secret` would); a plain value of the stack file stays plain.
  const secretKeys = [...Object.keys(OFFLINE_CREDENTIALS), ...stackSecretKeys(config), ...Object.keys(options.set ?? {})].filter((k) => k in config);
  pulumi.runtime.setAllConfig(config, secretKeys);
}

function recordingMocks(recording: Recording, options: RunOptions): pulumi.runtime.Mocks {
  return {
    newResource: (args) => recordResource(recording, args, options.preview ?? false),
    call: (args) => recordCall(recording, args, options),
  };
}

function recordResource(
  recording: Recording,
  args: pulumi.runtime.MockResourceArgs,
  preview: boolean,
): pulumi.runtime.MockResourceResult {
  const id = String(++ids);
  const secretInputs: string[] = [];
  const inputs = unwrapSecrets(args.inputs, "", secretInputs) as Record<string, unknown>;
  // A preview of a new stack: the cloud has assigned nothing yet, so ids and computed values stay unknown.
  const state = preview ? inputs : { ...inputs, ...computedState(args.type, args.name, inputs) };
  const record: RecordedResource = {
    type: args.type,
    name: args.name,
    urn: "",
    inputs,
    secretInputs,
    state,
    id,
    custom: args.custom ?? true,
    protect: false,
    parent: "",
    ignoreChanges: [],
    dependencies: [],
    propertyDependencies: {},
    provider: args.provider ?? "",
  };
  recording.resources.push(record);
  recording.byName.set(`${args.type}::${args.name}`, record);
  return { id: args.custom === false || preview ? undefined : id, state };
}

function recordCall(recording: Recording, args: pulumi.runtime.MockCallArgs, options: RunOptions): pulumi.runtime.MockCallResult {
  recording.calls.push({ token: args.token, inputs: args.inputs as Record<string, unknown> });
  if (args.token === "tailscale:index/getAcl:getAcl") {
    const json = options.tailnetPolicy ?? JSON.stringify(renderedPolicy());
    return { id: "tailnet-policy", hujson: json, json };
  }
  if (args.token === "tailscale:index/getDevice:getDevice") {
    const inputs = args.inputs as { hostname?: string; name?: string };
    const hostname = String(inputs.hostname ?? inputs.name);
    return {
      id: afterDeploy("device-id"),
      nodeId: afterDeploy("device-node-id"),
      hostname,
      name: `${hostname}.${AFTER_DEPLOY}.ts.net`,
      addresses: [afterDeploy("tailnet-ipv4"), afterDeploy("tailnet-ipv6")],
      // A device carries the tags of the key it joined with: the key made for this host name.
      tags: keyTagsOf(recording, hostname),
    };
  }
  return args.inputs as Record<string, unknown>;
}

/** The tags of the auth key made for `hostname` (its description names the host), as a device joined with it has. */
function keyTagsOf(recording: Recording, hostname: string): string[] {
  const key = recording.resources.find(
    (r) => r.type === "tailscale:index/tailnetKey:TailnetKey" && String(r.inputs.description).endsWith(` ${hostname}`),
  );
  return (key?.inputs.tags as string[] | undefined) ?? [];
}

/** The policy the program renders for the stack being run (index.ts builds it from the same settings). */
function renderedPolicy(): TailnetPolicy {
  return buildTailnetPolicy(stackPolicySpec(loadSettings()));
}

// The mock monitor hands the mocks a resource's inputs and provider only; its other options (protect,
// parent, ignoreChanges, dependencies) are read off the request itself.
type Request = {
  getType(): string;
  getName(): string;
  getProtect?(): boolean;
  getParent(): string;
  getIgnorechangesList(): string[];
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(fn: (deps: { getUrnsList(): string[] }, key: string) => void): void };
};
type Monitor = { registerResource(req: Request, cb: (err: unknown, res: { getUrn(): string }) => void): Promise<void> };

/** Wraps the mock monitor's registration so that each record gets its URN and the options it was declared with. */
function recordRegistrationOptions(byName: Map<string, RecordedResource>): Monitor {
  const monitor = (pulumi.runtime as unknown as { getMonitor(): Monitor }).getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) =>
    register(req, (err, res) => {
      const record = byName.get(`${req.getType()}::${req.getName()}`);
      if (record) {
        record.urn = res?.getUrn() ?? "";
        record.protect = req.getProtect?.() ?? false;
        record.parent = req.getParent();
        record.ignoreChanges = req.getIgnorechangesList();
        record.dependencies = req.getDependenciesList();
        req.getPropertydependenciesMap().forEach((deps, key) => {
          record.propertyDependencies[key] = deps.getUrnsList();
        });
      }
      cb(err, res);
    });
  return monitor;
}

/** The stack's outputs as the engine receives them, secrets unwrapped and their paths noted. */
function stackOutputs(monitor: Monitor): { outputs: Record<string, unknown>; secretOutputs: string[] } {
  const stackState = [...(monitor as unknown as MockMonitor).resources.values()].find((r) =>
    r.urn.includes("pulumi:pulumi:Stack"),
  )?.state as { toJavaScript?(): unknown } | undefined;
  const secretOutputs: string[] = [];
  const outputs = unwrapSecrets(stackState?.toJavaScript?.() ?? {}, "", secretOutputs) as Record<string, unknown>;
  return { outputs, secretOutputs };
}

function programRun(
  stack: string,
  recording: Recording,
  { outputs, secretOutputs }: { outputs: Record<string, unknown>; secretOutputs: string[] },
): ProgramRun {
  const own = recording.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
  return {
    stack,
    resources: own,
    calls: recording.calls,
    outputs,
    secretOutputs,
    ofType: (type) => own.filter((r) => r.type === type),
    one(type, nameIncludes) {
      const found = own.filter((r) => r.type === type && r.name.includes(nameIncludes));
      if (found.length !== 1) throw new Error(`expected one ${type} named *${nameIncludes}*, found ${found.length}`);
      return found[0];
    },
  };
}

async function loadProgram(): Promise<() => Promise<Record<string, unknown>>> {
  const mod = (await import(path.join(PROJECT_ROOT, "index.ts"))) as { default?: unknown };
  const program = (mod.default ?? mod) as () => Promise<Record<string, unknown>>;
  return program;
}

type MockMonitor = { resources: Map<string, { urn: string; state: unknown }> };

/** Replaces the wire form of secrets with their values, noting where each one was. */
function unwrapSecrets(value: unknown, at: string, secrets: string[]): unknown {
  if (value === unknownValue) return afterDeploy(at || "value");
  if (Array.isArray(value)) return value.map((v, i) => unwrapSecrets(v, `${at}[${i}]`, secrets));
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[specialSigKey] === specialSecretSig) {
      secrets.push(at);
      return unwrapSecrets(obj.value, at, []);
    }
    return Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [k, unwrapSecrets(v, at ? `${at}.${k}` : k, secrets)]),
    );
  }
  return value;
}
