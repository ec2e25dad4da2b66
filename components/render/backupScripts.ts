// The backup and restore programs of every node, as static bash: the node's values come from an env file
// (render/backup.ts writes it), its secrets from files, so no value is ever parsed as shell here. Each store is
// copied the way its makers document: LiteLLM's Postgres by pg_dump, Qdrant through its snapshot API,
// Grafana's SQLite database by SQLite's online backup, Coolify's database by pg_dump beside its data
// directory; restic (encrypted, deduplicated) carries the copies off the node and applies the retention.

/** Functions both programs share: reading the settings, reaching the repository, logging. */
export const BACKUP_COMMON_SCRIPT = String.raw`#!/bin/bash
# Shared by backup and restore: the settings, the repository's credentials, logging. Sourced, not run.

log() { printf '%s: %s\n' "$program" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

program=${"${0##*/}"}
here=$(cd "$(dirname "${"${BASH_SOURCE[0]}"}")" && pwd)
# shellcheck source=/dev/null
. "${"${AI_BACKUP_ENV:-/etc/ai-platform/backup/backup.env}"}"

: "${"${RESTIC_REPOSITORY:?RESTIC_REPOSITORY is not set}"}"
: "${"${BACKUP_NODE:?BACKUP_NODE is not set}"}"
: "${"${BACKUP_SECRETS_DIR:?BACKUP_SECRETS_DIR is not set}"}"
: "${"${BACKUP_WORK_DIR:?BACKUP_WORK_DIR is not set}"}"

export RESTIC_REPOSITORY BACKUP_SECRETS_DIR
export RESTIC_PASSWORD_FILE="$BACKUP_SECRETS_DIR/repository-password"
export RESTIC_CACHE_DIR="$BACKUP_WORK_DIR/cache"
[ -r "$RESTIC_PASSWORD_FILE" ] || die "the repository password is missing: $RESTIC_PASSWORD_FILE"

restic_options=()
case "$RESTIC_REPOSITORY" in
  sftp:*)
    ssh_options="-o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=$BACKUP_SECRETS_DIR/known_hosts -o ConnectTimeout=30 -o ServerAliveInterval=60"
    if [ -r "$BACKUP_SECRETS_DIR/target-password" ]; then
      # The target's password reaches ssh through askpass, never a command line or a terminal.
      export SSH_ASKPASS="$here/askpass" SSH_ASKPASS_REQUIRE=force
      ssh_options="$ssh_options -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive -o NumberOfPasswordPrompts=1"
    else
      ssh_options="$ssh_options -o BatchMode=yes"
    fi
    restic_options+=(-o "sftp.args=$ssh_options")
    ;;
  s3:*)
    AWS_ACCESS_KEY_ID=$(cat "$BACKUP_SECRETS_DIR/s3-access-key-id")
    AWS_SECRET_ACCESS_KEY=$(cat "$BACKUP_SECRETS_DIR/s3-secret-access-key")
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    ;;
esac

run_restic() { restic "${"${restic_options[@]}"}" "$@"; }

# One run at a time on a node: a backup and a restore never overlap.
take_lock() {
  exec 9>"${"${BACKUP_LOCK_FILE:-/run/lock/ai-platform-backup.lock}"}"
  flock -w 3600 9 || die "another backup or restore is still running"
}

# The repository's state: 0 open, 10 missing (restic 0.17 and later), 12 wrong password (0.17.1 and later).
repository_status() {
  local status=0
  run_restic cat config >/dev/null 2>"$BACKUP_WORK_DIR/repository-check.log" || status=$?
  if [ "$status" -ne 0 ]; then cat "$BACKUP_WORK_DIR/repository-check.log" >&2; fi
  return "$status"
}

explain_repository_status() {
  case "$1" in
    10) echo "there is no repository at $RESTIC_REPOSITORY" ;;
    12) echo "the repository at $RESTIC_REPOSITORY refuses this password (wrong repository password)" ;;
    *) echo "the repository at $RESTIC_REPOSITORY cannot be opened (restic exit $1)" ;;
  esac
}

# Qdrant's API key travels in a header read from a file descriptor, never on a command line.
qdrant_curl() {
  curl -fsS --retry 3 -H @<(printf 'api-key: %s\n' "$(cat "$BACKUP_SECRETS_DIR/qdrant-api-key")") "$@"
}
`;

/** `ssh`'s askpass: prints the target's password from its file, for SFTP targets that take a password. */
export const BACKUP_ASKPASS_SCRIPT = String.raw`#!/bin/sh
# ssh runs this for the backup target's password (SSH_ASKPASS_REQUIRE=force); the prompt is ignored.
exec cat "$BACKUP_SECRETS_DIR/target-password"
`;

export const BACKUP_SCRIPT = String.raw`#!/bin/bash
# Backs up this node's stores to the restic repository, applies the retention, and writes each store's result
# for node-exporter's textfile collector.
# Usage: backup [--publish-only] [STORE...]   (default: every store of this node)
set -euo pipefail
umask 077
# shellcheck source=/dev/null
. "$(dirname "${"${BASH_SOURCE[0]}"}")/backup-common"

staging="$BACKUP_WORK_DIR/staging"
metrics_dir=${"${BACKUP_METRICS_DIR:?BACKUP_METRICS_DIR is not set}"}
state="$BACKUP_WORK_DIR/state"
mkdir -p "$staging" "$state" "$metrics_dir" "$RESTIC_CACHE_DIR"

# --- the metrics -----------------------------------------------------------------------------------------

# The value of one metric in a store's last state, or nothing.
state_value() {
  local file="$state/$1.prom"
  [ -r "$file" ] || return 0
  awk -v name="$2" '$1 ~ "^"name"[{]" { print $2 }' "$file"
}

# Records one store's run: STORE OK(1|0) SIZE ADDED DURATION; a failure keeps the last success and its size.
record() {
  local store=$1 ok=$2 size=$3 added=$4 duration=$5 now last_success
  now=$(date +%s)
  if [ "$ok" = 1 ]; then
    last_success=$now
  else
    last_success=$(state_value "$store" aiplatform_backup_last_success_timestamp_seconds)
    size=$(state_value "$store" aiplatform_backup_size_bytes)
    added=""
  fi
  {
    printf 'aiplatform_backup_last_run_timestamp_seconds{store="%s"} %s\n' "$store" "$now"
    printf 'aiplatform_backup_last_run_success{store="%s"} %s\n' "$store" "$ok"
    printf 'aiplatform_backup_duration_seconds{store="%s"} %s\n' "$store" "$duration"
    if [ -n "$last_success" ]; then
      printf 'aiplatform_backup_last_success_timestamp_seconds{store="%s"} %s\n' "$store" "$last_success"
    fi
    if [ -n "$size" ]; then printf 'aiplatform_backup_size_bytes{store="%s"} %s\n' "$store" "$size"; fi
    if [ -n "$added" ]; then printf 'aiplatform_backup_added_bytes{store="%s"} %s\n' "$store" "$added"; fi
  } >"$state/$store.prom.new"
  mv "$state/$store.prom.new" "$state/$store.prom"
}

# From when each store has been backed up: the staleness alert counts from here until a first success.
mark_enabled() {
  local store
  for store in "$@"; do
    if [ ! -e "$state/$store.enabled" ]; then
      printf 'aiplatform_backup_enabled_timestamp_seconds{store="%s"} %s\n' "$store" "$(date +%s)" >"$state/$store.enabled"
    fi
  done
}

# Writes every store's state as one file, each metric's samples together, then moves it into place.
publish() {
  local out="$metrics_dir/ai-platform-backup.prom" name kind help
  {
    while IFS='|' read -r name kind help; do
      printf '# HELP %s %s\n# TYPE %s %s\n' "$name" "$help" "$name" "$kind"
      cat "$state"/*.prom "$state"/*.enabled 2>/dev/null | grep "^$name{" || true
    done <<'METRICS'
aiplatform_backup_enabled_timestamp_seconds|gauge|When backups of the store were set up, Unix time.
aiplatform_backup_last_run_timestamp_seconds|gauge|When the store's last backup run ended, Unix time.
aiplatform_backup_last_run_success|gauge|1 when the store's last backup run succeeded, 0 when it failed.
aiplatform_backup_last_success_timestamp_seconds|gauge|When the store's last successful backup ended, Unix time.
aiplatform_backup_duration_seconds|gauge|How long the store's last backup run took.
aiplatform_backup_size_bytes|gauge|Size of the store's last successful copy, before deduplication.
aiplatform_backup_added_bytes|gauge|Bytes the store's last successful backup added to the repository.
METRICS
  } >"$out.new"
  chmod 0644 "$out.new"
  mv "$out.new" "$out"
}

# --- the stores: each stages a consistent copy and prints the paths to back up -----------------------------

stage_postgres() {
  local dir="$staging/postgres"
  rm -rf "$dir" && mkdir -p "$dir"
  docker exec "$POSTGRES_CONTAINER" pg_dump --format=custom --no-owner --no-acl \
    -U "$POSTGRES_USER" -d "$POSTGRES_DB" >"$dir/$POSTGRES_DB.dump"
  echo "$dir"
}

stage_qdrant() {
  local dir="$staging/qdrant" collection snapshot
  rm -rf "$dir" && mkdir -p "$dir"
  qdrant_curl "$QDRANT_URL/collections" >"$BACKUP_WORK_DIR/collections.json"
  jq -er '.result.collections[].name' "$BACKUP_WORK_DIR/collections.json" >"$BACKUP_WORK_DIR/collections" ||
    [ "$(jq -r '.result.collections | length' "$BACKUP_WORK_DIR/collections.json")" = 0 ]
  while read -r collection; do
    snapshot=$(qdrant_curl -X POST "$QDRANT_URL/collections/$collection/snapshots?wait=true" | jq -er '.result.name')
    qdrant_curl -o "$dir/$collection.snapshot" "$QDRANT_URL/collections/$collection/snapshots/$snapshot"
    # The copy is off the node now; the snapshot would only fill Qdrant's disk.
    qdrant_curl -X DELETE "$QDRANT_URL/collections/$collection/snapshots/$snapshot" >/dev/null
  done <"$BACKUP_WORK_DIR/collections"
  echo "$dir"
}

stage_grafana() {
  local dir="$staging/grafana"
  rm -rf "$dir" && mkdir -p "$dir"
  # SQLite's online backup: a consistent copy while Grafana writes.
  sqlite3 "$GRAFANA_DB" ".backup '$dir/grafana.db'"
  [ "$(sqlite3 "$dir/grafana.db" 'PRAGMA integrity_check')" = ok ] || die "the copy of Grafana's database is damaged"
  echo "$dir"
}

stage_coolify() {
  local dir="$staging/coolify"
  rm -rf "$dir" && mkdir -p "$dir"
  # Coolify's documented backup: its database by pg_dump, and its data directory with the APP_KEY and SSH keys.
  docker exec coolify-db pg_dump --format=custom --no-acl --no-owner -U coolify -d coolify >"$dir/coolify.dump"
  echo "$dir"
  echo "$COOLIFY_DATA_DIR"
}

stage_config() {
  local dir="$staging/config" entry container path
  rm -rf "$dir" && mkdir -p "$dir"
  for entry in $CONFIG_FILES; do
    container=${"${entry%%:*}"}
    path=${"${entry#*:}"}
    mkdir -p "$dir/$container"
    if docker inspect "$container" >/dev/null 2>&1; then
      docker cp "$container:$path" "$dir/$container/"
    fi
  done
  echo "$dir"
}

stage_prometheus() {
  # The blocks on disk are immutable once written; the head block is rebuilt from the WAL after a restore.
  echo "$PROMETHEUS_DATA_DIR"
}

# Stages and backs up one store; prints "SIZE ADDED".
backup_store() {
  local store=$1 paths=() summary
  "stage_$store" >"$BACKUP_WORK_DIR/$store.paths"
  mapfile -t paths <"$BACKUP_WORK_DIR/$store.paths"
  [ "${"${#paths[@]}"}" -gt 0 ] || die "$store staged nothing"
  run_restic backup --json --host "$BACKUP_NODE" --tag "$store" --exclude "$COOLIFY_DATA_DIR/backups" \
    "${"${paths[@]}"}" >"$BACKUP_WORK_DIR/$store.json"
  summary=$(jq -r 'select(.message_type == "summary") | "\(.total_bytes_processed) \(.data_added)"' "$BACKUP_WORK_DIR/$store.json")
  [ -n "$summary" ] || die "restic gave no summary for $store"
  echo "$summary"
}

# --- the run ---------------------------------------------------------------------------------------------

publish_only=0
if [ "${"${1:-}"}" = --publish-only ]; then
  publish_only=1
  shift
fi
if [ "$#" -gt 0 ]; then stores=("$@"); else read -r -a stores <<<"$BACKUP_STORES"; fi
for store in "${"${stores[@]}"}"; do
  case " $BACKUP_STORES " in *" $store "*) ;; *) die "$store is not backed up on this node (its stores: $BACKUP_STORES)" ;; esac
done
mark_enabled "${"${stores[@]}"}" retention
if [ "$publish_only" = 1 ]; then
  publish
  exit 0
fi

take_lock
status=0
repository_status || status=$?
if [ "$status" = 10 ]; then
  log "no repository at $RESTIC_REPOSITORY yet: creating it"
  run_restic init
elif [ "$status" != 0 ]; then
  for store in "${"${stores[@]}"}" retention; do record "$store" 0 "" "" 0; done
  publish
  die "$(explain_repository_status "$status")"
fi

failed=()
for store in "${"${stores[@]}"}"; do
  started=$(date +%s)
  # A store's failure is recorded and the others still run; set -e holds inside the subshell.
  set +e
  (
    set -e
    backup_store "$store" >"$BACKUP_WORK_DIR/$store.result"
  )
  rc=$?
  set -e
  if [ "$rc" = 0 ]; then
    read -r size added <"$BACKUP_WORK_DIR/$store.result"
    record "$store" 1 "$size" "$added" "$(($(date +%s) - started))"
    log "$store: backed up ($size bytes, $added new)"
  else
    record "$store" 0 "" "" "$(($(date +%s) - started))"
    failed+=("$store")
    log "$store: backup failed"
  fi
  publish
done

# The retention: per node and store, the newest snapshot of each of the last days, weeks and months.
started=$(date +%s)
if run_restic forget --host "$BACKUP_NODE" --group-by host,tags --prune \
  --keep-daily "$BACKUP_KEEP_DAILY" --keep-weekly "$BACKUP_KEEP_WEEKLY" --keep-monthly "$BACKUP_KEEP_MONTHLY" >&2; then
  record retention 1 "" "" "$(($(date +%s) - started))"
else
  record retention 0 "" "" "$(($(date +%s) - started))"
  failed+=(retention)
fi
publish

if [ "${"${#failed[@]}"}" -gt 0 ]; then die "failed: ${"${failed[*]}"}"; fi
log "done: ${"${stores[*]}"}"
`;

export const RESTORE_SCRIPT = String.raw`#!/bin/bash
# Restores this node's stores from the restic repository into the running stack.
# Usage: restore --list [STORE]
#        restore [--snapshot ID] --yes STORE...|all   (without --yes: says what it would replace, and stops)
set -euo pipefail
umask 077
# shellcheck source=/dev/null
. "$(dirname "${"${BASH_SOURCE[0]}"}")/backup-common"

# Where backup staged each store's copy: a snapshot holds it under the same path.
staging="$BACKUP_WORK_DIR/staging"

usage() { die "usage: restore --list [STORE] | restore [--snapshot ID] --yes STORE...|all (stores here: $BACKUP_STORES)"; }

snapshot=latest
confirmed=0
list=0
stores=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --list) list=1 ;;
    --yes) confirmed=1 ;;
    --snapshot)
      [ "$#" -ge 2 ] || usage
      snapshot=$2
      shift
      ;;
    all) read -r -a stores <<<"$BACKUP_STORES" ;;
    -*) usage ;;
    *) stores+=("$1") ;;
  esac
  shift
done
for store in "${"${stores[@]}"}"; do
  case " $BACKUP_STORES " in *" $store "*) ;; *) die "$store is not backed up on this node (its stores: $BACKUP_STORES)" ;; esac
done

status=0
repository_status || status=$?
[ "$status" = 0 ] || die "$(explain_repository_status "$status")"

if [ "$list" = 1 ]; then
  tags=()
  if [ "${"${#stores[@]}"}" -gt 0 ]; then tags=(--tag "$(IFS=,; echo "${"${stores[*]}"}")"); fi
  run_restic snapshots --host "$BACKUP_NODE" "${"${tags[@]}"}"
  exit 0
fi
[ "${"${#stores[@]}"}" -gt 0 ] || usage
if [ "$snapshot" != latest ] && [ "${"${#stores[@]}"}" -ne 1 ]; then die "--snapshot names one store's snapshot: give one store"; fi

# The snapshot's id, checked to be this node's copy of the store.
resolve() {
  local store=$1 id
  id=$(run_restic snapshots --json --host "$BACKUP_NODE" --tag "$store" |
    jq -r --arg want "$snapshot" 'map(select($want == "latest" or .id == $want or .short_id == $want)) | sort_by(.time) | last | .id // empty')
  [ -n "$id" ] || die "no snapshot $snapshot of $store from $BACKUP_NODE in the repository (see: restore --list $store)"
  echo "$id"
}

stop_container() { docker stop "$1" >/dev/null && log "stopped $1"; }
start_container() { docker start "$1" >/dev/null && log "started $1"; }

restore_postgres() {
  local from="$1$staging/postgres/$POSTGRES_DB.dump"
  [ -s "$from" ] || die "the snapshot holds no dump of $POSTGRES_DB"
  # LiteLLM holds connections and would write meanwhile: stopped for the restore, started again after.
  stop_container "$LITELLM_CONTAINER"
  trap 'start_container "$LITELLM_CONTAINER"' EXIT
  docker exec -i "$POSTGRES_CONTAINER" pg_restore --clean --if-exists --no-owner --no-acl --single-transaction \
    -U "$POSTGRES_USER" -d "$POSTGRES_DB" <"$from"
  start_container "$LITELLM_CONTAINER"
  trap - EXIT
}

restore_qdrant() {
  local dir="$1$staging/qdrant" file collection
  for file in "$dir"/*.snapshot; do
    [ -e "$file" ] || die "the snapshot holds no Qdrant collection"
    collection=$(basename "$file" .snapshot)
    # The snapshot's data wins over what the collection holds now (priority=snapshot).
    qdrant_curl -X POST -F "snapshot=@$file" \
      "$QDRANT_URL/collections/$collection/snapshots/upload?priority=snapshot&wait=true" >/dev/null
    log "restored collection $collection"
  done
}

restore_grafana() {
  local from="$1$staging/grafana/grafana.db"
  [ -s "$from" ] || die "the snapshot holds no Grafana database"
  stop_container "$GRAFANA_CONTAINER"
  trap 'start_container "$GRAFANA_CONTAINER"' EXIT
  rm -f -- "$GRAFANA_DB-wal" "$GRAFANA_DB-shm" "$GRAFANA_DB-journal"
  install -o "$GRAFANA_UID" -g 0 -m 0640 "$from" "$GRAFANA_DB"
  start_container "$GRAFANA_CONTAINER"
  trap - EXIT
}

restore_coolify() {
  local root=$1 dump="$1$staging/coolify/coolify.dump" env="$COOLIFY_DATA_DIR/source/.env" key
  [ -s "$dump" ] || die "the snapshot holds no dump of Coolify's database"
  docker exec -i coolify-db pg_restore --clean --if-exists --no-acl --no-owner -U coolify -d coolify <"$dump"
  rm -rf -- "$COOLIFY_DATA_DIR/ssh"
  cp -a "$root$COOLIFY_DATA_DIR/ssh" "$COOLIFY_DATA_DIR/ssh"
  # The restored database's secrets are encrypted with the former APP_KEY: Coolify reads it from APP_PREVIOUS_KEYS.
  key=$(sed -n 's/^APP_KEY=//p' "$root$env")
  if [ -n "$key" ] && ! grep -qx "APP_KEY=$key" "$env"; then
    sed -i '/^APP_PREVIOUS_KEYS=/d' "$env"
    printf 'APP_PREVIOUS_KEYS=%s\n' "$key" >>"$env"
  fi
  docker restart coolify >/dev/null
}

restore_config() {
  local into="$BACKUP_WORK_DIR/restored-config"
  rm -rf -- "$into" && mkdir -p "$into"
  cp -a "$1$staging/config/." "$into/"
  log "the configuration as it was is in $into (pulumi up renders and installs the current one)"
}

restore_prometheus() {
  stop_container "$PROMETHEUS_CONTAINER"
  trap 'start_container "$PROMETHEUS_CONTAINER"' EXIT
  find "$PROMETHEUS_DATA_DIR" -mindepth 1 -delete
  cp -a "$1$PROMETHEUS_DATA_DIR/." "$PROMETHEUS_DATA_DIR/"
  start_container "$PROMETHEUS_CONTAINER"
  trap - EXIT
}

if [ "$confirmed" != 1 ]; then
  for store in "${"${stores[@]}"}"; do log "would replace $store's data with snapshot $(resolve "$store")"; done
  die "nothing done: run again with --yes to restore"
fi

take_lock
for store in "${"${stores[@]}"}"; do
  id=$(resolve "$store")
  into=$(mktemp -d "$BACKUP_WORK_DIR/restore.XXXXXX")
  run_restic restore "$id" --target "$into" >&2
  "restore_$store" "$into"
  rm -rf -- "$into"
  log "$store: restored from snapshot $id"
done
`;
