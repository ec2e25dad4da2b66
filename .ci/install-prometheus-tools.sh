#!/usr/bin/env bash
# The Prometheus programs at the versions the stack deploys (components/catalog/images.ts), built from the Go
# module proxy into .tools/bin:
#   promtool and amtool, which check the rendered rules and Alertmanager config (Debian's are older, promtool
#   2.42, than the Prometheus 3 servers we run);
#   prometheus, alertmanager, node_exporter and blackbox_exporter, which test/render/metricNames.test.ts runs
#   on loopback to see which metric names really exist.
# Idempotent: a binary whose stamp file says it was built at the pinned version is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

pinned() {
  local version
  version=$(sed -n "s/.*$1: pin(\"[^\"]*\", \"\([0-9.]*\)\".*/\1/p" components/catalog/images.ts)
  if [ -z "$version" ]; then
    echo "install-prometheus-tools: no version for $1 in components/catalog/images.ts" >&2
    exit 1
  fi
  echo "$version"
}
prometheus_version=$(pinned prometheus)
alertmanager_version=$(pinned alertmanager)
node_exporter_version=$(pinned nodeExporter)
blackbox_version=$(pinned blackboxExporter)
# Prometheus 3.x.y is published to the module proxy as v0.3xx.y.
IFS=. read -r major minor patch <<<"$prometheus_version"
prometheus_module_version="v0.${major}$(printf '%02d' "$minor").${patch}"
export GOBIN="$PWD/.tools/bin"
mkdir -p "$GOBIN"

# go install sets no version string in the binaries, so a stamp file records what was built; the servers also
# get their version stamped in, as the release builds do, so that their build_info metric carries it.
built() { [ -x "$GOBIN/$1" ] && [ -f "$GOBIN/.$1-$2" ]; }
stamp() { touch "$GOBIN/.$1-$2"; }
version_flag() { echo "-X github.com/prometheus/common/version.Version=$1"; }

if ! built promtool "$prometheus_version"; then
  go install "github.com/prometheus/prometheus/cmd/promtool@${prometheus_module_version}"
  stamp promtool "$prometheus_version"
fi
if ! built amtool "$alertmanager_version"; then
  go install "github.com/prometheus/alertmanager/cmd/amtool@v${alertmanager_version}"
  stamp amtool "$alertmanager_version"
fi
if ! built prometheus "$prometheus_version"; then
  go install -ldflags "$(version_flag "$prometheus_version")" \
    "github.com/prometheus/prometheus/cmd/prometheus@${prometheus_module_version}"
  stamp prometheus "$prometheus_version"
fi
if ! built node_exporter "$node_exporter_version"; then
  go install -ldflags "$(version_flag "$node_exporter_version")" "github.com/prometheus/node_exporter@v${node_exporter_version}"
  stamp node_exporter "$node_exporter_version"
fi

# Builds package $3 of module $1 at version $2 as $GOBIN/$4 from a copy of the module's source, for the two
# that `go install module@version` cannot build: the proxy here refuses blackbox_exporter's version list,
# which go install reads; Alertmanager's web UI is built by npm in its release process and is not in the
# module, so an empty placeholder stands in for it (the tests use its API and /metrics, not its UI).
build_from_module() {
  local module=$1 version=$2 package=$3 binary=$4 dir work
  dir=$(go mod download -json "${module}@${version}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { echo "install-prometheus-tools: could not download ${module}@${version}" >&2; exit 1; }
  work=$(mktemp -d)
  cp -r "$dir/." "$work"
  chmod -R u+w "$work"
  if [ "$binary" = alertmanager ]; then
    for ui in elm mantine; do
      mkdir -p "$work/ui/app/dist/$ui"
      echo "web UI not built: this binary is for tests" >"$work/ui/app/dist/$ui/index.html"
    done
  fi
  (cd "$work" && go build -buildvcs=false -ldflags "$(version_flag "${version#v}")" -o "$GOBIN/$binary" "$package")
  rm -rf "$work"
}
if ! built blackbox_exporter "$blackbox_version"; then
  build_from_module github.com/prometheus/blackbox_exporter "v${blackbox_version}" . blackbox_exporter
  stamp blackbox_exporter "$blackbox_version"
fi
if ! built alertmanager "$alertmanager_version"; then
  build_from_module github.com/prometheus/alertmanager "v${alertmanager_version}" ./cmd/alertmanager alertmanager
  stamp alertmanager "$alertmanager_version"
fi

echo "in $GOBIN: promtool and prometheus ${prometheus_version} (module ${prometheus_module_version}), amtool and" \
  "alertmanager ${alertmanager_version}, node_exporter ${node_exporter_version}, blackbox_exporter ${blackbox_version}"
