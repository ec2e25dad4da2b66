#!/usr/bin/env bash
# promtool and amtool at the versions the stack deploys (components/catalog/images.ts), built from the Go
# module proxy into .tools/bin. Debian's are older (promtool 2.42) than the Prometheus 3 servers we run.
set -euo pipefail
cd "$(dirname "$0")/.."
prometheus_version=$(sed -n 's/.*prometheus: pin("[^"]*", "\([0-9.]*\)".*/\1/p' components/catalog/images.ts)
alertmanager_version=$(sed -n 's/.*alertmanager: pin("[^"]*", "\([0-9.]*\)".*/\1/p' components/catalog/images.ts)
# Prometheus 3.x.y is published to the module proxy as v0.3xx.y.
IFS=. read -r major minor patch <<<"$prometheus_version"
prometheus_module_version="v0.${major}$(printf '%02d' "$minor").${patch}"
export GOBIN="$PWD/.tools/bin"
mkdir -p "$GOBIN"
# go install sets no version string in the binaries, so a stamp file records what was built.
if [ ! -x "$GOBIN/promtool" ] || [ ! -f "$GOBIN/.promtool-$prometheus_version" ]; then
  go install "github.com/prometheus/prometheus/cmd/promtool@${prometheus_module_version}"
  touch "$GOBIN/.promtool-$prometheus_version"
fi
if [ ! -x "$GOBIN/amtool" ] || [ ! -f "$GOBIN/.amtool-$alertmanager_version" ]; then
  go install "github.com/prometheus/alertmanager/cmd/amtool@v${alertmanager_version}"
  touch "$GOBIN/.amtool-$alertmanager_version"
fi
echo "promtool ${prometheus_version} (module ${prometheus_module_version}) and amtool ${alertmanager_version} in $GOBIN"
