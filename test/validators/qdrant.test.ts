import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadQdrantFacts, qdrantArgsOfCommand, qdrantContainerProblems, qdrantEnvKey } from "./qdrant";

const facts = loadQdrantFacts();

const clusterEnv = {
  QDRANT__CLUSTER__ENABLED: "true",
  QDRANT__CLUSTER__P2P__PORT: "6335",
  QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR: "2",
  QDRANT__STORAGE__COLLECTION__WRITE_CONSISTENCY_FACTOR: "1",
  QDRANT__SERVICE__API_KEY: "an-api-key-for-the-test-only",
  QDRANT__TELEMETRY_DISABLED: "true",
};
const clusterArgs = ["--uri", "http://100.64.0.1:6335", "--bootstrap", "http://100.64.0.2:6335"];

describe("Qdrant's facts, read from its source", () => {
  it("names the source it was read from", () => {
    assert.match(facts.source, /commit [0-9a-f]{40}/);
  });

  it("has the cluster keys with their types", () => {
    assert.deepEqual(facts.keys.get("cluster.enabled"), { kind: "bool" });
    assert.deepEqual(facts.keys.get("cluster.p2p.port"), { kind: "integer", rust: "u16" });
    assert.deepEqual(facts.keys.get("storage.collection.replication_factor"), { kind: "integer", rust: "u32" });
    assert.deepEqual(facts.keys.get("storage.collection.write_consistency_factor"), { kind: "integer", rust: "u32" });
    assert.deepEqual(facts.keys.get("service.api_key"), { kind: "string" });
  });

  it("maps a variable to its key as the config crate does", () => {
    assert.equal(qdrantEnvKey("QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR"), "storage.collection.replication_factor");
    assert.equal(qdrantEnvKey("QDRANT__TELEMETRY_DISABLED"), "telemetry_disabled");
    assert.equal(qdrantEnvKey("QDRANT_URI"), undefined);
  });
});

describe("qdrantContainerProblems", () => {
  it("accepts a cluster peer's environment and flags", () => {
    assert.deepEqual(qdrantContainerProblems(clusterEnv, clusterArgs, facts), []);
    assert.deepEqual(qdrantContainerProblems({ ...clusterEnv, QDRANT_URI: "http://100.64.0.1:6335" }, [], facts), []);
  });

  it("refuses a misspelt key, naming it and the key it resembles", () => {
    const problems = qdrantContainerProblems({ ...clusterEnv, QDRANT__CLUSTER__P2P__PROT: "6335" }, clusterArgs, facts);
    assert.deepEqual(problems, ["QDRANT__CLUSTER__P2P__PROT: Qdrant has no configuration key cluster.p2p.prot (did you mean cluster.p2p.port?)"]);
  });

  it("refuses a variable with one underscore after QDRANT, which Qdrant never reads", () => {
    const [problem, ...rest] = qdrantContainerProblems({ QDRANT_CLUSTER__ENABLED: "true" }, [], facts);
    assert.equal(rest.length, 0);
    assert.match(problem, /^QDRANT_CLUSTER__ENABLED: Qdrant does not read this variable; .*QDRANT__ \(two underscores\)/);
  });

  it("refuses wrong-typed values, naming the variable, the value and the type", () => {
    const problems = qdrantContainerProblems(
      { ...clusterEnv, QDRANT__CLUSTER__ENABLED: "enabled", QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR: "two", QDRANT__CLUSTER__P2P__PORT: "70000" },
      clusterArgs,
      facts,
    );
    assert.deepEqual(problems, [
      'QDRANT__CLUSTER__ENABLED="enabled": cluster.enabled must be a boolean (true or false)',
      'QDRANT__CLUSTER__P2P__PORT="70000": cluster.p2p.port must be an integer (u16, 0 to 65535)',
      'QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR="two": storage.collection.replication_factor must be an integer (u32, 0 to 4294967295)',
    ]);
  });

  it("refuses an empty API key and a table set as a value", () => {
    const problems = qdrantContainerProblems({ QDRANT__SERVICE__API_KEY: "", QDRANT__CLUSTER__P2P: "6335" }, [], facts);
    assert.equal(problems.length, 2);
    assert.match(problems[0], /^QDRANT__SERVICE__API_KEY \(service\.api_key\) is empty/);
    assert.match(problems[1], /^QDRANT__CLUSTER__P2P="6335": cluster\.p2p must be not a plain value \(table\)/);
  });

  it("refuses an unknown flag, naming it", () => {
    const problems = qdrantContainerProblems(clusterEnv, ["--uri", "http://100.64.0.1:6335", "--boostrap", "http://100.64.0.2:6335"], facts);
    assert.equal(problems.length, 2);
    assert.match(problems[0], /^flag --boostrap: Qdrant does not accept it \(did you mean --bootstrap\?\); it accepts --bootstrap, --uri,/);
    assert.equal(problems[1], 'argument "http://100.64.0.2:6335": Qdrant takes no positional arguments');
  });

  it("refuses a flag without its value, a repeated flag and a value that is not a URI", () => {
    assert.deepEqual(qdrantContainerProblems({}, ["--uri"], facts), ["flag --uri needs a value"]);
    assert.deepEqual(qdrantContainerProblems({}, ["--uri=http://a:6335", "--uri", "http://b:6335"], facts), ["flag --uri is given more than once"]);
    assert.match(qdrantContainerProblems({}, ["--bootstrap", "100.64.0.2:6335"], facts)[0], /^--bootstrap "100\.64\.0\.2:6335" is not a URI/);
    assert.match(qdrantContainerProblems({}, ["--bootstrap", "grpc://100.64.0.2:6335"], facts)[0], /must be an http:\/\/ or https:\/\/ URI/);
    assert.deepEqual(qdrantContainerProblems({}, ["--reinit=true"], facts), ["flag --reinit takes no value"]);
  });
});

describe("qdrantArgsOfCommand", () => {
  it("takes the arguments after the image's entrypoint script or binary", () => {
    assert.deepEqual(qdrantArgsOfCommand(["./entrypoint.sh", ...clusterArgs]), { args: clusterArgs });
    assert.deepEqual(qdrantArgsOfCommand(["./qdrant", "--reinit"]), { args: ["--reinit"] });
  });

  it("refuses a command of bare flags, which would replace the image's CMD and start no Qdrant", () => {
    const { problem } = qdrantArgsOfCommand(clusterArgs);
    assert.match(problem ?? "", /does not start Qdrant: it replaces the image's CMD/);
  });
});
