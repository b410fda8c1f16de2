#!/usr/bin/env bash
# Installs from Debian the binaries the tests run for real when they are missing: Prometheus and Alertmanager (rule
# and end-to-end tests), jsonnet (the monitoring mixin) and Chromium (the service worker).
# The tests themselves fail (never skip) without them, so a machine where this cannot install them fails loudly.
set -euo pipefail
declare -A package_of=(
  [prometheus]=prometheus [promtool]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager [amtool]=prometheus-alertmanager
  [jsonnet]=jsonnet [chromium]=chromium
)
packages=()
for tool in "${!package_of[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || packages+=("${package_of[$tool]}")
done
[ ${#packages[@]} -eq 0 ] && exit 0
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
echo "installing from Debian: ${packages[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
# The Debian packages start their services where systemd runs; the tests start their own on free ports.
$SUDO systemctl stop prometheus prometheus-alertmanager prometheus-node-exporter >/dev/null 2>&1 || true
