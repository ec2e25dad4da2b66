/**
 * Writes the configuration key paths and command-line flags a Qdrant release accepts, read from its Rust source
 * at a given git ref, to the fixture test/validators/qdrant.ts checks rendered Qdrant containers against.
 *
 *   npx tsx test/tools/qdrantConfigKeys.ts <qdrant git dir> <ref> [out file]
 *
 * Reads with `git show`/`git ls-tree`, so a bare mirror works. From `Settings` in src/settings.rs it walks
 * every struct it nests, following serde's field attributes (rename, rename_all, alias, flatten, skip) and
 * resolving each type through the referencing file's `use` statements. It stops, with an error, on anything
 * it cannot resolve rather than guessing. Then it checks that every key in config/config.yaml at that ref is
 * in the list, and reads the clap `Args` struct of src/main.rs for the flags.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

/** What a key's value is; integers carry their Rust type so a range can be checked. */
export type KeyType =
  | { kind: "bool" }
  | { kind: "integer"; rust: string }
  | { kind: "float" }
  | { kind: "string" }
  | { kind: "enum"; values: string[] }
  | { kind: "table" }
  | { kind: "list" }
  | { kind: "map" }
  /** A value whose shape serde does not read field by field (an enum with data, a hand-written Deserialize). */
  | { kind: "opaque"; rust: string };

interface Def {
  file: string;
  kind: "struct" | "enum" | "alias";
  attrs: string;
  body: string;
}

const INTEGERS = new Set(["u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize"]);
const NONZERO: Record<string, string> = { NonZeroUsize: "usize", NonZeroU64: "u64", NonZeroU32: "u32", NonZeroU16: "u16", NonZeroU8: "u8" };
const STRINGS = new Set(["String", "PathBuf", "str", "Uri", "Url"]);
const LISTS = new Set(["Vec", "HashSet", "BTreeSet", "IndexSet"]);
const MAPS = new Set(["HashMap", "BTreeMap", "IndexMap", "AHashMap"]);

class Source {
  private readonly files: string[];
  private readonly cache = new Map<string, string>();
  private readonly crates = new Map<string, string>();
  private defs?: Map<string, Def[]>;

  constructor(
    private readonly gitDir: string,
    readonly ref: string,
  ) {
    this.files = this.git(["ls-tree", "-r", "--name-only", ref]).split("\n").filter(Boolean);
    for (const f of this.files.filter((p) => p.endsWith("Cargo.toml"))) {
      const name = /^\s*\[package\][^[]*?^\s*name\s*=\s*"([^"]+)"/m.exec(this.read(f));
      if (name) this.crates.set(name[1].replace(/-/g, "_"), path.dirname(f) === "." ? "" : path.dirname(f));
    }
  }

  git(args: string[]): string {
    return execFileSync("git", ["--git-dir", this.gitDir, ...args], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  }

  commit(): string {
    return this.git(["rev-parse", `${this.ref}^{commit}`]).trim();
  }

  read(file: string): string {
    let text = this.cache.get(file);
    if (text === undefined) {
      text = this.git(["show", `${this.ref}:${file}`]);
      this.cache.set(file, text);
    }
    return text;
  }

  /** The crate directory (e.g. lib/collection) of a crate name as `use` writes it. */
  crateDir(name: string): string | undefined {
    return this.crates.get(name);
  }

  /** The crate directory holding a file. */
  crateOf(file: string): string {
    let best = "";
    for (const dir of this.crates.values()) {
      if ((dir === "" || file.startsWith(`${dir}/`)) && dir.length >= best.length) best = dir;
    }
    return best;
  }

  /** Every struct, enum and type alias in the server's Rust source (not generated gRPC code, tests or the edge bindings). */
  definitions(): Map<string, Def[]> {
    if (this.defs) return this.defs;
    const defs = new Map<string, Def[]>();
    const wanted = this.files.filter(
      (f) =>
        f.endsWith(".rs") &&
        (f.startsWith("src/") || f.startsWith("lib/")) &&
        !/(^|\/)(tests?|benches|examples)\//.test(f) &&
        !f.startsWith("lib/edge/") &&
        !f.startsWith("lib/api/src/grpc/"),
    );
    for (const file of wanted) {
      const text = this.read(file);
      const re = /((?:^[ \t]*#\[[^\n]*(?:\n(?![ \t]*(?:pub|#\[))[^\n]*)*\n)*)^[ \t]*pub(?:\([^)]*\))?\s+(struct|enum|type)\s+(\w+)(?:<[^>{;]*>)?/gm;
      for (let m = re.exec(text); m; m = re.exec(text)) {
        const [, attrs, keyword, name] = m;
        const start = m.index + m[0].length;
        let body: string;
        if (keyword === "type") {
          body = text.slice(start, text.indexOf(";", start)).replace(/^\s*=\s*/, "");
        } else {
          const open = text.slice(start).search(/[{(;]/) + start;
          body = text[open] === ";" ? "" : balanced(text, open);
          if (text[open] === "(") body = `(${body})`;
        }
        const list = defs.get(name) ?? [];
        list.push({ file, kind: keyword === "type" ? "alias" : (keyword as "struct" | "enum"), attrs, body });
        defs.set(name, list);
      }
    }
    this.defs = defs;
    return defs;
  }

  /** The definition a type name written in `fromFile` refers to, through that file's `use` statements. */
  resolve(name: string, fromFile: string, modules: string[] = []): Def {
    const all = (this.definitions().get(name) ?? []).filter((d) => modules.every((m) => d.file.split(/[/.]/).includes(m)));
    if (all.length === 0) throw new Error(`${fromFile}: no definition of ${name} at ${this.ref}`);
    if (all.length === 1) return all[0];
    const same = all.find((d) => d.file === fromFile);
    if (same) return same;
    const paths = useStatements(this.read(fromFile)).filter((p) => p[p.length - 1] === name);
    for (const usePath of paths) {
      const dir = usePath[0] === "crate" || usePath[0] === "super" || usePath[0] === "self" ? this.crateOf(fromFile) : this.crateDir(usePath[0]);
      if (dir === undefined) continue;
      const inCrate = all.filter((d) => this.crateOf(d.file) === dir);
      if (inCrate.length === 1) return inCrate[0];
      const modules = usePath.slice(1, -1);
      const byModule = inCrate.filter((d) => modules.every((segment) => d.file.includes(segment)));
      if (byModule.length === 1) return byModule[0];
    }
    const inOwnCrate = all.filter((d) => this.crateOf(d.file) === this.crateOf(fromFile));
    if (inOwnCrate.length === 1) return inOwnCrate[0];
    throw new Error(`${fromFile}: ${name} is defined in ${all.map((d) => d.file).join(", ")}; cannot tell which at ${this.ref}`);
  }
}

/** The text inside the bracket at `open` up to its match. */
function balanced(text: string, open: number): string {
  const close = { "{": "}", "(": ")", "<": ">", "[": "]" }[text[open]];
  if (!close) throw new Error(`no bracket at ${open}`);
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === text[open]) depth++;
    else if (text[i] === close && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error("unbalanced brackets");
}

/** Splits at commas that are not inside brackets. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if ("<({[".includes(ch)) depth++;
    if (">)}]".includes(ch)) depth--;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  if (current.trim()) parts.push(current);
  return parts;
}

/** The full paths a file's `use` statements bring in, e.g. [collection, config, WalConfig]. */
function useStatements(text: string): string[][] {
  const out: string[][] = [];
  const expand = (prefix: string[], tree: string): void => {
    tree = tree.trim();
    const brace = tree.indexOf("{");
    if (brace >= 0) {
      const head = tree.slice(0, brace).split("::").filter(Boolean);
      for (const part of splitTop(balanced(tree, brace))) expand([...prefix, ...head], part);
      return;
    }
    const [pathPart, alias] = tree.split(/\s+as\s+/);
    const segments = [...prefix, ...pathPart.split("::").map((s) => s.trim()).filter(Boolean)];
    if (alias) segments[segments.length - 1] = alias.trim();
    out.push(segments);
  };
  for (const m of text.matchAll(/^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);/gm)) expand([], m[1].replace(/\s+/g, " "));
  return out;
}

/** serde's attributes on an item, joined: `#[serde(a, b)] #[serde(c)]` -> "a, b, c". */
function serdeArgs(attrs: string): string {
  return [...attrs.matchAll(/#\[serde\(([\s\S]*?)\)\]\s*(?=#\[|$)/g)].map((m) => m[1]).join(", ");
}

function serdeValue(args: string, key: string): string[] {
  return [...args.matchAll(new RegExp(`(?:^|[,(\\s])${key}\\s*=\\s*"([^"]*)"`, "g"))].map((m) => m[1]);
}

function hasFlag(args: string, key: string): boolean {
  return new RegExp(`(?:^|[,(\\s])${key}(?:\\s*[,)]|\\s*$|\\s*=)`).test(args);
}

/** A field or variant name as serde spells it under a container's rename_all. */
function renameAll(name: string, rule: string | undefined): string {
  const words = name.includes("_") ? name.toLowerCase().split("_") : name.split(/(?=[A-Z])/).map((w) => w.toLowerCase());
  switch (rule) {
    case undefined:
      return name;
    case "lowercase":
      return name.toLowerCase();
    case "UPPERCASE":
      return name.toUpperCase();
    case "snake_case":
      return words.join("_");
    case "SCREAMING_SNAKE_CASE":
      return words.join("_").toUpperCase();
    case "kebab-case":
      return words.join("-");
    case "camelCase":
      return words.map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1))).join("");
    case "PascalCase":
      return words.map((w) => w[0].toUpperCase() + w.slice(1)).join("");
    default:
      throw new Error(`unknown rename_all rule ${rule}`);
  }
}

interface Member {
  attrs: string;
  name: string;
  type: string;
}

/** The members of a struct or enum body: attributes, name, and type (or, for an enum variant, its data). */
function members(body: string): Member[] {
  const out: Member[] = [];
  const cleaned = body.replace(/\/\/[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "");
  for (const part of splitTop(cleaned)) {
    const m = /^((?:\s*#\[[\s\S]*?\]\s*(?=#\[|pub|\w))*)\s*(?:pub(?:\([^)]*\))?\s+)?(\w+)\s*(:\s*([\s\S]+)|[({][\s\S]*|=\s*[\s\S]+)?$/.exec(part.trim());
    if (!m) throw new Error(`cannot read member: ${part.trim()}`);
    out.push({ attrs: m[1] ?? "", name: m[2], type: (m[4] ?? m[3] ?? "").trim() });
  }
  return out;
}

/** Parses a Rust type into its head and generic arguments: `Option<Vec<u8>>` -> [Option, [Vec<u8>]]. */
function typeHead(type: string): { head: string; modules: string[]; args: string[] } {
  const t = type.replace(/\s+/g, "");
  const lt = t.indexOf("<");
  const segments = (lt < 0 ? t : t.slice(0, lt)).split("::");
  const head = segments.pop() ?? t;
  return { head, modules: segments.filter((s) => !["crate", "self", "super"].includes(s)), args: lt < 0 ? [] : splitTop(balanced(t, lt)) };
}

export interface KeyEntry {
  key: string;
  type: KeyType;
}

function walk(src: Source, type: string, fromFile: string, prefix: string, out: KeyEntry[], seen: string[]): void {
  const emit = (t: KeyType): void => void out.push({ key: prefix, type: t });
  const { head, modules, args } = typeHead(type);
  if (head === "Option" || head === "Box" || head === "Arc") return walk(src, args[0], fromFile, prefix, out, seen);
  if (head === "bool") return emit({ kind: "bool" });
  if (INTEGERS.has(head)) return emit({ kind: "integer", rust: head });
  if (NONZERO[head]) return emit({ kind: "integer", rust: `${head}` });
  if (head === "f32" || head === "f64") return emit({ kind: "float" });
  if (STRINGS.has(head)) return emit({ kind: "string" });
  if (LISTS.has(head)) return emit({ kind: "list" });
  if (MAPS.has(head)) return emit({ kind: "map" });
  if (head === "PeerId") return emit({ kind: "integer", rust: "u64" });
  if (seen.includes(head)) throw new Error(`recursive type ${head} at ${prefix}`);

  const def = src.resolve(head, fromFile, modules);
  const serde = serdeArgs(def.attrs);
  const conversion = serdeValue(serde, "(?:try_)?from")[0];
  if (conversion) return walk(src, conversion, def.file, prefix, out, [...seen, head]);
  if (def.kind === "alias") return walk(src, def.body, def.file, prefix, out, [...seen, head]);
  const handWritten = new RegExp(`impl\\s*<'de>\\s*(?:serde::)?(?:de::)?Deserialize<'de>\\s+for\\s+${head}\\b`).test(src.read(def.file));
  if (handWritten || !/Deserialize/.test(def.attrs)) return emit({ kind: "opaque", rust: head });
  const rule = serdeValue(serde, "rename_all")[0];

  if (def.kind === "enum") {
    const variants = members(def.body);
    if (variants.some((v) => v.type !== "" && !v.type.startsWith("="))) return emit({ kind: "opaque", rust: head });
    const values: string[] = [];
    for (const v of variants) {
      const vs = serdeArgs(v.attrs);
      if (hasFlag(vs, "skip") || hasFlag(vs, "skip_deserializing")) continue;
      values.push(serdeValue(vs, "rename")[0] ?? renameAll(v.name, rule), ...serdeValue(vs, "alias"));
    }
    return emit({ kind: "enum", values });
  }
  if (def.body.startsWith("(")) {
    const inner = splitTop(def.body.slice(1, -1));
    if (inner.length === 1) return walk(src, inner[0].replace(/^\s*pub(\([^)]*\))?\s+/, ""), def.file, prefix, out, [...seen, head]);
    return emit({ kind: "opaque", rust: head });
  }
  if (prefix) emit({ kind: "table" });
  for (const field of members(def.body)) {
    const fs = serdeArgs(field.attrs);
    if (hasFlag(fs, "skip") || hasFlag(fs, "skip_deserializing")) continue;
    if (hasFlag(fs, "flatten")) {
      walk(src, field.type, def.file, prefix, out, [...seen, head]);
      continue;
    }
    const names = [serdeValue(fs, "rename")[0] ?? renameAll(field.name.replace(/^r#/, ""), rule), ...serdeValue(fs, "alias")];
    for (const name of names) walk(src, field.type, def.file, prefix ? `${prefix}.${name}` : name, out, [...seen, head]);
  }
}

export interface ClapFlag {
  flags: string[];
  /** switch: no value; value: one value, once; values: a value each time it is given. */
  arity: "switch" | "value" | "values";
  env?: string;
}

/** The flags of the clap-derived `Args` struct in src/main.rs. */
function readArgs(src: Source): ClapFlag[] {
  const text = src.read("src/main.rs");
  const at = text.search(/struct\s+Args\s*\{/);
  if (at < 0) throw new Error(`src/main.rs at ${src.ref} has no struct Args`);
  const out: ClapFlag[] = [];
  for (const field of members(balanced(text, text.indexOf("{", at)))) {
    const arg = [...field.attrs.matchAll(/#\[arg\(([\s\S]*?)\)\]/g)].map((m) => m[1]).join(", ");
    if (!arg) continue;
    const flags: string[] = [];
    if (hasFlag(arg, "long")) flags.push(`--${serdeValue(arg, "long")[0] ?? field.name.replace(/_/g, "-")}`);
    if (hasFlag(arg, "short")) flags.push(`-${/short\s*=\s*'(.)'/.exec(arg)?.[1] ?? field.name[0]}`);
    for (const alias of serdeValue(arg, "(?:visible_)?alias")) flags.push(`--${alias}`);
    const { head, args } = typeHead(field.type);
    const inner = head === "Option" ? typeHead(args[0]).head : head;
    const arity = head === "bool" ? "switch" : LISTS.has(inner) ? "values" : "value";
    out.push({ flags, arity, env: serdeValue(arg, "env")[0] });
  }
  return out;
}

/** The QDRANT_* variables the image's entrypoint script reads itself (not configuration keys). */
function entrypointEnv(src: Source): string[] {
  const names = src.read("tools/entrypoint.sh").match(/\bQDRANT_[A-Z0-9_]+/g) ?? [];
  return [...new Set(names.filter((n) => !n.startsWith("QDRANT__") && n !== "QDRANT_PID"))].sort();
}

function typeText(t: KeyType): string {
  switch (t.kind) {
    case "integer":
      return `integer ${t.rust}`;
    case "enum":
      return `enum ${t.values.join("|")}`;
    case "opaque":
      return `opaque ${t.rust}`;
    default:
      return t.kind;
  }
}

/** Every leaf key of a YAML document, dotted. */
function yamlKeys(value: unknown, prefix = ""): string[] {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => yamlKeys(v, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

export function generate(gitDir: string, ref: string): string {
  const src = new Source(gitDir, ref);
  const keys: KeyEntry[] = [];
  walk(src, "Settings", "src/settings.rs", "", keys, []);
  // A flattened struct or map shares its parent's key: keep one entry a key, the map over the table.
  const byKey = new Map<string, KeyType>();
  for (const k of keys) if (!byKey.has(k.key) || k.type.kind !== "table") byKey.set(k.key, k.type);
  const covered = (key: string): boolean =>
    byKey.has(key) || key.split(".").some((_, i, parts) => ["map", "opaque", "list"].includes(byKey.get(parts.slice(0, i + 1).join("."))?.kind ?? ""));
  const missing = yamlKeys(parseYaml(src.read("config/config.yaml"))).filter((k) => !covered(k));
  if (missing.length) throw new Error(`config/config.yaml at ${ref} has keys the structs do not: ${missing.join(", ")}`);
  const cargoVersion = /^version\s*=\s*"([^"]+)"/m.exec(src.read("Cargo.toml"))?.[1];
  const lines = [
    `# Qdrant configuration keys and command-line flags, read from Qdrant's source at ${ref} (commit ${src.commit()}, Cargo.toml version ${cargoVersion}).`,
    "# Keys: the Settings struct of src/settings.rs and every struct it nests (serde rename, rename_all, alias, flatten, skip),",
    "# resolved through each file's use statements; every key of config/config.yaml at that ref is in the list.",
    "# Flags: the clap Args struct of src/main.rs. Facts about Qdrant, not its files.",
    "# Regenerate: npx tsx test/tools/qdrantConfigKeys.ts <qdrant git dir> <ref> test/fixtures/qdrant/config-keys-<ref>.txt",
    "# Format: `key <dotted path> <type>`; `flag <names,...> switch|value|values [env NAME]`; `entrypoint-env NAME`, a variable",
    "# the image's tools/entrypoint.sh reads. A table is a struct (set its keys);",
    "# opaque is a value serde does not read field by field (an enum with data or a hand-written Deserialize).",
    ...[...byKey].map(([key, type]) => `key ${key} ${typeText(type)}`),
    ...readArgs(src).map((f) => `flag ${f.flags.join(",")} ${f.arity}${f.env ? ` env ${f.env}` : ""}`),
    ...entrypointEnv(src).map((name) => `entrypoint-env ${name}`),
  ];
  return `${lines.join("\n")}\n`;
}

if (require.main === module) {
  const [gitDir, ref, outFile] = process.argv.slice(2);
  if (!gitDir || !ref) {
    console.error("usage: npx tsx test/tools/qdrantConfigKeys.ts <qdrant git dir> <ref> [out file]");
    process.exit(2);
  }
  const text = generate(gitDir, ref);
  if (outFile) fs.writeFileSync(outFile, text);
  else process.stdout.write(text);
}
