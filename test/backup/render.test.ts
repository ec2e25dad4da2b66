/**
 * The backup's rendered files read by the programs that will read them: every script by shellcheck, the
 * systemd units by systemd-analyze, the env file by bash itself.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import {
  BACKUP_PROGRAMS,
  BackupNodeSpec,
  renderBackupEnv,
  renderBackupInstall,
  renderBackupUnits,
} from "../../components/render/backup";
import { assertShellcheckClean, requireBinary, tempFile } from "../validators";

const SPEC: BackupNodeSpec = {
  node: "inference",
  repository: "sftp://u1-sub1@u1-sub1.your-storagebox.de:23/inference",
  stores: ["postgres", "qdrant", "config"],
  retention: { daily: 7, weekly: 4, monthly: 6 },
  hourUtc: 3,
  dataDir: "/srv/data",
  qdrantUrl: "http://100.64.0.1:6333",
  configFiles: [{ container: "litellm", path: "/app/config.yaml" }],
  resticImage: "docker.io/restic/restic:0.19.1",
};

describe("backup programs and their install", () => {
  for (const [name, text] of Object.entries(BACKUP_PROGRAMS)) {
    it(`${name} passes shellcheck, down to style notes`, () => assertShellcheckClean(name, text));
  }
  it("the install script passes shellcheck", () => assertShellcheckClean("install", renderBackupInstall(SPEC)));

  it("the install script carries no secret: they arrive on standard input", () => {
    const script = renderBackupInstall(SPEC);
    assert.match(script, /REPOSITORY_PASSWORD:\?the repository password must arrive on standard input/);
    assert.doesNotMatch(script, /password=\S/i);
  });

  it("the env file, sourced by bash, gives the programs the spec's values, quoted", () => {
    const env = renderBackupEnv({ ...SPEC, repository: "s3:https://s3.example.com/bucket/it's" });
    const file = tempFile("backup.env", env);
    const r = spawnSync("bash", ["-c", `set -eu; . ${file}; printf '%s|' "$RESTIC_REPOSITORY" "$BACKUP_STORES" "$BACKUP_KEEP_DAILY" "$BACKUP_KEEP_WEEKLY" "$BACKUP_KEEP_MONTHLY" "$QDRANT_URL" "$GRAFANA_DB" "$CONFIG_FILES"`], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "s3:https://s3.example.com/bucket/it's|postgres qdrant config|7|4|6|http://100.64.0.1:6333|/srv/data/grafana/grafana.db|litellm:/app/config.yaml|");
  });

  it("refuses a spec the programs could not run", () => {
    assert.throws(() => renderBackupEnv({ ...SPEC, repository: "/local/path" }), /must be an sftp: or s3: URL; got \/local\/path/);
    assert.throws(() => renderBackupEnv({ ...SPEC, qdrantUrl: undefined }), /the qdrant store needs Qdrant's URL/);
    assert.throws(() => renderBackupUnits({ ...SPEC, hourUtc: 24 }), /backup hour must be 0 to 23; got 24/);
  });

  it("the service and timer pass systemd-analyze verify, and the timer fires nightly at the hour, UTC", () => {
    requireBinary("/usr/bin/systemd-analyze", "install Debian's systemd");
    const dir = path.dirname(tempFile("placeholder", ""));
    const { service, timer } = renderBackupUnits(SPEC);
    // The service's program must exist for verify: a stand-in at the same path would be root's; so verify
    // a copy that runs /bin/true, and check the real ExecStart line apart.
    assert.match(service, /^ExecStart=\/usr\/local\/lib\/ai-platform\/backup\/backup$/m);
    fs.writeFileSync(path.join(dir, "ai-platform-backup.service"), service.replace(/^ExecStart=.*$/m, "ExecStart=/bin/true"));
    fs.writeFileSync(path.join(dir, "ai-platform-backup.timer"), timer);
    const r = spawnSync("systemd-analyze", ["verify", "--man=no", "--recursive-errors=no", path.join(dir, "ai-platform-backup.timer"), path.join(dir, "ai-platform-backup.service")], { encoding: "utf8" });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, /ai-platform-backup/, `${r.stdout}${r.stderr}`);
    const next = spawnSync("systemd-analyze", ["calendar", "--iterations=2", "*-*-* 03:00:00 UTC"], { encoding: "utf8" });
    assert.equal(next.status, 0, next.stderr);
    assert.match(timer, /^OnCalendar=\*-\*-\* 03:00:00 UTC$/m);
    assert.match(timer, /^Persistent=true$/m);
  });
});
