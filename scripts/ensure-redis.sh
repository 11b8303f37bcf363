#!/usr/bin/env bash
# Installs Debian's redis-server for the shared-cache tests when it is missing. Idempotent.
# Needs root (apt-get). Redis is never downloaded any other way.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  echo "[ensure-redis] $(redis-server --version | cut -d' ' -f1-3) already installed"
  exit 0
fi
SUDO=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "[ensure-redis] need root to apt-get install redis-server" >&2; exit 1; }
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
echo "[ensure-redis] apt-get update"
"${SUDO[@]}" apt-get update -qq
echo "[ensure-redis] apt-get install redis-server"
# The package's own service is not needed: the tests start redis-server themselves on a free port.
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends redis-server >/dev/null
command -v redis-server >/dev/null 2>&1 || { echo "[ensure-redis] redis-server still missing after install" >&2; exit 1; }
echo "[ensure-redis] installed $(redis-server --version | cut -d' ' -f1-3)"
