#!/usr/bin/env bash
# Docker Compose, built from the Go module proxy into .tools/bin/docker-compose, to read the compose overrides
# the Coolify install writes (test/render/coolify.test.ts) as Coolify's upgrade reads them. 2.38.2 is the
# version Coolify's helper image runs its `docker compose` with (coollabsio/coolify, at the Coolify version of
# components/catalog/images.ts: docker/coolify-helper/Dockerfile, DOCKER_COMPOSE_VERSION).
#
# `go install module@version` refuses a module whose go.mod has exclude directives, as Compose's has: the build
# goes through a throwaway module that requires it and repeats its excludes, so the same versions are chosen.
set -euo pipefail
cd "$(dirname "$0")/.."
compose_version=2.38.2
bin="$PWD/.tools/bin"
mkdir -p "$bin"
# The binary carries no version string of ours: a stamp file records what was built.
if [ -x "$bin/docker-compose" ] && [ -f "$bin/.docker-compose-$compose_version" ]; then
  echo "docker compose $compose_version in $bin"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/go.mod" <<EOF
module localbuild/compose

go 1.23.10

require github.com/docker/compose/v2 v${compose_version}

// As in github.com/docker/compose/v2's own go.mod at v${compose_version}.
exclude (
	github.com/davecgh/go-spew v1.1.2-0.20180830191138-d8f796af33cc
	github.com/pmezard/go-difflib v1.0.1-0.20181226105442-5d4384ee4fb2
)
EOF
cat >"$work/tools.go" <<'EOF'
//go:build tools

package tools

import _ "github.com/docker/compose/v2/cmd"
EOF
(cd "$work" && GOFLAGS=-mod=mod go mod tidy && go build -o "$bin/docker-compose" github.com/docker/compose/v2/cmd)
rm -f "$bin"/.docker-compose-*
touch "$bin/.docker-compose-$compose_version"
echo "docker compose $compose_version in $bin"
