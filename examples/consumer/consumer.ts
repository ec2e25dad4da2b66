/**
 * The consumer program: reads the platform stack's LiteLLM endpoint and hands it to one application
 * container as the OpenAI client's environment. index.ts only calls `consume(readConsumerConfig())`, so that
 * the tests run the same code under mocks.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

/** Memory limit of the application container when `appMemoryMib` is not set, MiB (as in Pulumi.yaml). */
export const DEFAULT_MEMORY_MIB = 256;
const MEMORY_MIB_RANGE = { min: 16, max: 65536 };

/** The container's name on the Docker host, fixed so that a replacement must delete the old one first. */
export const APP_CONTAINER_NAME = "ai-platform-consumer";

export interface ConsumerConfig {
  /** The platform stack, organization/project/stack. */
  platformStack: string;
  /** The application's image reference, pinned by tag or digest. */
  appImage: string;
  /** The Docker host address: ssh://, tcp://, unix:// or npipe://. */
  dockerHost: string;
  /** Memory limit of the container, MiB; default DEFAULT_MEMORY_MIB. */
  memoryMib: number;
}

/** The `litellm` output of the platform stack (components/outputs.ts); a secret output as a whole. */
export interface PlatformLitellm {
  /** http://<tailnet-ip>:4000/v1 */
  url: string;
  /** LiteLLM's master key, sk-... */
  masterKey: string;
  /** Every model LiteLLM serves, chat and embedding. */
  models: string[];
  /** The models LiteLLM serves on /v1/chat/completions, local first: never an embedding model. */
  chatModels: string[];
}

export interface ConsumerOutputs {
  /** LiteLLM's OpenAI-compatible base URL, plain. */
  openaiBaseUrl: pulumi.Output<string>;
  /** The key the application uses, a secret. */
  openaiApiKey: pulumi.Output<string>;
  container: docker.Container;
}

const refuse = (setting: string, value: string, allowed: string): never => {
  throw new pulumi.RunError(`ai-platform-consumer:${setting} ${JSON.stringify(value)} ${allowed}`);
};

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const TAG = /^\w[\w.-]{0,127}$/;

/**
 * The image reference when it is pinned: by digest (name@sha256:<64 hex>) or by a tag other than latest.
 * Anything else would let the next pull run another program than the one reviewed.
 */
export function requirePinnedImage(ref: string): string {
  const example = "e.g. ghcr.io/acme/app:1.4.2 or ghcr.io/acme/app@sha256:<64 hex digits>";
  if (ref.trim() === "" || /\s/.test(ref)) refuse("appImage", ref, `is not an image reference: ${example}`);
  const at = ref.indexOf("@");
  if (at >= 0) {
    if (!DIGEST.test(ref.slice(at + 1))) refuse("appImage", ref, "has a malformed digest: use @sha256:<64 lowercase hex digits>");
    return ref;
  }
  // A colon before the last slash belongs to the registry's port (localhost:5000/app), not to a tag.
  const lastSegment = ref.slice(ref.lastIndexOf("/") + 1);
  const colon = lastSegment.indexOf(":");
  const pinIt = `Pin a release tag or a digest, ${example}`;
  if (colon < 0) refuse("appImage", ref, `is not pinned: without a tag Docker pulls "latest". ${pinIt}`);
  const tag = lastSegment.slice(colon + 1);
  if (tag.toLowerCase() === "latest") refuse("appImage", ref, `is not pinned: "latest" moves with every push. ${pinIt}`);
  if (!TAG.test(tag)) {
    refuse("appImage", ref, `has an invalid tag ${JSON.stringify(tag)}: letters, digits, "_", "." and "-", at most 128`);
  }
  return ref;
}

/** The program's settings, validated; the only reader of the consumer's config. */
export function readConsumerConfig(config: pulumi.Config = new pulumi.Config()): ConsumerConfig {
  const platformStack = config.require("platformStack");
  if (!/^[^/\s]+\/[^/\s]+\/[^/\s]+$/.test(platformStack)) {
    const allowed = "is not a stack name: use organization/project/stack, e.g. organization/ai-platform/prod";
    refuse("platformStack", platformStack, allowed);
  }
  const appImage = requirePinnedImage(config.require("appImage"));
  const dockerHost = config.require("dockerHost");
  if (!/^(ssh|tcp|unix|npipe):\/\/\S+$/.test(dockerHost)) {
    const allowed = "is not a Docker host: use ssh://root@ai-prod-operations, tcp://host:2376 or unix:///var/run/docker.sock";
    refuse("dockerHost", dockerHost, allowed);
  }
  const memoryMib = config.getNumber("appMemoryMib") ?? DEFAULT_MEMORY_MIB;
  if (!Number.isInteger(memoryMib) || memoryMib < MEMORY_MIB_RANGE.min || memoryMib > MEMORY_MIB_RANGE.max) {
    const { min, max } = MEMORY_MIB_RANGE;
    refuse("appMemoryMib", String(memoryMib), `is out of range: a whole number of MiB from ${min} to ${max}`);
  }
  return { platformStack, appImage, dockerHost, memoryMib };
}

/** The model the application asks by default: the first chat model the platform serves, never an embedding model. */
function firstChatModel(chatModels: string[]): string {
  if (chatModels.length === 0) {
    throw new pulumi.RunError("the platform stack's litellm.chatModels is empty: it serves no chat model");
  }
  return chatModels[0];
}

/** Declares the application on its Docker host, wired to the platform's LiteLLM. */
export function consume(config: ConsumerConfig): ConsumerOutputs {
  const platform = new pulumi.StackReference("platform", { name: config.platformStack });
  const litellm = platform.requireOutput("litellm") as pulumi.Output<PlatformLitellm>;
  // The platform exports `litellm` as one secret because it holds the master key; only the key is one.
  const openaiBaseUrl = pulumi.unsecret(litellm.url);
  const model = pulumi.unsecret(litellm.chatModels.apply(firstChatModel));
  const openaiApiKey = pulumi.secret(litellm.masterKey);

  const provider = new docker.Provider("app-host", { host: config.dockerHost });
  const image = new docker.RemoteImage("app", { name: config.appImage, keepLocally: true }, { provider });
  const container = new docker.Container(
    "app",
    {
      name: APP_CONTAINER_NAME,
      image: image.imageId,
      restart: "unless-stopped",
      memory: config.memoryMib,
      // No ports: the application calls out to LiteLLM and answers nobody. The key's secrecy makes the
      // whole list a secret on the wire.
      envs: [
        pulumi.interpolate`OPENAI_BASE_URL=${openaiBaseUrl}`,
        pulumi.interpolate`OPENAI_MODEL=${model}`,
        pulumi.secret(pulumi.interpolate`OPENAI_API_KEY=${openaiApiKey}`),
      ],
    },
    { provider, deleteBeforeReplace: true },
  );
  return { openaiBaseUrl, openaiApiKey, container };
}
