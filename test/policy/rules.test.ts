/**
 * The policy pack's rules (policy/rules.ts), run without the Pulumi CLI: over everything the real program
 * declares for dev and prod (all must pass), and over copies broken in one place each, where exactly one rule
 * must fail, on exactly that resource, with a message naming it. policy/index.ts is never imported here: it
 * starts the policy server.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { IMAGES, imageRef } from "../../components/catalog/images";
import { checkAll, type Violation } from "./checkAll";
import {
  CONTAINER,
  FIREWALL,
  looksLikeCredential,
  PolicyResource,
  REMOTE_IMAGE,
  RESOURCE_RULES,
  secretPathsInWire,
  secretPathsOf,
  SERVER,
  STACK_RULES,
  StackOutputs,
  UNKNOWN,
  unpinnedImage,
  withSecretPaths,
} from "../../policy/rules";
import { PROJECT_ROOT, ProgramRun, RecordedResource, runProgram } from "../harness";

const asPolicyResource = (r: RecordedResource): PolicyResource => ({
  type: r.type,
  name: r.name,
  props: r.inputs,
  secretProps: r.secretInputs,
});

/** A deep copy, so that breaking one resource leaves the recorded run untouched. */
const copy = <T>(value: T): T => structuredClone(value);

/** `resources` with the resource named `name` of type `type` replaced by `broken(copy)`. */
function withOneBroken(
  resources: PolicyResource[],
  type: string,
  name: string,
  broken: (r: PolicyResource) => void,
): PolicyResource[] {
  return resources.map((r) => {
    if (r.type !== type || r.name !== name) return r;
    const c = copy(r);
    broken(c);
    return c;
  });
}

const ruleAndResource = (v: Violation[]) => v.map(({ rule, resource }) => ({ rule, resource }));

/** Asserts that exactly `rule` fails, on exactly `resource`, `times` times, each message naming it. */
function assertOnlyViolation(found: Violation[], rule: string, resource: string, times = 1) {
  assert.deepEqual(ruleAndResource(found), Array.from({ length: times }, () => ({ rule, resource })));
  for (const v of found) assert.ok(v.message.includes(`"${resource}"`), `"${v.message}" does not name ${resource}`);
}

/** Containers shaped like the platform's (LiteLLM, Qdrant, Ollama): every rule passes on them. */
function containerFixtures(stack: string): PolicyResource[] {
  const tailnetIp = "100.101.102.103";
  return [
    {
      type: CONTAINER,
      name: `ai-${stack}-litellm`,
      props: {
        name: "litellm",
        image: imageRef(IMAGES.litellm),
        memory: 1024,
        restart: "unless-stopped",
        ports: [{ internal: 4000, external: 4000, ip: tailnetIp, protocol: "tcp" }],
        envs: [
          "LITELLM_MASTER_KEY=sk-fixture-master",
          "LITELLM_SALT_KEY=sk-fixture-salt",
          "DATABASE_URL=postgresql://litellm:fixture@postgres:5432/litellm",
          "STORE_MODEL_IN_DB=False",
          "OLLAMA_API_BASE=http://ollama:11434",
        ],
      },
      secretProps: ["envs[0]", "envs[1]", "envs[2]"],
    },
    {
      type: CONTAINER,
      name: `ai-${stack}-qdrant`,
      props: {
        name: "qdrant",
        image: imageRef(IMAGES.qdrant),
        memory: 768,
        restart: "always",
        ports: [
          { internal: 6333, external: 6333, ip: tailnetIp, protocol: "tcp" },
          { internal: 6334, external: 6334, ip: "127.0.0.1", protocol: "tcp" },
        ],
        // The whole list is one secret: it covers every element.
        envs: ["QDRANT__SERVICE__API_KEY=fixture", "QDRANT__TELEMETRY_DISABLED=true"],
      },
      secretProps: ["envs"],
    },
    {
      type: CONTAINER,
      name: `ai-${stack}-ollama`,
      props: {
        name: "ollama",
        image: `docker.io/ollama/ollama@sha256:${"0123456789abcdef".repeat(4)}`,
        memory: 12288,
        restart: "on-failure",
        // Reached by LiteLLM over a Docker network; published nowhere.
        envs: ["OLLAMA_KEEP_ALIVE=24h", "OLLAMA_MAX_LOADED_MODELS=1", "OLLAMA_CONTEXT_LENGTH=4096"],
      },
      secretProps: [],
    },
    {
      type: REMOTE_IMAGE,
      name: `ai-${stack}-litellm-image`,
      props: { name: imageRef(IMAGES.litellm), keepLocally: true },
      secretProps: [],
    },
  ];
}

for (const stack of ["dev", "prod"] as const) {
  describe(`the policy rules over the ${stack} stack`, () => {
    let run: ProgramRun;
    let recorded: PolicyResource[];
    let stackOutputs: StackOutputs;
    /** The recorded resources, plus hand-built containers where the program declares none of a kind. */
    let all: PolicyResource[];
    let containers: PolicyResource[];

    before(async () => {
      run = await runProgram(stack);
      recorded = run.resources.map(asPolicyResource);
      stackOutputs = { outputs: run.outputs, secretOutputs: run.secretOutputs };
      const declared = (f: PolicyResource) => recorded.some((r) => r.type === f.type && r.name === f.name);
      const fixtures = containerFixtures(stack).filter((f) => !declared(f));
      all = [...recorded, ...fixtures];
      containers = all.filter((r) => r.type === CONTAINER);
    });

    it("has servers, firewalls and containers to check", () => {
      assert.equal(recorded.filter((r) => r.type === SERVER).length, 2);
      assert.equal(recorded.filter((r) => r.type === FIREWALL).length, 2);
      assert.ok(containers.length >= 3);
      assert.ok("rootSshPrivateKey" in stackOutputs.outputs, "the stack has a credential output to check");
    });

    it("passes every rule as the program declares it", () => {
      assert.deepEqual(checkAll(recorded, stackOutputs), []);
    });

    it("passes every rule on the hand-built and any recorded containers", () => {
      assert.deepEqual(checkAll(all, stackOutputs), []);
    });

    it("fails a server without a firewall", () => {
      for (const server of recorded.filter((r) => r.type === SERVER)) {
        for (const breakIt of [
          (r: PolicyResource) => (r.props.firewallIds = []),
          (r: PolicyResource) => delete r.props.firewallIds,
        ]) {
          const found = checkAll(withOneBroken(all, SERVER, server.name, breakIt), stackOutputs);
          assertOnlyViolation(found, "server-has-firewall", server.name);
        }
      }
    });

    it("fails a firewall rule that lets SSH in from 0.0.0.0/0", () => {
      const firewall = recorded.find((r) => r.type === FIREWALL)!;
      const found = checkAll(
        withOneBroken(all, FIREWALL, firewall.name, (r) =>
          (r.props.rules as unknown[]).push({ direction: "in", protocol: "tcp", port: "22", sourceIps: ["0.0.0.0/0"] }),
        ),
        stackOutputs,
      );
      assertOnlyViolation(found, "firewall-no-public-tcp", firewall.name);
      assert.match(found[0].message, /TCP 22 .*0\.0\.0\.0\/0/);
    });

    it("lets 80/443 in from a CDN's ranges only, never from everywhere, and no other TCP port at all", () => {
      const firewall = recorded.find((r) => r.type === FIREWALL)!;
      const withRule = (rule: Record<string, unknown>) =>
        checkAll(
          withOneBroken(all, FIREWALL, firewall.name, (r) => (r.props.rules as unknown[]).push(rule)),
          stackOutputs,
        );
      const cdn = ["173.245.48.0/20", "2400:cb00::/32"];
      assert.deepEqual(withRule({ direction: "in", protocol: "tcp", port: "443", sourceIps: cdn }), []);
      assert.deepEqual(withRule({ direction: "out", protocol: "tcp", port: "any", destinationIps: ["0.0.0.0/0"] }), []);
      for (const bad of [
        { direction: "in", protocol: "tcp", port: "443", sourceIps: ["::/0"] },
        { direction: "in", protocol: "tcp", port: "8080", sourceIps: cdn },
        { direction: "in", protocol: "tcp", port: "80-443", sourceIps: cdn },
        { direction: "in", protocol: "tcp", sourceIps: cdn },
      ]) {
        assertOnlyViolation(withRule(bad), "firewall-no-public-tcp", firewall.name);
      }
    });

    it("fails 80/443 from ranges wider than a CDN's, or whose union is the whole internet, naming each range", () => {
      const firewall = recorded.find((r) => r.type === FIREWALL)!;
      const withRule = (sourceIps: string[]) =>
        checkAll(
          withOneBroken(all, FIREWALL, firewall.name, (r) => (r.props.rules as unknown[]).push({ direction: "in", protocol: "tcp", port: "443", sourceIps })),
          stackOutputs,
        );
      const sixteenths = Array.from({ length: 4096 }, (_, i) => `${i >> 4}.${(i & 15) << 4}.0.0/12`);
      const cases: [string[], string][] = [
        [["0.0.0.0/1", "128.0.0.0/1"], "0.0.0.0/1 is a /1, wider than the /12 an IPv4 CDN range is at most; 128.0.0.0/1 is a /1, wider than the /12 an IPv4 CDN range is at most"],
        [["::/1", "8000::/1"], "::/1 is a /1, wider than the /32 an IPv6 CDN range is at most; 8000::/1 is a /1, wider than the /32 an IPv6 CDN range is at most"],
        [["0::/0"], "0::/0 is a /0, wider than the /32 an IPv6 CDN range is at most"],
        [sixteenths, `${sixteenths.join(", ")} together cover every IPv4 address`],
      ];
      for (const [ranges, why] of cases) {
        const found = withRule(ranges);
        assertOnlyViolation(found, "firewall-no-public-tcp", firewall.name);
        assert.equal(
          found[0].message,
          `firewall "${firewall.name}" lets TCP 443 in: its sources are too wide: ${why}. Reach services over the tailnet, ` +
            "and open 80/443 only to a CDN's address ranges",
        );
      }
    });

    it("fails a container whose image is :latest or has no tag", () => {
      for (const c of containers) {
        for (const image of ["docker.io/ollama/ollama:latest", "docker.io/ollama/ollama", "localhost:5000/ollama"]) {
          const found = checkAll(withOneBroken(all, CONTAINER, c.name, (r) => (r.props.image = image)), stackOutputs);
          assertOnlyViolation(found, "container-image-pinned", c.name);
          assert.ok(found[0].message.includes(image));
        }
      }
      const image = all.find((r) => r.type === REMOTE_IMAGE)!;
      const found = checkAll(
        withOneBroken(all, REMOTE_IMAGE, image.name, (r) => (r.props.name = "ghcr.io/berriai/litellm:latest")),
        stackOutputs,
      );
      assertOnlyViolation(found, "container-image-pinned", image.name);
    });

    it("fails a container without a memory limit, or without a restart policy", () => {
      for (const c of containers) {
        for (const breakIt of [
          (r: PolicyResource) => delete r.props.memory,
          (r: PolicyResource) => (r.props.memory = 0),
          (r: PolicyResource) => delete r.props.restart,
          (r: PolicyResource) => (r.props.restart = "no"),
        ]) {
          const found = checkAll(withOneBroken(all, CONTAINER, c.name, breakIt), stackOutputs);
          assertOnlyViolation(found, "container-memory-and-restart", c.name);
        }
      }
    });

    it("fails a container port published on 0.0.0.0, :: or with no ip", () => {
      for (const c of containers) {
        for (const ip of ["0.0.0.0", "::", undefined]) {
          const found = checkAll(
            withOneBroken(all, CONTAINER, c.name, (r) => {
              const port = { internal: 3000, external: 3000, ...(ip ? { ip } : {}) };
              r.props.ports = [...((r.props.ports as unknown[]) ?? []), port];
            }),
            stackOutputs,
          );
          assertOnlyViolation(found, "container-ports-bound", c.name);
          assert.match(found[0].message, /3000\/tcp/);
        }
      }
    });

    it("fails a container that passes a credential env in plain text", () => {
      for (const c of containers) {
        const found = checkAll(
          withOneBroken(all, CONTAINER, c.name, (r) => {
            r.props.envs = [...((r.props.envs as unknown[]) ?? []), "OPENAI_API_KEY=sk-plaintext"];
            // A list that is secret as a whole would cover the new entry too: make only the old entries secret.
            if (r.secretProps?.includes("envs")) {
              r.secretProps = (r.props.envs as unknown[]).slice(0, -1).map((_, i) => `envs[${i}]`);
            }
          }),
          stackOutputs,
        );
        assertOnlyViolation(found, "container-credentials-secret", c.name);
        assert.match(found[0].message, /OPENAI_API_KEY/);
      }
      const litellm = containers.find((c) => c.name === `ai-${stack}-litellm`)!;
      const allPlain = withOneBroken(all, CONTAINER, litellm.name, (r) => (r.secretProps = []));
      const plaintext = checkAll(allPlain, stackOutputs);
      assertOnlyViolation(plaintext, "container-credentials-secret", litellm.name, 3);
    });

    it("fails a credential stack output that is not secret", () => {
      // Outputs the program does not declare, so that none of its own secret paths covers them.
      assert.ok(!("policyTestLeak" in run.outputs) && !("policyTestService" in run.outputs));
      const leaked = checkAll(all, {
        outputs: { ...copy(run.outputs), policyTestLeak: { litellmMasterKey: "sk-plaintext" } },
        secretOutputs: run.secretOutputs,
      });
      assert.deepEqual(ruleAndResource(leaked), [{ rule: "stack-credential-outputs-secret", resource: "stack" }]);
      assert.match(leaked[0].message, /"policyTestLeak\.litellmMasterKey"/);

      const nested = checkAll(all, {
        outputs: { ...copy(run.outputs), policyTestService: { url: "http://grafana:3000", adminPassword: "x" } },
        secretOutputs: run.secretOutputs,
      });
      assert.deepEqual(nested.map((v) => v.message), [
        'stack output "policyTestService.adminPassword" looks like a credential but is not secret: ' +
          "wrap it in pulumi.secret",
      ]);
    });

    it("fails each credential output the program declares, once it is no longer secret", () => {
      const credentials = run.secretOutputs.filter((p) => looksLikeCredential(p.split(".").pop() ?? ""));
      assert.ok(credentials.includes("rootSshPrivateKey"), JSON.stringify(run.secretOutputs));
      for (const output of credentials) {
        const found = checkAll(all, {
          outputs: run.outputs,
          secretOutputs: run.secretOutputs.filter((p) => p !== output),
        });
        assert.deepEqual(ruleAndResource(found), [{ rule: "stack-credential-outputs-secret", resource: "stack" }]);
        assert.ok(found[0].message.includes(`"${output}"`), found[0].message);
      }
    });
  });
}

describe("the rules' building blocks", () => {
  it("tell credential names from the rest", () => {
    for (const name of [
      "LITELLM_MASTER_KEY", "LITELLM_SALT_KEY", "DATABASE_URL", "POSTGRES_PASSWORD", "GF_SECURITY_ADMIN_PASSWORD",
      "QDRANT__SERVICE__API_KEY", "HF_TOKEN", "WEBUI_SECRET_KEY", "rootSshPrivateKey", "masterKey", "apiKey",
      "SENTRY_DSN", "REDIS_URL",
    ]) {
      assert.ok(looksLikeCredential(name), `${name} should look like a credential`);
    }
    for (const name of [
      "OLLAMA_KEEP_ALIVE", "OLLAMA_MAX_LOADED_MODELS", "STORE_MODEL_IN_DB", "POSTGRES_USER", "MAX_TOKENS",
      "POSTGRES_PASSWORD_FILE", "publicKeyOpenssh", "tailnetPolicy", "monthlyCostEur", "AWS_ACCESS_KEY_ID", "",
    ]) {
      assert.ok(!looksLikeCredential(name), `${name} should not look like a credential`);
    }
  });

  it("accept version tags and digests, and refuse moving or missing tags", () => {
    for (const ref of Object.values(IMAGES).map(imageRef)) assert.equal(unpinnedImage(ref), undefined, ref);
    assert.equal(unpinnedImage(`sha256:${"a".repeat(64)}`), undefined);
    assert.equal(unpinnedImage(`localhost:5000/x@sha256:${"b".repeat(64)}`), undefined);
    for (const ref of ["x:latest", "x:LATEST", "x", "localhost:5000/x", "x@sha256:abc", "x:stable", "", undefined]) {
      assert.notEqual(unpinnedImage(ref), undefined, String(ref));
    }
  });

  it("every rule has a name, a description and mandatory enforcement", () => {
    const rules = [...RESOURCE_RULES, ...STACK_RULES];
    assert.equal(new Set(rules.map((r) => r.name)).size, rules.length);
    for (const r of rules) {
      assert.match(r.name, /^[a-z0-9-]+$/);
      assert.ok(r.description.length > 40, r.name);
      assert.equal(r.enforcementLevel, "mandatory");
    }
  });
});

describe("secrets as the policy server sees them", () => {
  const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });
  const wire = {
    image: "docker.io/qdrant/qdrant:v1.20.0",
    envs: [secret("QDRANT__SERVICE__API_KEY=x"), "QDRANT__TELEMETRY_DISABLED=true"],
    uploads: [{ file: "/etc/x", content: secret("k: v") }],
    labels: secret({ a: "b" }),
  };

  it("finds the secret paths in the engine's wire form", () => {
    assert.deepEqual(secretPathsInWire(wire), ["envs[0]", "uploads[0].content", "labels"]);
  });

  it("keeps them across @pulumi/policy's own deserializer and proxy, which unwrap the secrets", () => {
    // The same module object the SDK's server calls through; index.ts patches it the same way.
    const deserialize = createRequire(__filename)("@pulumi/policy/deserialize") as {
      deserializeProperties: Parameters<typeof withSecretPaths>[0];
    };
    const descriptor = Object.getOwnPropertyDescriptor(deserialize, "deserializeProperties");
    assert.ok(descriptor?.writable, "policy/index.ts replaces deserializeProperties: it must stay writable");
    // The proxy the server wraps around the properties before a validation reads them.
    const { unknownCheckingProxy } = createRequire(__filename)("@pulumi/policy/proxy") as {
      unknownCheckingProxy: (props: object) => Record<string, unknown>;
    };
    const props = withSecretPaths(deserialize.deserializeProperties)({ toJavaScript: () => wire }, false);
    const seen = unknownCheckingProxy(props);
    assert.deepEqual(seen.envs, ["QDRANT__SERVICE__API_KEY=x", "QDRANT__TELEMETRY_DISABLED=true"]);
    assert.deepEqual(secretPathsOf(seen), ["envs[0]", "uploads[0].content", "labels"]);
    assert.deepEqual(Object.keys(seen).sort(), ["envs", "image", "labels", "uploads"]);
  });
});

describe("the policy pack's package", () => {
  const readJson = (file: string) =>
    JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8")) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };

  it("pins its dependencies to the root's versions", () => {
    const root = readJson("package.json");
    const pack = readJson("policy/package.json");
    const rootVersions = { ...root.dependencies, ...root.devDependencies };
    for (const [name, version] of Object.entries({ ...pack.dependencies, ...pack.devDependencies })) {
      assert.equal(version, rootVersions[name], `policy/package.json: ${name} ${version}, root: ${rootVersions[name]}`);
    }
  });

  it("is a Node.js pack the CLI can load", () => {
    assert.match(fs.readFileSync(path.join(PROJECT_ROOT, "policy/PulumiPolicy.yaml"), "utf8"), /^runtime: nodejs$/m);
    assert.match(fs.readFileSync(path.join(PROJECT_ROOT, "policy/index.ts"), "utf8"), /new PolicyPack\(/);
  });
});

describe("the rules during a preview, with values only a deployment knows", () => {
  const container = (props: Record<string, unknown>, secretProps: string[] = []): PolicyResource => ({
    type: CONTAINER,
    name: "app",
    props: { image: UNKNOWN, memory: 64, restart: "unless-stopped", ...props },
    secretProps,
  });
  const names = (found: Violation[]) => found.map((v) => v.rule);

  it("leave an address, an image id or a whole list that is not known yet to `up`", () => {
    const found = checkAll([
      container({ ports: [{ internal: 80, external: 8080, ip: UNKNOWN }], envs: UNKNOWN }),
      container({ ports: UNKNOWN, envs: [UNKNOWN, "PLAIN=1"], memory: UNKNOWN, restart: UNKNOWN }),
      { type: SERVER, name: "node", props: { firewallIds: [UNKNOWN] } },
    ]);
    assert.deepEqual(found, []);
  });

  it("still refuse what is known now: a port with no address, a plain credential, a plain credential output", () => {
    const found = checkAll(
      [container({ ports: [{ internal: 80, external: 8080 }, { internal: 81, ip: UNKNOWN }], envs: ["API_TOKEN=plain", UNKNOWN] })],
      { outputs: { apiToken: "plain", masterKey: UNKNOWN }, secretOutputs: [] },
    );
    assert.deepEqual(names(found).sort(), ["container-credentials-secret", "container-ports-bound", "stack-credential-outputs-secret"]);
    assert.match(found.find((v) => v.rule === "container-ports-bound")!.message, /publishes 8080\/tcp on every address \(no ip\)/);
    assert.match(found.find((v) => v.rule === "stack-credential-outputs-secret")!.message, /"apiToken"/);
  });
});
