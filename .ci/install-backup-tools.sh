#!/usr/bin/env bash
# What the restore drill (test/backup/) runs: restic at the version the nodes run (components/catalog/images.ts),
# built from the Go module proxy into .tools/bin; and from Debian: OpenSSH's sshd (the sftp target), Postgres
# (LiteLLM's database), sqlite3 (Grafana's), jq and curl (the backup programs' own tools).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(openssh-server openssh-client postgresql postgresql-client sqlite3 jq curl)
bash .ci/apt-install.sh "${apt_packages[@]}"

restic_version=$(sed -n 's/.*restic: pin("[^"]*", "\([0-9.]*\)".*/\1/p' components/catalog/images.ts)
[ -n "$restic_version" ] || { echo "no restic pin in components/catalog/images.ts" >&2; exit 1; }
export GOBIN="$PWD/.tools/bin"
mkdir -p "$GOBIN"
# restic's own release build is static (CGO off), as is the binary the nodes take from its image.
if [ ! -x "$GOBIN/restic" ] || ! "$GOBIN/restic" version | grep -q "^restic ${restic_version} "; then
  CGO_ENABLED=0 go install "github.com/restic/restic/cmd/restic@v${restic_version}"
fi
"$GOBIN/restic" version
