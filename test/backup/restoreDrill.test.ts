/**
 * The restore drill, with the real programs: the node's own backup and restore scripts, restic at the
 * deployed version, a real Postgres, SQLite and an OpenSSH sftp server on loopback standing for the Storage
 * Box (one chrooted user per sub-account), and a stand-in for Qdrant's snapshot API. Fill, back up, destroy,
 * restore, compare; then the retention, a wrong repository password, dev's credentials against prod's
 * repository, and the operations node's credentials against the inference node's. The README's restore drill is the same steps.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { BackupNodeSpec } from "../../components/render/backup";
import {
  dockerShim,
  installPrograms,
  mustRun,
  PostgresCluster,
  QdrantStandIn,
  requireProgram,
  requireRoot,
  rootOwnedTempDir,
  run,
  runAsync,
  SftpServer,
  TOOLS_BIN,
  writeEnv,
} from "./drill";

const RETENTION = { daily: 7, weekly: 4, monthly: 6 };

describe("restore drill: LiteLLM's Postgres, Qdrant and Grafana through restic to an sftp target", () => {
  let root: string;
  let sftp: SftpServer;
  let postgres: PostgresCluster;
  let qdrant: QdrantStandIn;
  let programs: string;
  let env: NodeJS.ProcessEnv;
  let dockerLog: string;
  let secrets: string;
  let envFile: string;
  const qdrantKey = "drill-qdrant-key";
  const repositoryPassword = "drill-repository-password-0123456789";

  const restic = () => requireProgram("restic (built by .ci/install-validators.sh)", [path.join(TOOLS_BIN, "restic")]);
  const backup = (...args: string[]) => runAsync(path.join(programs, "backup"), args, env);
  const restore = (...args: string[]) => runAsync(path.join(programs, "restore"), args, env);
  const metrics = () => fs.readFileSync(path.join(root, "metrics", "ai-platform-backup.prom"), "utf8");
  const metric = (name: string, store: string) => {
    const m = new RegExp(`^${name}\\{store="${store}"\\} (\\S+)$`, "m").exec(metrics());
    return m ? Number(m[1]) : undefined;
  };
  const rows = () => postgres.psql("litellm", "litellm", "SELECT token, spend FROM verification_tokens ORDER BY token");
  const grafanaDb = () => path.join(root, "data", "grafana", "grafana.db");
  const dashboards = () => mustRun("sqlite3", [grafanaDb(), "SELECT uid, title FROM dashboard ORDER BY uid"]);
  const snapshotCount = (password = repositoryPassword, repository = sftp.url("prod-inference", "inference")) => {
    const file = path.join(root, "count-password");
    fs.writeFileSync(file, password);
    const r = run(restic(), ["-o", `sftp.args=${sshArgs()}`, "snapshots", "--json"], {
      env: { ...env, RESTIC_REPOSITORY: repository, RESTIC_PASSWORD_FILE: file, SSH_ASKPASS: path.join(programs, "askpass"), SSH_ASKPASS_REQUIRE: "force", BACKUP_SECRETS_DIR: secrets },
    });
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as unknown[]).length;
  };
  const sshArgs = () => `-o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=${secrets}/known_hosts -o PubkeyAuthentication=no`;

  before(async () => {
    requireRoot();
    requireProgram("sqlite3 (Debian sqlite3)", ["/usr/bin/sqlite3"]);
    requireProgram("jq (Debian jq)", ["/usr/bin/jq"]);
    restic();
    root = rootOwnedTempDir();
    // A sub-account per node and environment, as the stack declares them: prod-inference, prod-operations, dev-inference.
    sftp = new SftpServer(root, ["prod-inference", "prod-operations", "dev-inference"]);
    await sftp.start();
    postgres = new PostgresCluster(root);
    postgres.start();
    qdrant = new QdrantStandIn(qdrantKey);
    await qdrant.start();

    programs = installPrograms(root);
    dockerLog = path.join(root, "docker.log");
    const shim = dockerShim(root, dockerLog, postgres.clientEnv);
    secrets = path.join(root, "secrets");
    fs.mkdirSync(secrets, { mode: 0o700 });
    fs.writeFileSync(path.join(secrets, "repository-password"), repositoryPassword);
    fs.writeFileSync(path.join(secrets, "target-password"), sftp.accounts["prod-inference"].password);
    fs.writeFileSync(path.join(secrets, "qdrant-api-key"), qdrantKey);
    fs.mkdirSync(path.join(root, "data", "grafana"), { recursive: true });
    envFile = path.join(root, "backup.env");
    const spec: BackupNodeSpec = {
      node: "inference",
      repository: sftp.url("prod-inference", "inference"),
      stores: ["postgres", "qdrant", "grafana"],
      retention: RETENTION,
      hourUtc: 3,
      dataDir: path.join(root, "data"),
      qdrantUrl: qdrant.url,
      resticImage: "docker.io/restic/restic:0.19.1",
    };
    writeEnv(envFile, spec, {
      BACKUP_SECRETS_DIR: secrets,
      BACKUP_WORK_DIR: path.join(root, "work"),
      BACKUP_METRICS_DIR: path.join(root, "metrics"),
      BACKUP_LOCK_FILE: path.join(root, "lock"),
    });
    env = { PATH: `${shim}:${TOOLS_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, AI_BACKUP_ENV: envFile, TZ: "UTC", HOME: root };

    // The data a team would lose: LiteLLM's keys and spend, a Qdrant collection, a Grafana dashboard.
    postgres.psql("litellm", "litellm", [
      "CREATE TABLE verification_tokens (token text PRIMARY KEY, spend numeric NOT NULL);",
      "INSERT INTO verification_tokens VALUES ('sk-team-a', 12.5), ('sk-team-b', 0), ('sk-team-c', 3.25);",
    ].join(" "));
    qdrant.collections.set("docs", [
      { id: 1, vector: [0.1, 0.2, 0.3], payload: { text: "runbook" } },
      { id: 2, vector: [0.4, 0.5, 0.6], payload: { text: "faq" } },
    ]);
    mustRun("sqlite3", [grafanaDb(), "CREATE TABLE dashboard (uid text PRIMARY KEY, title text); INSERT INTO dashboard VALUES ('ovw', 'Stack overview'), ('team', 'Team board');"]);
  });

  after(() => {
    qdrant?.stop();
    postgres?.stop();
    sftp?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it("backs up each store, writes its result for the textfile collector, and the copy is encrypted on the target", async () => {
    const before = Date.now() / 1000;
    const r = await backup();
    assert.equal(r.status, 0, `backup failed:\n${r.stderr}`);
    for (const store of ["postgres", "qdrant", "grafana", "retention"]) {
      assert.equal(metric("aiplatform_backup_last_run_success", store), 1, `${store}:\n${metrics()}`);
      assert.ok(metric("aiplatform_backup_last_success_timestamp_seconds", store)! >= Math.floor(before), store);
    }
    for (const store of ["postgres", "qdrant", "grafana"]) assert.ok(metric("aiplatform_backup_size_bytes", store)! > 0, store);
    // The snapshot was taken through the API and deleted from Qdrant's disk once copied.
    assert.deepEqual(qdrant.calls.filter((c) => !c.startsWith("GET /collections/docs/snapshots/")).map((c) => c.replace(/docs-\d+-[\d-]+\.snapshot/, "S")), [
      "GET /collections",
      "POST /collections/docs/snapshots?wait=true",
      "DELETE /collections/docs/snapshots/S",
    ]);
    assert.equal(qdrant.snapshots.size, 0);
    // The repository is restic's, in prod's directory, and none of the rows is readable in it.
    assert.ok(fs.existsSync(path.join(sftp.accounts["prod-inference"].home, "inference", "config")));
    const onTarget = run("grep", ["-rl", "sk-team-a", path.join(sftp.accounts["prod-inference"].home, "inference")]);
    assert.equal(onTarget.status, 1, `plain text on the target: ${onTarget.stdout}`);
  });

  it("the metrics file is valid exposition text for Prometheus (promtool check metrics)", () => {
    const promtool = requireProgram("promtool (built by .ci/install-validators.sh)", [path.join(TOOLS_BIN, "promtool")]);
    const r = run(promtool, ["check", "metrics"], { input: metrics() });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  it("restores every store into the running stack after the data is destroyed", async () => {
    const expectedRows = rows();
    const expectedPoints = JSON.stringify(qdrant.collections.get("docs"));
    const expectedDashboards = dashboards();
    // Destroyed: the table dropped, the collection gone, the dashboards deleted.
    postgres.psql("litellm", "litellm", "DROP TABLE verification_tokens;");
    qdrant.collections.delete("docs");
    mustRun("sqlite3", [grafanaDb(), "DELETE FROM dashboard;"]);

    // Without --yes nothing is touched.
    const dry = await restore("all");
    assert.notEqual(dry.status, 0);
    assert.match(dry.stderr, /would replace postgres's data with snapshot [0-9a-f]{64}/);
    assert.match(dry.stderr, /run again with --yes/);
    assert.equal(postgres.psql("litellm", "litellm", "SELECT to_regclass('verification_tokens') IS NULL").trim(), "t");

    fs.writeFileSync(dockerLog, "");
    const r = await restore("--yes", "all");
    assert.equal(r.status, 0, `restore failed:\n${r.stderr}`);
    assert.equal(rows(), expectedRows);
    assert.equal(JSON.stringify(qdrant.collections.get("docs")), expectedPoints);
    assert.equal(dashboards(), expectedDashboards);
    // LiteLLM and Grafana were stopped while their data was replaced, and started again.
    const calls = fs.readFileSync(dockerLog, "utf8").trim().split("\n").map((l) => l.split(" ").slice(0, 3).join(" "));
    assert.deepEqual(calls, ["stop litellm", "exec -i postgres", "start litellm", "stop grafana", "start grafana"]);
    assert.equal(fs.statSync(grafanaDb()).uid, 472);
  });

  it("restores one store from a chosen snapshot", async () => {
    const first = JSON.parse(mustRun(restic(), ["-o", `sftp.args=${sshArgs()}`, "snapshots", "--json", "--tag", "postgres"], {
      env: { ...env, RESTIC_REPOSITORY: sftp.url("prod-inference", "inference"), RESTIC_PASSWORD_FILE: path.join(secrets, "repository-password"), SSH_ASKPASS: path.join(programs, "askpass"), SSH_ASKPASS_REQUIRE: "force", BACKUP_SECRETS_DIR: secrets },
    })) as { short_id: string }[];
    postgres.psql("litellm", "litellm", "INSERT INTO verification_tokens VALUES ('sk-later', 1);");
    assert.equal((await backup("postgres")).status, 0);
    postgres.psql("litellm", "litellm", "DELETE FROM verification_tokens;");
    const r = await restore("--snapshot", first[0].short_id, "--yes", "postgres");
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(rows(), /sk-later/);
    assert.match(rows(), /sk-team-a\|12.5/);
    const both = await restore("--snapshot", first[0].short_id, "--yes", "postgres", "qdrant");
    assert.notEqual(both.status, 0);
    assert.match(both.stderr, /--snapshot names one store's snapshot: give one store/);
  });

  it("a wrong repository password is refused: nothing is written, and the failure is recorded", async () => {
    const lastSuccess = metric("aiplatform_backup_last_success_timestamp_seconds", "postgres");
    const count = snapshotCount();
    const passwordFile = path.join(secrets, "repository-password");
    fs.writeFileSync(passwordFile, "not-the-repository-password");
    try {
      const r = await backup();
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /refuses this password \(wrong repository password\)/);
      assert.equal(metric("aiplatform_backup_last_run_success", "postgres"), 0);
      assert.equal(metric("aiplatform_backup_last_success_timestamp_seconds", "postgres"), lastSuccess);
      const list = await restore("--list");
      assert.notEqual(list.status, 0);
      assert.match(list.stderr, /refuses this password/);
    } finally {
      fs.writeFileSync(passwordFile, repositoryPassword);
    }
    assert.equal(snapshotCount(), count);
  });

  it("dev's sub-account cannot read prod's repository: its own directory is all it sees, and prod's account refuses its password", async () => {
    const devEnv = (repository: string, password: string) => {
      const devSecrets = path.join(root, `dev-secrets-${Math.random().toString(36).slice(2)}`);
      fs.mkdirSync(devSecrets, { mode: 0o700 });
      fs.writeFileSync(path.join(devSecrets, "repository-password"), repositoryPassword);
      fs.writeFileSync(path.join(devSecrets, "target-password"), password);
      const file = path.join(devSecrets, "backup.env");
      fs.writeFileSync(file, `${fs.readFileSync(envFile, "utf8")}RESTIC_REPOSITORY='${repository}'\nBACKUP_SECRETS_DIR='${devSecrets}'\n`);
      return { ...env, AI_BACKUP_ENV: file };
    };
    const dev = sftp.accounts["dev-inference"];
    const prodRepository = path.relative(sftp.accounts["dev-inference"].home, path.join(sftp.accounts["prod-inference"].home, "inference"));
    for (const repository of [sftp.url("dev-inference", "inference"), sftp.url("dev-inference", prodRepository), `sftp://${dev.user}@127.0.0.1:${sftp.port}/${path.join(sftp.accounts["prod-inference"].home, "inference")}`]) {
      // Even with prod's repository password, dev's account finds no repository there.
      const r = await runAsync(path.join(programs, "restore"), ["--list"], devEnv(repository, dev.password));
      assert.notEqual(r.status, 0, repository);
      assert.match(r.stderr, /there is no repository at/, `${repository}:\n${r.stderr}`);
    }
    // Dev's password does not open prod's account.
    const asProd = await runAsync(path.join(programs, "restore"), ["--list"], devEnv(sftp.url("prod-inference", "inference"), dev.password));
    assert.notEqual(asProd.status, 0);
    assert.match(asProd.stderr, /Permission denied|cannot be opened/);
  });

  // The operations node's root is Coolify's admins': its sub-account must neither read nor delete the inference
  // node's repository (LiteLLM's database, Qdrant's vectors), even knowing where it lies.
  it("the operations node's sub-account can neither read nor delete the inference node's repository", async () => {
    const operations = sftp.accounts["prod-operations"];
    const inference = sftp.accounts["prod-inference"];
    const opsSecrets = path.join(root, "operations-secrets");
    fs.mkdirSync(opsSecrets, { mode: 0o700 });
    fs.writeFileSync(path.join(opsSecrets, "repository-password"), "operations-own-repository-password");
    fs.writeFileSync(path.join(opsSecrets, "target-password"), operations.password);
    const opsEnv = (repository: string) => {
      const file = path.join(opsSecrets, `backup-${Math.random().toString(36).slice(2)}.env`);
      fs.writeFileSync(file, `${fs.readFileSync(envFile, "utf8")}BACKUP_NODE='operations'\nRESTIC_REPOSITORY='${repository}'\nBACKUP_SECRETS_DIR='${opsSecrets}'\n`);
      return { ...env, AI_BACKUP_ENV: file };
    };
    const inferenceRepository = path.join(inference.home, "inference");
    const seen = [
      sftp.url("prod-operations", "inference"),
      sftp.url("prod-operations", path.relative(operations.home, inferenceRepository)),
      `sftp://${operations.user}@127.0.0.1:${sftp.port}/${inferenceRepository}`,
    ];
    for (const repository of seen) {
      const r = await runAsync(path.join(programs, "restore"), ["--list"], opsEnv(repository));
      assert.notEqual(r.status, 0, repository);
      assert.match(r.stderr, /there is no repository at/, `${repository}:\n${r.stderr}`);
    }
    // Its password does not open the inference node's account.
    const asInference = await runAsync(path.join(programs, "restore"), ["--list"], opsEnv(sftp.url("prod-inference", "inference")));
    assert.notEqual(asInference.status, 0);
    assert.match(asInference.stderr, /Permission denied|cannot be opened/);

    // Deleting over SFTP, as the operations node's account: its own file goes, the inference node's repository stays.
    const sftpAs = (command: string) => {
      const batch = path.join(opsSecrets, "batch");
      fs.writeFileSync(batch, `${command}\n`);
      // sftp -b turns on ssh's BatchMode, which asks no password; an earlier -o wins (ssh takes an option's first value).
      return runAsync("sftp", ["-o", "BatchMode=no", "-b", batch, "-P", String(sftp.port), ...sshArgs().split(" "), "-o", "NumberOfPasswordPrompts=1", `${operations.user}@127.0.0.1`], {
        ...env,
        SSH_ASKPASS: path.join(programs, "askpass"),
        SSH_ASKPASS_REQUIRE: "force",
        BACKUP_SECRETS_DIR: opsSecrets,
      });
    };
    const own = path.join(operations.home, "own-file");
    fs.writeFileSync(own, "x");
    mustRun("chown", [operations.user, own]);
    const control = await sftpAs("rm own-file");
    assert.equal(control.status, 0, `the operations account deletes its own file:\n${control.stderr}`);
    assert.ok(!fs.existsSync(own));
    const count = snapshotCount();
    for (const target of ["inference/config", `${path.relative(operations.home, inferenceRepository)}/config`, `${inferenceRepository}/config`]) {
      const r = await sftpAs(`rm ${target}`);
      assert.notEqual(r.status, 0, `rm ${target} succeeded`);
    }
    assert.ok(fs.existsSync(path.join(inferenceRepository, "config")), "the inference node's repository is whole");
    assert.equal(snapshotCount(), count);
  });

  it("the retention keeps the newest snapshot of each of the last 7 days, 4 weeks and 6 months, and prunes the rest", async () => {
    // Snapshots of the past 200 days, sparser further back, in a local repository of their own.
    const repository = path.join(root, "retention-repo");
    const retentionEnv = path.join(root, "retention.env");
    fs.writeFileSync(retentionEnv, `${fs.readFileSync(envFile, "utf8")}RESTIC_REPOSITORY='${repository}'\n`);
    const renv = { ...env, AI_BACKUP_ENV: retentionEnv, RESTIC_PASSWORD_FILE: path.join(secrets, "repository-password"), RESTIC_REPOSITORY: repository };
    mustRun(restic(), ["init"], { env: renv });
    const now = new Date();
    const day = (ago: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - ago, 12));
    const seeded = [...Array.from({ length: 13 }, (_, i) => i + 1), ...Array.from({ length: 38 }, (_, i) => 15 + i * 5)];
    const seed = path.join(root, "seed");
    fs.writeFileSync(seed, "x");
    for (const ago of seeded) {
      const t = day(ago).toISOString().replace("T", " ").slice(0, 19);
      mustRun(restic(), ["backup", "-q", "--host", "inference", "--tag", "postgres", "--time", t, seed], { env: renv });
    }
    const r = await runAsync(path.join(programs, "backup"), ["postgres"], { ...env, AI_BACKUP_ENV: retentionEnv });
    assert.equal(r.status, 0, r.stderr);

    const kept = (JSON.parse(mustRun(restic(), ["snapshots", "--json", "--tag", "postgres"], { env: renv })) as { time: string }[])
      .map((s) => new Date(s.time))
      .sort((a, b) => b.getTime() - a.getTime());
    // The expectation, bucket by bucket: each rule keeps the newest snapshot of each of its last n buckets.
    const times = [now, ...seeded.map(day)].sort((a, b) => b.getTime() - a.getTime());
    const isoWeek = (d: Date) => {
      const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
      t.setUTCDate(t.getUTCDate() + 4 - (t.getUTCDay() || 7));
      const year = t.getUTCFullYear();
      return `${year}-${Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / 864e5 + 1) / 7)}`;
    };
    const expected = new Set<number>();
    for (const [n, bucket] of [
      [RETENTION.daily, (d: Date) => d.toISOString().slice(0, 10)],
      [RETENTION.weekly, isoWeek],
      [RETENTION.monthly, (d: Date) => d.toISOString().slice(0, 7)],
    ] as const) {
      const seen = new Set<string>();
      for (const t of times) {
        if (seen.size === n) break;
        if (!seen.has(bucket(t))) {
          seen.add(bucket(t));
          expected.add(t.getTime());
        }
      }
    }
    const keptDays = kept.map((t) => t.toISOString().slice(0, 10));
    const expectedDays = [...expected].sort((a, b) => b - a).map((t) => new Date(t).toISOString().slice(0, 10));
    assert.deepEqual(keptDays, expectedDays);
    assert.ok(kept.length < seeded.length + 1 && kept.length >= 7, `kept ${kept.length}`);
    // forget --prune ran: nothing of the forgotten snapshots' data remains referenced.
    mustRun(restic(), ["check", "-q"], { env: renv });
  });
});
