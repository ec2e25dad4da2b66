/**
 * The config module: one typed object from the real stack files, and a clear message for each mistake,
 * naming the setting, the bad value and what is allowed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigSource, loadSettings, SettingsError } from "../components/config";
import { loadStackSettings, OFFLINE_CREDENTIALS, projectName, settingsProblems, stackConfig } from "./harness";

const PROJECT = projectName();

function source(values: Record<string, string>, env: Record<string, string> = {}): ConfigSource {
  return {
    get: (namespace, key) => values[`${namespace}:${key}`],
    keys: () => Object.keys(values),
    env: (name) => env[name],
  };
}

const load = loadStackSettings;

const problems = settingsProblems;

function assertOneProblem(found: string[], ...parts: (string | RegExp)[]) {
  assert.equal(found.length, 1, `expected exactly one problem, got:\n${found.join("\n")}`);
  for (const part of parts) {
    if (typeof part === "string") assert.ok(found[0].includes(part), `"${found[0]}" should mention "${part}"`);
    else assert.match(found[0], part);
  }
}

describe("settings of the real stacks", () => {
  it("dev: the smallest servers, a 1B model, nothing protected", () => {
    const s = load("dev");
    assert.equal(s.environment, "dev");
    assert.equal(s.stem, "ai-dev");
    assert.equal(s.nodes.inference.serverType.name, "cx23");
    assert.equal(s.nodes.operations.serverType.name, "cx23");
    assert.deepEqual(
      s.models.map((m) => m.name),
      ["gemma3:1b", "nomic-embed-text:latest"],
    );
    assert.equal(s.protection, false);
    assert.equal(s.nodes.operations.backups, false);
  });

  it("prod: a 16 GB inference node, an 8 GB operations node, backups and protection on", () => {
    const s = load("prod");
    assert.equal(s.environment, "prod");
    assert.equal(s.nodes.inference.serverType.memoryGb, 16);
    assert.equal(s.nodes.operations.serverType.memoryGb, 8);
    assert.equal(s.nodes.operations.backups, true);
    assert.equal(s.protection, true);
    assert.ok(s.models.some((m) => m.name === "qwen2.5:7b"));
  });

  it("a model outside the catalog is accepted with its size, and its KV figure when given", () => {
    const s = load("dev", { models: ["acme/coder:7b=4.5GB,64KiB", "tinyllama:1.1b=0.6GB"] });
    assert.deepEqual(
      s.models.map((m) => [m.name, m.fileGb, m.kvCacheKibPerToken, m.fromCatalog]),
      [
        ["acme/coder:7b", 4.5, 64, false],
        ["tinyllama:1.1b", 0.6, 128, false],
      ],
    );
  });

  it("credentials may come from the environment instead of the stack", () => {
    const s = load("dev", {}, Object.keys(OFFLINE_CREDENTIALS), { HCLOUD_TOKEN: "x", TAILSCALE_API_KEY: "y" });
    assert.equal(s.environment, "dev");
  });

  it("a Tailscale OAuth client stands in for an API key", () => {
    const s = load("dev", { "tailscale:oauthClientId": "id", "tailscale:oauthClientSecret": "secret" }, [
      "tailscale:apiKey",
    ]);
    assert.equal(s.environment, "dev");
  });
});

describe("every mistake gets a message naming the setting, the value and what is allowed", () => {
  it("an unknown server type lists the valid ones", () => {
    assertOneProblem(problems("dev", { inferenceServerType: "cx99" }), `${PROJECT}:inferenceServerType`, '"cx99"', /cx23, cx33, cx43/);
  });

  it("an unknown location lists Hetzner's locations", () => {
    assertOneProblem(problems("prod", { location: "fra1" }), `${PROJECT}:location`, '"fra1"', "fsn1, nbg1, hel1, ash, hil, sin");
  });

  it("a type not offered in the location says where it is offered and what is", () => {
    const found = problems("prod", { location: "ash" });
    assert.equal(found.length, 2, found.join("\n"));
    assert.match(found[0], /inferenceServerType is "cx43", which Hetzner does not offer in ash \(only in fsn1, nbg1, hel1\)/);
    assert.match(found[0], /in ash use one of .*ccx13/);
    assert.match(found[1], /operationsServerType is "cx33"/);
  });

  it("a malformed model name", () => {
    assertOneProblem(problems("dev", { models: ["Qwen 2.5!"] }), `${PROJECT}:models`, '"Qwen 2.5!"', "not an Ollama model name", "qwen2.5:7b");
  });

  it("a model missing from the catalog whose size is not given", () => {
    assertOneProblem(problems("dev", { models: ["acme/coder:7b"] }), `${PROJECT}:models`, '"acme/coder:7b"', "not in the model catalog", "acme/coder:7b=<file GB>GB");
  });

  it("a model size that cannot be read", () => {
    assertOneProblem(problems("dev", { models: ["acme/coder:7b=big"] }), `"acme/coder:7b=big"`, "4.1GB");
  });

  it("an empty model list", () => {
    assertOneProblem(problems("dev", { models: [] }), `${PROJECT}:models is empty`);
  });

  it("an invalid CIDR in the public web ranges", () => {
    assertOneProblem(problems("prod", { publicWeb: "true", publicWebSourceRanges: ["173.245.48.0/33"] }), `${PROJECT}:publicWebSourceRanges`, '"173.245.48.0/33"', "/32 at most");
    assertOneProblem(problems("prod", { publicWebSourceRanges: ["cloudflare"] }), '"cloudflare"', "address/prefix");
    assertOneProblem(problems("prod", { publicWebSourceRanges: ["10.0.0.1/8"] }), "host bits", "10.0.0.0/8");
  });

  it("public web on with no ranges, or with the whole internet", () => {
    assertOneProblem(problems("prod", { publicWeb: "true" }), `${PROJECT}:publicWeb is true`, "publicWebSourceRanges is empty");
    assertOneProblem(problems("prod", { publicWeb: "true", publicWebSourceRanges: ["0.0.0.0/0"] }), `${PROJECT}:publicWebSourceRanges: 0.0.0.0/0 is a /0`);
  });

  it("an image tag for an unknown service, without a tag, latest, or twice", () => {
    assertOneProblem(problems("dev", { imageTags: ["qdrnt=v1.20.1"] }), `${PROJECT}:imageTags has "qdrnt=v1.20.1"`, "qdrant");
    assertOneProblem(problems("dev", { imageTags: ["qdrant"] }), `${PROJECT}:imageTags has "qdrant"`, "qdrant=v1.20.0");
    assertOneProblem(problems("dev", { imageTags: ["qdrant=latest"] }), "never latest");
    assertOneProblem(problems("dev", { imageTags: ["qdrant=v1.20.1", "qdrant=v1.20.2"] }), "qdrant more than once");
  });

  it("an invalid Docker address pool", () => {
    assertOneProblem(problems("dev", { dockerAddressPool: "172.30.0.0" }), `${PROJECT}:dockerAddressPool`, "address/prefix");
    assertOneProblem(problems("dev", { dockerAddressPool: "100.64.0.0/16" }), "overlaps the tailnet");
  });

  it("a missing Hetzner token", () => {
    assertOneProblem(problems("dev", {}, ["hcloud:token"]), "hcloud:token is not set", "pulumi config set --secret hcloud:token", "HCLOUD_TOKEN");
  });

  it("missing Tailscale credentials", () => {
    assertOneProblem(problems("dev", {}, ["tailscale:apiKey"]), "tailscale:apiKey is not set", "tailscale:oauthClientId", "TAILSCALE_API_KEY");
  });

  it("an unknown environment name", () => {
    const found: string[] = (() => {
      try {
        loadSettings(source({ ...stackConfig("dev"), ...OFFLINE_CREDENTIALS }), PROJECT, "staging");
      } catch (err) {
        assert.ok(err instanceof SettingsError);
        return err.problems;
      }
      return [];
    })();
    assertOneProblem(found, 'stack "staging" is not a known environment', "dev, prod");
  });

  it("numbers out of range, and booleans that are not", () => {
    assertOneProblem(problems("dev", { contextLength: "100" }), `${PROJECT}:contextLength is "100"`, "512 to 131072");
    assertOneProblem(problems("dev", { parallelRequests: "two" }), `${PROJECT}:parallelRequests is "two"`, "whole number");
    assertOneProblem(problems("dev", { inferenceVolumeGb: "5" }), "inferenceVolumeGb", "10 to 10240");
    assertOneProblem(problems("dev", { protection: "yes" }), `${PROJECT}:protection is "yes"`, "true or false");
  });

  it("a mistyped setting name suggests the right one", () => {
    assertOneProblem(problems("dev", { inferenceServerTyp: "cx43" }), `${PROJECT}:inferenceServerTyp is not a setting`, `did you mean ${PROJECT}:inferenceServerType`);
  });

  it("a malformed tag among the deployers", () => {
    assertOneProblem(problems("dev", { tailnetDevDeployers: ["tag:CI Runner"] }), `${PROJECT}:tailnetDevDeployers has "tag:CI Runner"`, "not a valid tag", "tag:ai-dev-deployer");
    assertOneProblem(problems("dev", { tailnetProdDeployers: ["ci-runner"] }), `${PROJECT}:tailnetProdDeployers has "ci-runner"`, "a tag (e.g. tag:ai-dev-deployer) or a user (e.g. alice@example.com)");
  });

  it("a deployer identity missing, for either environment, in either stack", () => {
    assertOneProblem(problems("dev", { tailnetDevDeployers: [] }), `${PROJECT}:tailnetDevDeployers is empty`, "on dev", "Tailscale SSH", '["tag:ai-dev-deployer"]');
    assertOneProblem(problems("dev", { tailnetProdDeployers: [] }), `${PROJECT}:tailnetProdDeployers is empty`, "on prod", '["tag:ai-prod-deployer"]');
  });

  it("one identity deploying both environments", () => {
    assert.deepEqual(problems("prod", { tailnetDevDeployers: ["tag:ai-ci"], tailnetProdDeployers: ["tag:ai-ci", "tag:ai-prod-deployer"] }), [
      `${PROJECT}:tailnetDevDeployers and ${PROJECT}:tailnetProdDeployers both have "tag:ai-ci": a deployer is root on its ` +
        "environment's nodes, so one shared identity lets the dev pipeline reach prod. Give each environment its own " +
        `(e.g. tag:ai-dev-deployer and tag:ai-prod-deployer); a person who works on both is better listed in ${PROJECT}:tailnetAdmins`,
    ]);
  });

  it("the retired single deployer list, still in a stack file, says what replaces it", () => {
    assertOneProblem(
      problems("dev", { tailnetDeployers: ["tag:ai-deployer"] }),
      `${PROJECT}:tailnetDeployers was split per environment`,
      "tailnetDevDeployers",
      "tailnetProdDeployers",
      "Moving to per-environment deployers",
    );
  });

  it("a dev stack that would write the tailnet's policy, which covers prod too", () => {
    assertOneProblem(
      problems("dev", { manageTailnetPolicy: "true", tailnetUsers: ["alice@example.com"] }),
      `${PROJECT}:manageTailnetPolicy is true in the dev stack`,
      "could grant itself prod",
      `pulumi config rm ${PROJECT}:manageTailnetPolicy`,
    );
  });

  it("an empty user group while the policy is managed", () => {
    assertOneProblem(problems("prod", { manageTailnetPolicy: "true" }), `${PROJECT}:manageTailnetPolicy is true but ${PROJECT}:tailnetUsers is empty`);
    assert.equal(load("prod", { manageTailnetPolicy: "true", tailnetUsers: ["alice@example.com"] }).tailnet.managePolicy, true);
  });

  it("admins and users that are not identities", () => {
    assertOneProblem(problems("dev", { tailnetAdmins: ["admins"] }), `${PROJECT}:tailnetAdmins has "admins"`, "a group (e.g. group:platform-admins) or a user");
    assertOneProblem(problems("dev", { tailnetUsers: ["group:devs"] }), `${PROJECT}:tailnetUsers has "group:devs"`, "a user (e.g. alice@example.com)");
  });

  it("a cloud model that is malformed, or lacks its endpoint", () => {
    assertOneProblem(problems("prod", { cloudModels: ["gpt-4o-mini"] }), `${PROJECT}:cloudModels has "gpt-4o-mini"`, "name=provider/model");
    assertOneProblem(problems("prod", { cloudModels: ["big=mistral/large"] }), "openai, anthropic, openai-compatible");
    assertOneProblem(problems("prod", { cloudModels: ["big=openai-compatible/llama-70b"] }, [], {}), "needs its endpoint", "@https://host/v1");
  });

  it("a fallback to a cloud model that has no key", () => {
    const found = problems("prod", { cloudModels: ["gpt-4o-mini=openai/gpt-4o-mini"], fallbacks: ["qwen2.5:7b=gpt-4o-mini"] });
    assertOneProblem(found, `${PROJECT}:cloudModels has "gpt-4o-mini=openai/gpt-4o-mini" but ${PROJECT}:openaiApiKey is not set`, `pulumi config set --secret ${PROJECT}:openaiApiKey`);
  });

  it("a cloud model with its key, and a fallback to it, are accepted", () => {
    const s = load("prod", {
      cloudModels: ["gpt-4o-mini=openai/gpt-4o-mini"],
      fallbacks: ["qwen2.5:7b=gpt-4o-mini"],
      rateLimits: ["qwen2.5:7b=60rpm,20000tpm", "gpt-4o-mini=100rpm"],
      openaiApiKey: "placeholder-not-a-key",
    });
    assert.deepEqual(s.litellm.cloudModels, [{ name: "gpt-4o-mini", provider: "openai", model: "gpt-4o-mini" }]);
    assert.deepEqual(s.litellm.fallbacks, { "qwen2.5:7b": ["gpt-4o-mini"] });
    assert.deepEqual(s.litellm.rateLimits, { "qwen2.5:7b": { rpm: 60, tpm: 20000 }, "gpt-4o-mini": { rpm: 100 } });
    assert.ok(s.litellm.cloudKeys.openai, "the key is carried, as a secret");
  });

  it("a fallback naming a model the stack does not have", () => {
    assertOneProblem(problems("prod", { fallbacks: ["qwen2.5:7b=gpt-5"] }), `${PROJECT}:fallbacks has "qwen2.5:7b=gpt-5", which names gpt-5`, "qwen2.5:7b");
  });

  it("negative or zero rate limits", () => {
    assertOneProblem(problems("prod", { rateLimits: ["qwen2.5:7b=0rpm"] }), `${PROJECT}:rateLimits has "qwen2.5:7b=0rpm"`, "whole numbers above 0");
    assertOneProblem(problems("prod", { rateLimits: ["qwen2.5:7b=-5tpm"] }), `"qwen2.5:7b=-5tpm"`);
    assertOneProblem(problems("prod", { rateLimits: ["llama3.1:8b=10rpm"] }), "llama3.1:8b is not a model of this stack");
  });

  it("LiteLLM's routing: simple-shuffle, one allowed failure, a minute's cooldown and one retry unless set", () => {
    assert.deepEqual(load("dev").litellm.routing, { strategy: "simple-shuffle", allowedFails: 1, cooldownSeconds: 60, numRetries: 1 });
    const tuned = load("prod", { litellmAllowedFails: "0", litellmCooldownSeconds: "300", litellmNumRetries: "2", litellmRoutingStrategy: "simple-shuffle" });
    assert.deepEqual(tuned.litellm.routing, { strategy: "simple-shuffle", allowedFails: 0, cooldownSeconds: 300, numRetries: 2 });
  });

  it("a routing strategy LiteLLM has but the stack does not offer, with its reason, and one LiteLLM does not have", () => {
    assertOneProblem(
      problems("prod", { litellmRoutingStrategy: "least-busy" }),
      `${PROJECT}:litellmRoutingStrategy is "least-busy": LiteLLM has it, but it ignores weight`,
      "refuses connections",
      "use simple-shuffle",
    );
    assertOneProblem(problems("prod", { litellmRoutingStrategy: "cost-based-routing" }), `"cost-based-routing": LiteLLM has it, but self-hosted models have no price`);
    assertOneProblem(
      problems("prod", { litellmRoutingStrategy: "round-robin" }),
      `${PROJECT}:litellmRoutingStrategy is "round-robin": use simple-shuffle (LiteLLM's others, least-busy, latency-based-routing,`,
    );
    // A name that is a property of every object is no strategy either.
    assertOneProblem(problems("prod", { litellmRoutingStrategy: "constructor" }), `is "constructor": use simple-shuffle (LiteLLM's others`);
  });

  it("routing numbers outside what LiteLLM reads as meant", () => {
    assertOneProblem(problems("prod", { litellmCooldownSeconds: "0" }), `${PROJECT}:litellmCooldownSeconds is "0": use a whole number from 1 to 3600`);
    assertOneProblem(problems("prod", { litellmAllowedFails: "-1" }), `${PROJECT}:litellmAllowedFails is "-1": use a whole number from 0 to 20`);
    assertOneProblem(problems("prod", { litellmNumRetries: "1.5" }), `${PROJECT}:litellmNumRetries is "1.5": use a whole number from 0 to 5`);
  });

  it("a context length Ollama does not accept, and Ollama's other knobs", () => {
    assertOneProblem(problems("prod", { contextLength: "262144" }), `${PROJECT}:contextLength is "262144"`, "512 to 131072");
    assertOneProblem(problems("prod", { kvCacheType: "q8_0", flashAttention: "false" }), "flashAttention is false", "only with flash attention");
    assertOneProblem(problems("prod", { kvCacheType: "q5" }), `${PROJECT}:kvCacheType is "q5"`, "f16, q8_0, q4_0");
    assertOneProblem(problems("prod", { ollamaKeepAlive: "forever" }), `${PROJECT}:ollamaKeepAlive is "forever"`, "-1");
  });

  it("a receiver URL that is not a URL, without printing the secret", () => {
    const found = problems("prod", { alertPaging: "webhook", alertPagingUrl: "hooks.example.com/secret-token" });
    assertOneProblem(found, `${PROJECT}:alertPagingUrl is not an http(s) URL (its value is secret and not shown)`);
    assert.doesNotMatch(found[0], /secret-token/);
    assertOneProblem(problems("prod", { deadMansSwitchUrl: "not a url" }), `${PROJECT}:deadMansSwitchUrl is not an http(s) URL`);
  });

  it("an alert route naming a receiver that does not exist", () => {
    assertOneProblem(problems("prod", { alertPaging: "webhook" }), `${PROJECT}:alertPaging is "webhook", a receiver that does not exist until ${PROJECT}:alertPagingUrl is set`);
    assertOneProblem(problems("prod", { alertChat: "slack" }), `${PROJECT}:alertChat is "slack": use one of none, webhook, ntfy, email`);
    assertOneProblem(problems("prod", { alertChat: "email" }), "alerts go by e-mail but", `${PROJECT}:alertEmailTo`, "smtpPassword (secret)");
  });

  it("e-mailed alerts with everything they need are accepted", () => {
    const s = load("prod", {
      alertPaging: "email",
      alertEmailTo: "oncall@example.com",
      smtpFrom: "alerts@example.com",
      smtpSmarthost: "smtp.example.com:587",
      smtpUsername: "alerts",
      smtpPassword: "placeholder-not-a-password",
    });
    assert.equal(s.operations.paging.kind, "email");
    assert.equal(s.operations.email?.to, "oncall@example.com");
  });

  it("a retention that does not fit the disk", () => {
    assertOneProblem(problems("prod", { prometheusRetentionGb: "20" }), `${PROJECT}:prometheusRetentionGb is 20 but the operations node's volume (${PROJECT}:operationsVolumeGb) is 10 GB`, "lower it to 8 or raise operationsVolumeGb to 22");
    assert.equal(load("prod", { prometheusRetentionGb: "20", operationsVolumeGb: "22" }).operations.retention.gb, 20);
  });

  it("a bad name prefix", () => {
    assertOneProblem(problems("dev", { namePrefix: "My-AI" }), `${PROJECT}:namePrefix is "My-AI"`, "lowercase");
  });

  it("several mistakes are reported together, in one message without a stack trace", () => {
    let error: unknown;
    try {
      load("dev", { inferenceServerType: "cx99", location: "mars" }, ["hcloud:token"]);
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof SettingsError);
    assert.equal(error.problems.length, 3);
    assert.match(error.message, /need 3 fixes before anything is created/);
    // RunError is what Pulumi prints as its message alone, without the program's stack.
    assert.equal(error.constructor.name, "SettingsError");
    assert.ok((error as { __pulumiRunError?: boolean }).__pulumiRunError);
  });
});
