#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests when /usr/bin/chromium is missing. Idempotent.
# Needs root (apt-get). No browser is ever downloaded any other way.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  echo "[ensure-chromium] $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM") already installed"
  exit 0
fi
SUDO=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "[ensure-chromium] need root to apt-get install chromium" >&2; exit 1; }
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
echo "[ensure-chromium] apt-get update"
"${SUDO[@]}" apt-get update -qq
echo "[ensure-chromium] apt-get install chromium"
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
[ -x "$CHROMIUM" ] || { echo "[ensure-chromium] $CHROMIUM still missing after install" >&2; exit 1; }
echo "[ensure-chromium] installed $("$CHROMIUM" --version 2>/dev/null)"
