/**
 * Checks a Qdrant container's environment and command-line arguments against the keys and flags Qdrant accepts,
 * as read from its source by test/tools/qdrantConfigKeys.ts into test/fixtures/qdrant/. Qdrant itself does not
 * refuse an unknown key (its Settings struct does not deny unknown fields), so a misspelt variable is silently
 * ignored there: this is where it is caught.
 *
 * How Qdrant reads its environment (src/settings.rs, Settings::new): the `config` crate's
 * `Environment::with_prefix("QDRANT").separator("__")`. In config 0.15.25 (src/env.rs, Environment::collect) the
 * prefix separator defaults to the separator, so only names starting with `QDRANT__` are read; the name is
 * lowercased, the prefix dropped and each `__` becomes a `.`: QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR is
 * storage.collection.replication_factor. Values stay strings and are converted when deserialized (src/value.rs:
 * a bool is one of 1/true/on/yes or 0/false/off/no, any case). `QDRANT_URI` and `QDRANT_BOOTSTRAP` are not
 * configuration but the clap `env` of `--uri` and `--bootstrap` (src/main.rs, Args).
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The Qdrant source the fixture was read from: no v1.20.0 tag was in the stored source, see the fixture's header. */
export const QDRANT_FACTS_FILE = path.join(__dirname, "..", "fixtures", "qdrant", "config-keys-v1.19.0.txt");

export type QdrantKeyType =
  | { kind: "bool" | "float" | "string" | "table" | "list" | "map" }
  | { kind: "integer"; rust: string }
  | { kind: "enum"; values: string[] }
  | { kind: "opaque"; rust: string };

export interface QdrantFlag {
  names: string[];
  arity: "switch" | "value" | "values";
  env?: string;
}

export interface QdrantFacts {
  /** The fixture's first header line: the ref and commit it was read at. */
  source: string;
  keys: Map<string, QdrantKeyType>;
  flags: QdrantFlag[];
  /** Variables the image's entrypoint script reads (not configuration keys). */
  entrypointEnv: Set<string>;
}

export function loadQdrantFacts(file = QDRANT_FACTS_FILE): QdrantFacts {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const facts: QdrantFacts = { source: (lines[0] ?? "").replace(/^#\s*/, ""), keys: new Map(), flags: [], entrypointEnv: new Set() };
  for (const line of lines) {
    const [tag, name, kind, ...rest] = line.split(" ");
    if (tag === "key") {
      if (kind === "integer" || kind === "opaque") facts.keys.set(name, { kind, rust: rest[0] });
      else if (kind === "enum") facts.keys.set(name, { kind, values: rest[0].split("|") });
      else facts.keys.set(name, { kind } as QdrantKeyType);
    } else if (tag === "flag") {
      facts.flags.push({ names: name.split(","), arity: kind as QdrantFlag["arity"], env: rest[0] === "env" ? rest[1] : undefined });
    } else if (tag === "entrypoint-env") {
      facts.entrypointEnv.add(name);
    }
  }
  if (facts.keys.size === 0 || facts.flags.length === 0) throw new Error(`${file} has no keys or flags`);
  return facts;
}

const ENV_PREFIX = "qdrant__";
const BOOLS = new Set(["1", "true", "on", "yes", "0", "false", "off", "no"]);
const INTEGER_RANGE: Record<string, [bigint, bigint]> = {
  u8: [0n, 255n],
  u16: [0n, 65535n],
  u32: [0n, 4294967295n],
  u64: [0n, 18446744073709551615n],
  usize: [0n, 18446744073709551615n],
  NonZeroUsize: [1n, 18446744073709551615n],
  i8: [-128n, 127n],
  i16: [-32768n, 32767n],
  i32: [-2147483648n, 2147483647n],
  i64: [-9223372036854775808n, 9223372036854775807n],
  isize: [-9223372036854775808n, 9223372036854775807n],
};

/** The configuration key a `QDRANT__A__B_C` variable sets, as the config crate derives it; undefined for other names. */
export function qdrantEnvKey(name: string): string | undefined {
  const lower = name.toLowerCase();
  return lower.startsWith(ENV_PREFIX) ? lower.slice(ENV_PREFIX.length).replaceAll("__", ".") : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function suggestion(key: string, known: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of known) {
    const d = editDistance(key, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best ? ` (did you mean ${best}?)` : "";
}

/** Why a value does not fit a key's type, or undefined when it does. */
function valueProblem(value: string, type: QdrantKeyType): string | undefined {
  switch (type.kind) {
    case "bool":
      return BOOLS.has(value.toLowerCase()) ? undefined : "a boolean (true or false)";
    case "integer": {
      const range = INTEGER_RANGE[type.rust];
      if (!range) return `an integer of Rust type ${type.rust}, which this check does not know`;
      if (!/^[+-]?\d+$/.test(value)) return `an integer (${type.rust}, ${range[0]} to ${range[1]})`;
      const n = BigInt(value.replace(/^\+/, ""));
      return n < range[0] || n > range[1] ? `an integer (${type.rust}, ${range[0]} to ${range[1]})` : undefined;
    }
    case "float":
      return value.trim() !== "" && Number.isFinite(Number(value)) ? undefined : "a number";
    case "enum":
      return type.values.includes(value) ? undefined : `one of ${type.values.join(", ")}`;
    case "string":
      return undefined;
    default:
      return `not a plain value (${type.kind === "opaque" ? type.rust : type.kind}): set it in a configuration file, not a variable`;
  }
}

/** A key under a map or a value serde reads whole: Qdrant's deserializer, not this list, decides its inner keys. */
function underOpenKey(key: string, facts: QdrantFacts): boolean {
  const parts = key.split(".");
  for (let i = 1; i < parts.length; i++) {
    const kind = facts.keys.get(parts.slice(0, i).join("."))?.kind;
    if (kind === "map" || kind === "opaque") return true;
  }
  return false;
}

function uriProblem(flag: string, value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${flag} ${JSON.stringify(value)} is not a URI; Qdrant expects a peer's p2p URI, e.g. http://100.64.0.1:6335`;
  }
  if (!["http:", "https:"].includes(url.protocol) || !url.hostname) {
    return `${flag} ${JSON.stringify(value)} must be an http:// or https:// URI with a host, e.g. http://100.64.0.1:6335`;
  }
  return undefined;
}

/**
 * The problems with a Qdrant container's environment and the arguments Qdrant is given (after ./entrypoint.sh or
 * ./qdrant), each naming the variable or flag; empty when Qdrant accepts them all.
 */
export function qdrantContainerProblems(env: Record<string, string>, args: readonly string[], facts = loadQdrantFacts()): string[] {
  const problems: string[] = [];
  const leafKeys = [...facts.keys].filter(([, t]) => t.kind !== "table").map(([k]) => k);
  const envFlags = new Map(facts.flags.filter((f) => f.env).map((f) => [f.env as string, f]));
  for (const [name, value] of Object.entries(env)) {
    const key = qdrantEnvKey(name);
    if (key === undefined) {
      const flag = envFlags.get(name);
      if (flag) {
        const problem = flag.names.some((n) => n === "--uri" || n === "--bootstrap") ? uriProblem(name, value) : undefined;
        if (problem) problems.push(problem);
      } else if (/^qdrant_/i.test(name) && !facts.entrypointEnv.has(name)) {
        problems.push(
          `${name}: Qdrant does not read this variable; configuration variables start with QDRANT__ (two underscores), ` +
            `the others it reads are ${[...envFlags.keys(), ...facts.entrypointEnv].join(", ")}`,
        );
      }
      continue;
    }
    const type = facts.keys.get(key);
    if (!type) {
      if (!underOpenKey(key, facts)) problems.push(`${name}: Qdrant has no configuration key ${key}${suggestion(key, leafKeys)}`);
      continue;
    }
    if (value === "") {
      problems.push(`${name} (${key}) is empty; Qdrant reads an empty value as set, and an empty api_key as no key`);
      continue;
    }
    const expected = valueProblem(value, type);
    if (expected) problems.push(`${name}=${JSON.stringify(value)}: ${key} must be ${expected}`);
  }

  const byName = new Map(facts.flags.flatMap((f) => f.names.map((n) => [n, f] as const)));
  const seen = new Set<QdrantFlag>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("-")) {
      problems.push(`argument ${JSON.stringify(arg)}: Qdrant takes no positional arguments`);
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const flag = byName.get(name);
    if (!flag) {
      problems.push(`flag ${name}: Qdrant does not accept it${suggestion(name, byName.keys())}; it accepts ${[...byName.keys()].join(", ")}`);
      continue;
    }
    if (seen.has(flag) && flag.arity !== "values") problems.push(`flag ${name} is given more than once`);
    seen.add(flag);
    if (flag.arity === "switch") {
      if (eq >= 0) problems.push(`flag ${name} takes no value`);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (i + 1 < args.length && !args[i + 1].startsWith("-")) value = args[++i];
    if (value === undefined || value === "") {
      problems.push(`flag ${name} needs a value`);
      continue;
    }
    if (name === "--uri" || name === "--bootstrap") {
      const problem = uriProblem(name, value);
      if (problem) problems.push(problem);
    }
  }
  return problems;
}

/** The image's programs a container command may start with (Dockerfile: WORKDIR /qdrant, CMD ["./entrypoint.sh"]). */
const QDRANT_PROGRAMS = ["./entrypoint.sh", "/qdrant/entrypoint.sh", "./qdrant", "/qdrant/qdrant"];

/** The arguments Qdrant gets from a container command, or a problem when the command does not start Qdrant. */
export function qdrantArgsOfCommand(command: readonly string[]): { args: string[]; problem?: string } {
  if (!QDRANT_PROGRAMS.includes(command[0] ?? "")) {
    return {
      args: [],
      problem: `container command ${JSON.stringify(command)} does not start Qdrant: it replaces the image's CMD, so it must begin with one of ${QDRANT_PROGRAMS.join(", ")}`,
    };
  }
  return { args: command.slice(1) };
}
