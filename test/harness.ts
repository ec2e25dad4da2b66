/**
 * What the tests share. The mocks runner itself (the program under Pulumi's mocks, the recorded resources,
 * the after-deploy markers) lives in tools/mocksRunner.ts, which the offline plan and the benchmark use too;
 * it is re-exported here so that a test imports its helpers from one place.
 */
import assert from "node:assert/strict";
import { loadSettings, Settings, SettingsError } from "../components/config";
import { configText, OFFLINE_CREDENTIALS, projectName, stackConfig, stackSecretKeys } from "../tools/mocksRunner";

export {
  AFTER_DEPLOY,
  afterDeploy,
  isAfterDeploy,
  OFFLINE_CREDENTIALS,
  PROJECT_ROOT,
  projectName,
  recorded,
  runProgram,
  stackConfig,
  stackSecretKeys,
} from "../tools/mocksRunner";
export type { ProgramRun, RecordedCall, RecordedResource, RunOptions } from "../tools/mocksRunner";

/**
 * A stack's Settings, as the config module reads them from its real files, with `set` (keys without a
 * namespace are the project's) and `unset` applied. Throws the config module's SettingsError.
 */
export function loadStackSettings(
  stack: string,
  set: Record<string, unknown> = {},
  unset: string[] = [],
  env: Record<string, string> = {},
): Settings {
  const project = projectName();
  const values: Record<string, string> = { ...stackConfig(stack), ...OFFLINE_CREDENTIALS };
  // Secrets, as in the mocks runner: the credentials, the file's encrypted values, and what the test sets.
  const secrets = new Set([...Object.keys(OFFLINE_CREDENTIALS), ...stackSecretKeys(values)]);
  for (const [k, v] of Object.entries(set)) {
    const key = k.includes(":") ? k : `${project}:${k}`;
    values[key] = configText(v);
    secrets.add(key);
  }
  for (const k of unset) delete values[k];
  return loadSettings(
    { get: (n, k) => values[`${n}:${k}`], keys: () => Object.keys(values), env: (n) => env[n], isSecret: (k) => secrets.has(k) },
    project,
    stack,
  );
}

/** The problems a load of a stack's settings reports; fails when it reports none, or fails otherwise. */
export function settingsProblems(
  stack: string,
  set: Record<string, unknown> = {},
  unset: string[] = [],
  env: Record<string, string> = {},
): string[] {
  try {
    loadStackSettings(stack, set, unset, env);
  } catch (err) {
    assert.ok(err instanceof SettingsError, `expected a SettingsError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail("expected the settings to be refused");
}
