/**
 * The Qdrant containers the program declares, checked against the configuration keys and command-line flags
 * Qdrant accepts, as read from its source (test/validators/qdrant.ts; the fixture names the tag and commit:
 * v1.19.0, the newest tag in the stored qdrant/qdrant source, for the deployed v1.20.0). Qdrant itself ignores a
 * misspelt key, so this is where one is caught: every variable of the single node's and of each cluster peer's
 * environment, and each peer's command.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { IMAGES } from "../../components/catalog/images";
import { loadQdrantFacts, qdrantArgsOfCommand, qdrantContainerProblems } from "../validators/qdrant";
import { ProgramRun, projectName, runProgram } from "../harness";

const CONTAINER = "docker:index/container:Container";

const envOf = (c: { inputs: Record<string, unknown> }): Record<string, string> =>
  Object.fromEntries(((c.inputs.envs ?? []) as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));

/** Under mocks every tailnet address is one marker; here each node gets an address of its own. */
const withAddresses = (command: string[], addresses: string[]): string[] => {
  let next = 0;
  return command.map((a) => (a.includes("known-after-deploy") ? a.replace(/known-after-deploy:tailnet-ipv4/, addresses[next++]) : a));
};

describe("Qdrant's rendered configuration, against the keys and flags of Qdrant's source", () => {
  const runs: Record<string, ProgramRun> = {};
  before(async () => {
    runs.single = await runProgram("dev");
    runs.cluster = await runProgram("dev", { set: { [`${projectName()}:devInferenceNodes`]: ["name=b type=cx33", "name=c type=cx33"] } });
  });

  it("the facts were read from Qdrant's source at the deployed image's minor version", () => {
    const facts = loadQdrantFacts();
    assert.match(facts.source, /v1\.19\.0/);
    // The catalog pins 1.20.0: the nearest tag in the stored source is named, and must be read again for a new minor.
    assert.match(IMAGES.qdrant.tag, /^v1\.(19|20)\./);
    assert.ok(facts.keys.has("cluster.p2p.port") && facts.keys.has("storage.collection.replication_factor"));
  });

  it("the single-node Qdrant: every variable is a key Qdrant reads, with a value of its type; no command", () => {
    const qdrant = runs.single.one(CONTAINER, "ai-dev-inference-services-qdrant");
    assert.equal(qdrant.inputs.command, undefined);
    assert.deepEqual(qdrantContainerProblems(envOf(qdrant), []), []);
  });

  it("each peer of a three-node cluster: the variables and the command's flags are Qdrant's", () => {
    const peers = ["ai-dev-inference-services-qdrant", "ai-dev-inference-b-qdrant", "ai-dev-inference-c-qdrant"];
    for (const [i, name] of peers.entries()) {
      const qdrant = runs.cluster.one(CONTAINER, name);
      const command = withAddresses(qdrant.inputs.command as string[], i === 0 ? ["100.64.0.1"] : [`100.64.0.${i + 1}`, "100.64.0.1"]);
      const { args, problem } = qdrantArgsOfCommand(command);
      assert.equal(problem, undefined, name);
      assert.deepEqual(qdrantContainerProblems(envOf(qdrant), args), [], name);
      assert.equal(args.includes("--bootstrap"), i > 0, `${name}: only the peers after the first bootstrap`);
    }
  });

  it("catches what Qdrant would silently ignore: a misspelt key in a peer's environment", () => {
    const qdrant = runs.cluster.one(CONTAINER, "ai-dev-inference-b-qdrant");
    const env = envOf(qdrant);
    const { QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR: factor, ...rest } = env;
    const problems = qdrantContainerProblems({ ...rest, QDRANT__STORAGE__COLLECTIONS__REPLICATION_FACTOR: factor }, []);
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0], /QDRANT__STORAGE__COLLECTIONS__REPLICATION_FACTOR/);
  });
});
