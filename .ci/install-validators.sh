#!/usr/bin/env bash
# Everything the tests run besides Node: the real programs that read what the stack renders.
#   Debian's cloud-init and shellcheck (and iproute2 and the OpenSSH client, which the local cloud drives);
#   promtool and amtool at the deployed versions (Go module proxy);
#   LiteLLM at the deployed version (PyPI, into .venv-litellm);
#   Docker Compose at the version Coolify's helper runs (Go module proxy), with Debian's jq and util-linux's
#   unshare, for Coolify's install script run against stand-ins.
# Idempotent: what is already there at the right version is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

# iproute2 and the OpenSSH client for the local cloud: its network namespace, and the Docker provider's SSH.
# iptables: the host firewall is applied for real in network namespaces (test/render/hostFirewall.test.ts).
# jq: Coolify's install script reads daemon.json with it, as on the node (test/render/coolify.test.ts).
# systemd: systemd-analyze verifies the host firewall's units as its install leaves them.
apt_packages=(cloud-init shellcheck iproute2 openssh-client iptables jq systemd)
bash .ci/apt-install.sh "${apt_packages[@]}"

bash .ci/install-prometheus-tools.sh
bash .ci/install-litellm.sh
bash .ci/install-compose.sh
bash .ci/install-backup-tools.sh
