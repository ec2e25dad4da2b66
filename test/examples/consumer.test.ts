/**
 * The example consumer (examples/consumer): the program hands the platform's LiteLLM URL and key to one
 * pinned, memory-limited, restarting container that publishes nothing, the key only as a secret; the
 * client asks an OpenAI-compatible server with that key and returns its answer.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { askModel } from "../../examples/consumer/client";
import { consume, ConsumerOutputs, DEFAULT_MEMORY_MIB, readConsumerConfig } from "../../examples/consumer/consumer";

const EXAMPLE_DIR = path.resolve(__dirname, "../../examples/consumer");
const PROJECT = "ai-platform-consumer";
const PLATFORM_STACK = "organization/ai-platform/prod";
const LITELLM_URL = "http://100.101.102.103:4000/v1";
const MASTER_KEY = "sk-test-master-key";

/** How a secret travels between the SDK and the engine (and so how the mocks see it). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const wireSecret = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, value });
const isWireSecret = (value: unknown): value is { value: unknown } =>
  typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;

interface Declared {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const declared: Declared[] = [];
const one = (type: string): Declared => {
  const found = declared.filter((r) => r.type === type);
  assert.equal(found.length, 1, `expected one ${type}, declared: ${declared.map((r) => r.type).join(", ")}`);
  return found[0];
};

const valueOf = <T>(output: pulumi.Output<T>): Promise<T> => new Promise((resolve) => output.apply(resolve));

function setConfig(values: Record<string, string>): void {
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(values).map(([k, v]) => [`${PROJECT}:${k}`, v])));
}

const GOOD_CONFIG = {
  platformStack: PLATFORM_STACK,
  appImage: "ghcr.io/acme/chat-app:1.4.2",
  dockerHost: "ssh://root@ai-prod-operations",
};

describe("the example consumer program", () => {
  before(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          const inputs = args.inputs as Record<string, unknown>;
          declared.push({ type: args.type, name: args.name, inputs });
          if (args.type === "pulumi:pulumi:StackReference") {
            // What the engine reads from the platform stack: its outputs, the secret ones still marked as
            // such, and their names, which StackReference uses to decide which outputs to keep secret.
            const name = String(inputs.name);
            const state = {
              name,
              outputs: {
                environment: "prod",
                litellm: {
                  url: LITELLM_URL,
                  masterKey: wireSecret(MASTER_KEY),
                  // An embedding model listed first: the app must still ask for a chat model.
                  models: ["nomic-embed-text:latest", "qwen2.5:7b", "gpt-4o-mini"],
                  chatModels: ["qwen2.5:7b", "gpt-4o-mini"],
                },
                qdrant: {
                  url: "http://100.101.102.103:6333",
                  apiKey: wireSecret("qdrant-key"),
                  readOnlyApiKey: wireSecret("qdrant-read-key"),
                },
              },
              secretOutputNames: ["litellm", "qdrant"],
            };
            return { id: name, state };
          }
          // The pulled image's id is its digest, which only a pull knows.
          const state = args.type === "docker:index/remoteImage:RemoteImage" ? { ...inputs, imageId: "sha256:0123abcd" } : inputs;
          return { id: `${args.name}-id`, state };
        },
        call: (args) => args.inputs as Record<string, unknown>,
      },
      PROJECT,
      "prod",
      false,
    );
  });

  describe("with a pinned image", () => {
    let app: ConsumerOutputs;
    let container: Declared;
    before(async () => {
      declared.length = 0;
      setConfig(GOOD_CONFIG);
      app = consume(readConsumerConfig());
      await valueOf(app.container.urn);
      container = one("docker:index/container:Container");
    });

    it("reads the platform stack named in its config", () => {
      assert.equal(one("pulumi:pulumi:StackReference").inputs.name, PLATFORM_STACK);
    });

    it("runs the pinned image on the configured Docker host", () => {
      assert.equal(one("pulumi:providers:docker").inputs.host, GOOD_CONFIG.dockerHost);
      assert.equal(one("docker:index/remoteImage:RemoteImage").inputs.name, GOOD_CONFIG.appImage);
      assert.equal(container.inputs.image, "sha256:0123abcd");
    });

    it("passes the master key only inside a secret input, with the platform's URL and first model", () => {
      // One secret element makes the SDK send the whole list as one secret: the key never travels in the clear.
      const envs = container.inputs.envs;
      assert.ok(isWireSecret(envs), `envs arrived in the clear: ${JSON.stringify(envs)}`);
      assert.deepEqual(envs.value, [
        `OPENAI_BASE_URL=${LITELLM_URL}`,
        "OPENAI_MODEL=qwen2.5:7b",
        `OPENAI_API_KEY=${MASTER_KEY}`,
      ]);
      const clear = JSON.stringify({ ...container.inputs, envs: undefined });
      assert.ok(!clear.includes(MASTER_KEY), `the key appears outside the secret: ${clear}`);
    });

    it("limits memory, restarts and publishes no port", () => {
      assert.equal(container.inputs.memory, DEFAULT_MEMORY_MIB);
      assert.equal(container.inputs.restart, "unless-stopped");
      assert.deepEqual(container.inputs.ports ?? [], []);
    });

    it("exports the base URL in the clear and the key as a secret", async () => {
      assert.equal(await valueOf(app.openaiBaseUrl), LITELLM_URL);
      assert.equal(await pulumi.isSecret(app.openaiBaseUrl), false);
      assert.equal(await valueOf(app.openaiApiKey), MASTER_KEY);
      assert.equal(await pulumi.isSecret(app.openaiApiKey), true);
    });
  });

  it("takes the memory limit from appMemoryMib", async () => {
    declared.length = 0;
    setConfig({ ...GOOD_CONFIG, appMemoryMib: "512" });
    const app = consume(readConsumerConfig());
    await valueOf(app.container.urn);
    assert.equal(one("docker:index/container:Container").inputs.memory, 512);
  });

  it("accepts an image pinned by digest or behind a registry port", () => {
    for (const appImage of [`ghcr.io/acme/chat-app@sha256:${"a".repeat(64)}`, "localhost:5000/chat-app:2026.11.1"]) {
      setConfig({ ...GOOD_CONFIG, appImage });
      assert.equal(readConsumerConfig().appImage, appImage);
    }
  });

  for (const [appImage, reason] of [
    ["myapp", /ai-platform-consumer:appImage "myapp" is not pinned: without a tag Docker pulls "latest"/],
    ["myapp:latest", /ai-platform-consumer:appImage "myapp:latest" is not pinned: "latest" moves with every push/],
    ["localhost:5000/myapp", /appImage "localhost:5000\/myapp" is not pinned/],
    ["myapp@sha256:1234", /appImage "myapp@sha256:1234" has a malformed digest/],
  ] as const) {
    it(`refuses the image ${appImage} before declaring anything`, () => {
      declared.length = 0;
      setConfig({ ...GOOD_CONFIG, appImage });
      assert.throws(
        () => consume(readConsumerConfig()),
        (err: unknown) => {
          assert.ok(err instanceof pulumi.RunError, `expected a RunError, got ${String(err)}`);
          assert.match(err.message, reason);
          assert.match(err.message, /Pin a release tag or a digest|sha256/);
          return true;
        },
      );
      assert.deepEqual(declared, []);
    });
  }

  for (const [setting, value, reason] of [
    ["platformStack", "prod", /platformStack "prod" is not a stack name: use organization\/project\/stack/],
    ["dockerHost", "ai-prod-operations", /dockerHost "ai-prod-operations" is not a Docker host: use ssh:\/\//],
    ["appMemoryMib", "8", /appMemoryMib "8" is out of range: a whole number of MiB from 16 to 65536/],
  ] as const) {
    it(`refuses ${setting} ${value} with a message naming the setting`, () => {
      setConfig({ ...GOOD_CONFIG, [setting]: value });
      assert.throws(() => readConsumerConfig(), reason);
    });
  }

  it("declares the config it reads in Pulumi.yaml, with the same memory default", () => {
    const project = parse(fs.readFileSync(path.join(EXAMPLE_DIR, "Pulumi.yaml"), "utf8")) as {
      name: string;
      runtime: { name: string };
      config: Record<string, { default?: unknown }>;
    };
    assert.equal(project.name, PROJECT);
    assert.equal(project.runtime.name, "nodejs");
    assert.deepEqual(Object.keys(project.config).sort(), ["appImage", "appMemoryMib", "dockerHost", "platformStack"]);
    assert.equal(project.config.appMemoryMib.default, DEFAULT_MEMORY_MIB);
  });
});

describe("the example client", () => {
  const received: { authorization?: string; body: { model?: string; messages?: unknown[] } }[] = [];
  let server: http.Server;
  let baseURL: string;

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
          res.writeHead(404).end();
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { model?: string; messages?: unknown[] };
        received.push({ authorization: req.headers.authorization, body });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            id: "chatcmpl-fake",
            object: "chat.completion",
            created: 1_700_000_000,
            model: body.model,
            choices: [
              { index: 0, message: { role: "assistant", content: "Hello from the fake LiteLLM." }, finish_reason: "stop" },
            ],
            usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends the key as a bearer token with the model and prompt, and returns the answer", async () => {
    const answer = await askModel(baseURL, "sk-test-app-key", "qwen2.5:7b", "Say hello.");
    assert.equal(answer, "Hello from the fake LiteLLM.");
    assert.equal(received.length, 1);
    assert.equal(received[0].authorization, "Bearer sk-test-app-key");
    assert.equal(received[0].body.model, "qwen2.5:7b");
    assert.deepEqual(received[0].body.messages, [{ role: "user", content: "Say hello." }]);
  });
});
