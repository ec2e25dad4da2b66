/**
 * Reading the stack's settings: where the raw values come from, one reader that applies each setting's
 * default and limits, and the collection of every problem found, reported together as one SettingsError.
 */
import * as pulumi from "@pulumi/pulumi";
import { fromTo, RANGES, RangedSettingName } from "./limits";
import { RETIRED_SETTINGS, SECRET_SETTINGS, SecretSettingName, SETTINGS, SettingName } from "./schema";

/** Raw access, so that tests and the offline plan can feed settings without a Pulumi engine. */
export interface ConfigSource {
  /** The value of `namespace:key`, as the CLI stores it (arrays and objects as JSON text). */
  get(namespace: string, key: string): string | undefined;
  /** Every key set in the stack, as `namespace:key`. */
  keys(): string[];
  env(name: string): string | undefined;
  /**
   * Whether `namespace:key` is a secret (set with `--secret`: `secure:` in the stack file); absent when the
   * source cannot tell, and then nothing is refused for being plain.
   */
  isSecret?(key: string): boolean;
}

/**
 * What the offline plan reads for a `secure:` value, which it cannot decrypt: the settings take it as set
 * and check nothing about its form, and the plan shows it as it is.
 */
export const SEALED_SECRET = "(secret, set)";

// The language host hands the program the secret keys (PULUMI_CONFIG_SECRET_KEYS); the SDK's isConfigSecret
// reads them, exported by pulumi.runtime though left out of its type declarations (@pulumi/pulumi 3.248).
const runtimeConfig = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };

export function pulumiConfigSource(): ConfigSource {
  const isConfigSecret = runtimeConfig.isConfigSecret;
  return {
    // The raw runtime lookup: pulumi.Config.get would warn on a secret whose presence is all we check.
    get: (namespace, key) => pulumi.runtime.getConfig(`${namespace}:${key}`),
    keys: () => Object.keys(pulumi.runtime.allConfig()),
    env: (name) => process.env[name],
    ...(isConfigSecret ? { isSecret: (key: string) => isConfigSecret(key) } : {}),
  };
}

/** A configuration mistake: printed by Pulumi as its message alone, without a stack trace. */
export class SettingsError extends pulumi.RunError {
  constructor(readonly problems: string[]) {
    super(
      `The stack's settings need ${problems.length === 1 ? "a fix" : `${problems.length} fixes`} ` +
        `before anything is created:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "SettingsError";
    // The message is the whole story: Pulumi prints a RunError's message alone. A stack would only be
    // inspected, and Node 20's util.inspect loops on the frames of scoped packages (node_modules/@pulumi/...).
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** Every mistake found, in the order found, so that one run reports them all. */
export class Problems {
  private readonly found: string[] = [];

  add(problem: string): void {
    this.found.push(problem);
  }

  /** How many were found so far: a parser compares it before and after reading an entry. */
  count(): number {
    return this.found.length;
  }

  /** Throws one SettingsError listing them, when there are any. */
  throwIfAny(): void {
    if (this.found.length > 0) throw new SettingsError(this.found);
  }
}

/** Reads one project setting at a time, applying the declared default and recording type mistakes. */
export class SettingsReader {
  constructor(
    private readonly source: ConfigSource,
    readonly project: string,
    readonly problems: Problems,
  ) {}

  private raw(key: SettingName): string | undefined {
    return this.source.get(this.project, key);
  }

  string(key: SettingName): string {
    return this.raw(key) ?? String(SETTINGS[key].default);
  }

  /** A secret setting's plain value, for checks; callers wrap what they keep in pulumi.secret. */
  secret(key: SecretSettingName): string | undefined {
    const value = this.source.get(this.project, key);
    return value === undefined || value === "" ? undefined : value;
  }

  /** True when a secret setting is set but unreadable here (the offline plan): its form cannot be checked. */
  sealed(key: SecretSettingName): boolean {
    return this.secret(key) === SEALED_SECRET;
  }

  choice<T extends string>(key: SettingName, allowed: readonly T[]): T {
    const value = this.string(key);
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.add(`${this.project}:${key} is "${value}": use one of ${allowed.join(", ")}`);
    return SETTINGS[key].default as T;
  }

  boolean(key: SettingName): boolean {
    const value = this.raw(key);
    if (value === undefined) return SETTINGS[key].default as boolean;
    if (value === "true" || value === "false") return value === "true";
    this.problems.add(`${this.project}:${key} is "${value}": use true or false`);
    return SETTINGS[key].default as boolean;
  }

  /** A whole number within the setting's range (limits.ts). */
  integer(key: RangedSettingName): number {
    const value = this.raw(key);
    if (value === undefined) return SETTINGS[key].default;
    const n = Number(value);
    const range = RANGES[key];
    if (!/^-?\d+$/.test(value.trim()) || n < range.min || n > range.max) {
      this.problems.add(`${this.project}:${key} is "${value}": use a whole number from ${fromTo(range)}`);
      return SETTINGS[key].default;
    }
    return n;
  }

  array(key: SettingName): string[] {
    return this.list(key) ?? [];
  }

  /** A list of strings, or undefined (the mistake recorded) when the value is not one. */
  list(key: SettingName): string[] | undefined {
    const value = this.raw(key);
    if (value === undefined) return [...(SETTINGS[key].default as readonly string[])];
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === "string")) {
      this.problems.add(
        `${this.project}:${key} is ${JSON.stringify(value)}: use a list of strings, in the stack file as ` +
          `a YAML list, or \`pulumi config set --path '${key}[0]' VALUE\``,
      );
      return undefined;
    }
    return parsed;
  }
}

/** The namespaces of the providers and of Pulumi itself: their keys are theirs to check. */
const OTHER_NAMESPACES = new Set(["hcloud", "tailscale", "docker", "command", "random", "tls", "pulumi"]);

/**
 * A key in the project's namespace that is no setting, with the setting it most likely meant; and a setting
 * written under another namespace (`aiplatform:models`), which the program would never read.
 */
export function checkUnknownKeys(source: ConfigSource, project: string, problems: Problems): void {
  const known = new Set([...Object.keys(SETTINGS), ...Object.keys(SECRET_SETTINGS)]);
  const nearest = (name: string) => [...known].filter((k) => k.toLowerCase() === name.toLowerCase() || editDistance(k, name) <= 2);
  for (const key of source.keys()) {
    const [namespace, name] = key.split(":", 2);
    if (namespace !== project && name !== undefined && !OTHER_NAMESPACES.has(namespace)) {
      const meant = nearest(name);
      if (meant.length > 0) {
        problems.add(
          `${key} is not read by this project, whose settings are in the ${project} namespace: ` +
            `did you mean ${project}:${meant[0]}?`,
        );
      }
      continue;
    }
    if (namespace !== project || known.has(name)) continue;
    if (name in RETIRED_SETTINGS) {
      problems.add(`${key} ${RETIRED_SETTINGS[name]}`);
      continue;
    }
    const near = nearest(name);
    problems.add(
      `${key} is not a setting of this project` +
        (near.length > 0 ? `: did you mean ${project}:${near[0]}?` : `: the settings are ${[...known].join(", ")}`),
    );
  }
}

/** Levenshtein distance, for "did you mean" on a mistyped setting name. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

/** True for an absolute http or https URL, the only kind a receiver or a model endpoint takes. */
export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

/**
 * One entry of a list setting written as `key=value` words in any order, e.g.
 * "name=gpu-box url=http://gpu-box:11434 tag=tag:ai-dev-gpu". Returns its fields, or undefined with the mistake
 * recorded (naming `where`, the word and the allowed keys, with `example`): a word that is not `key=value` with a
 * known key, a key given twice, a required key missing.
 */
export function keyValueEntry<K extends string>(
  entry: string,
  spec: { where: string; keys: readonly K[]; required: readonly K[]; example: string },
  problems: Problems,
): Map<K, string> | undefined {
  const fields = new Map<K, string>();
  for (const word of entry.trim().split(/\s+/)) {
    const eq = word.indexOf("=");
    const field = (eq > 0 ? word.slice(0, eq) : word) as K;
    if (eq <= 0 || !spec.keys.includes(field)) {
      problems.add(`${spec.where}: "${word}" is not one of ${spec.keys.map((k) => `${k}=`).join(", ")}; write e.g. "${spec.example}"`);
      return undefined;
    }
    if (fields.has(field)) {
      problems.add(`${spec.where}: ${field}= is given twice; give it once`);
      return undefined;
    }
    fields.set(field, word.slice(eq + 1));
  }
  const missing = spec.required.filter((k) => !fields.has(k));
  if (missing.length > 0) {
    problems.add(`${spec.where}, without ${missing.map((k) => `${k}=`).join(", ")}: write e.g. "${spec.example}"`);
    return undefined;
  }
  return fields;
}
