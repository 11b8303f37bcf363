#!/usr/bin/env bash
# Installs Debian's nginx for the forward-auth tests when it is missing. Idempotent. Needs root
# (apt-get). The tests run nginx themselves, on loopback, with a temporary prefix and configuration;
# the package's own service is never started (policy-rc.d) and port 80 is never used.
set -euo pipefail
NGINX=/usr/sbin/nginx
if [ -x "$NGINX" ]; then
  echo "[ensure-nginx] $("$NGINX" -v 2>&1) already installed"
  exit 0
fi
SUDO=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "[ensure-nginx] need root to apt-get install nginx" >&2; exit 1; }
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# Keep the package from starting its own nginx on port 80.
POLICY=/usr/sbin/policy-rc.d
ADDED_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod +x "$POLICY"
  ADDED_POLICY=1
fi
trap '[ "$ADDED_POLICY" = 1 ] && "${SUDO[@]}" rm -f "$POLICY"' EXIT
if ! apt-cache policy nginx 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  echo "[ensure-nginx] apt-get update"
  "${SUDO[@]}" apt-get update -qq
fi
echo "[ensure-nginx] apt-get install nginx"
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends nginx >/dev/null
[ -x "$NGINX" ] || { echo "[ensure-nginx] $NGINX still missing after install" >&2; exit 1; }
echo "[ensure-nginx] installed $("$NGINX" -v 2>&1)"
