#!/usr/bin/env bash
# The LiteLLM proxy at the version the stack deploys (components/catalog/images.ts), from PyPI into
# .venv-litellm, so test/render/litellm.test.ts can run the rendered config through the real program.
# Idempotent: a venv that already has this version and can import the proxy is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/.*litellm: pin("[^"]*", "\([0-9.]*\)".*/\1/p' components/catalog/images.ts)
if [ -z "$version" ]; then
  echo "install-litellm: could not read the litellm version from components/catalog/images.ts" >&2
  exit 1
fi
venv=.venv-litellm
# The stacks of a LiteLLM that starts and never answers, printed by the tests that run it.
pyspy=0.4.3
py="$venv/bin/python"
ready() {
  [ -x "$venv/bin/litellm" ] &&
    [ "$("$py" -c 'import importlib.metadata as m; print(m.version("litellm"))' 2>/dev/null)" = "$version" ] &&
    "$py" -c 'import fastapi, uvicorn, prometheus_client' 2>/dev/null &&
    [ "$("$venv/bin/py-spy" --version 2>/dev/null)" = "py-spy ${pyspy}" ]
}
if ! ready; then
  [ -x "$py" ] || python3 -m venv "$venv"
  pip=("$venv/bin/pip" install --quiet --disable-pip-version-check)
  if ! "${pip[@]}" "litellm[proxy]==${version}"; then
    # Recent releases pin split-out siblings in the proxy extra (litellm-proxy, and litellm-proxy-extras and
    # litellm-enterprise at post-releases) that the registry reachable here does not serve. The proxy itself
    # ships inside the litellm wheel, so install that, then the extra's own requirements read from its
    # metadata, without litellm-proxy and with the siblings at the newest version served.
    echo "install-litellm: litellm[proxy]==${version} does not resolve here; installing its parts" >&2
    "${pip[@]}" "litellm==${version}"
    mapfile -t requirements < <("$py" - <<'PY'
import importlib.metadata as m
from packaging.requirements import Requirement
for spec in m.requires("litellm") or []:
    req = Requirement(spec)
    if req.marker is None or not req.marker.evaluate({"extra": "proxy"}):
        continue
    if req.name == "litellm-proxy":
        continue
    if req.name in ("litellm-proxy-extras", "litellm-enterprise"):
        print(req.name)
        continue
    req.marker = None
    print(str(req))
PY
    )
    "${pip[@]}" "litellm==${version}" "${requirements[@]}"
  fi
  # /metrics needs prometheus_client, which the proxy image ships (litellm's proxy-runtime extra).
  "${pip[@]}" "litellm==${version}" prometheus-client "py-spy==${pyspy}"
fi
ready || { echo "install-litellm: .venv-litellm is incomplete after install" >&2; exit 1; }
echo "litellm $version in $venv"
