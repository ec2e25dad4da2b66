#!/usr/bin/env bash
# The Pulumi engine the tests drive (CLI, Node.js language host, provider plugins): prints the directory to put
# first on PATH, and nothing else on stdout (messages go to stderr).
#
#   export PATH="$(bash .ci/install-pulumi-engine.sh):$PATH"
#
# - A `pulumi` already on PATH (the user's own) is used as it is: its directory is printed. Its provider
#   plugins must be on PATH too, or in its plugin cache at the versions package.json asks for (e.g. after
#   `pulumi install --no-dependencies`): the tests run with an empty PULUMI_HOME and never download a plugin.
# - Otherwise the offline engine is installed from the shared archive (no network) with its own install.sh,
#   which prints its bin directory (under ~/.cache/pulumi-engine, never inside this repository). The archive
#   is looked for in $PULUMI_ENGINE_DIR, by default ../shared/pulumi-engine beside the repository root.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { echo "install-pulumi-engine: $*" >&2; }

if existing=$(command -v pulumi); then
  version=$(PULUMI_SKIP_UPDATE_CHECK=true pulumi version 2>/dev/null) || {
    log "ERROR: $existing is on PATH but 'pulumi version' fails"
    exit 1
  }
  log "using the pulumi on PATH: $existing ($version)"
  dirname "$existing"
  exit 0
fi

# The engine beside the checkout (../shared), or the workplace's shared folder when the clone lives elsewhere.
if [ -n "${PULUMI_ENGINE_DIR:-}" ]; then
  engine=$PULUMI_ENGINE_DIR
else
  engine=$repo/../shared/pulumi-engine
  [ -f "$engine/install.sh" ] || [ ! -f /work/shared/pulumi-engine/install.sh ] || engine=/work/shared/pulumi-engine
fi
if [ ! -f "$engine/install.sh" ]; then
  log "ERROR: no pulumi on PATH, and no offline engine at $engine (no install.sh there)."
  log "Install the Pulumi CLI (https://www.pulumi.com/docs/install/) with its provider plugins on PATH, or"
  log "point PULUMI_ENGINE_DIR at the pulumi-engine directory (the one with install.sh and the archive)."
  exit 1
fi
bin=$(bash "$engine/install.sh") || {
  log "ERROR: $engine/install.sh failed (its message is above)"
  exit 1
}
[ -x "$bin/pulumi" ] || {
  log "ERROR: $engine/install.sh printed '$bin', which holds no pulumi"
  exit 1
}
echo "$bin"
