/** The backup settings: an existing target needs its URL and credentials, each refusal naming the setting. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadStackSettings, settingsProblems } from "../harness";

describe("backup settings", () => {
  it("default to a Storage Box, nightly at 03 UTC, keeping 7 daily, 4 weekly and 6 monthly", () => {
    const { backup } = loadStackSettings("prod");
    assert.equal(backup.target, "storagebox");
    assert.equal(backup.storageBoxType.name, "bx11");
    assert.equal(backup.hourUtc, 3);
    assert.deepEqual(backup.retention, { daily: 7, weekly: 4, monthly: 6 });
    assert.equal(backup.prometheus, false);
  });

  it("an SFTP target without its URL and password is refused, naming both and how to set them", () => {
    assert.deepEqual(settingsProblems("dev", { backupTarget: "sftp" }), [
      "ai-platform:backupTarget is \"sftp\" but ai-platform:backupRepositoryUrl, ai-platform:backupTargetPassword are not set: " +
        "`pulumi config set --secret ai-platform:backupRepositoryUrl ...`, `pulumi config set --secret ai-platform:backupTargetPassword ...`, or set backupTarget to storagebox",
    ]);
  });

  it("an S3 target's URL must be restic's s3: form; the message does not show the secret", () => {
    const problems = settingsProblems("dev", { backupTarget: "s3", backupRepositoryUrl: "https://secret-host/bucket", backupS3AccessKeyId: "id", backupS3SecretAccessKey: "key" });
    assert.deepEqual(problems, ["ai-platform:backupRepositoryUrl is not a restic s3 repository URL (its value is secret and not shown): write s3:https://host/bucket/path"]);
    assert.doesNotMatch(problems[0], /secret-host/);
  });

  it("an unknown target, a retention out of range and an hour past 23 are refused", () => {
    const problems = settingsProblems("dev", { backupTarget: "nas", backupKeepDaily: "0", backupHourUtc: "24" });
    assert.ok(problems.includes('ai-platform:backupTarget is "nas": use one of storagebox, sftp, s3'), problems.join("\n"));
    assert.ok(problems.includes('ai-platform:backupKeepDaily is "0": use a whole number from 1 to 365'), problems.join("\n"));
    assert.ok(problems.includes('ai-platform:backupHourUtc is "24": use a whole number from 0 to 23'), problems.join("\n"));
  });

  it("an existing SFTP target with its URL and password is accepted, kept as secrets", () => {
    const { backup } = loadStackSettings("dev", { backupTarget: "sftp", backupRepositoryUrl: "sftp://u@backup.example.com:22/ai", backupTargetPassword: "pw" });
    assert.equal(backup.target, "sftp");
    assert.ok(backup.repositoryUrl && backup.targetPassword);
  });
});
