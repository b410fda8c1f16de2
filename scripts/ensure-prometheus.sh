#!/usr/bin/env bash
# Installs the Prometheus and Alertmanager binaries the rule and end-to-end tests need, from Debian, when missing.
# The tests themselves fail (never skip) without them, so a machine where this cannot install them fails loudly.
set -euo pipefail
missing=()
for tool in prometheus promtool prometheus-alertmanager amtool; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing prometheus and prometheus-alertmanager (missing: ${missing[*]})" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null
# The Debian packages start their services where systemd runs; the tests start their own on free ports.
$SUDO systemctl stop prometheus prometheus-alertmanager prometheus-node-exporter >/dev/null 2>&1 || true
