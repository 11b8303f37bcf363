#!/usr/bin/env bash
# Installs Debian's nginx for the forward-auth tests when it is missing. Idempotent. Needs root
# (apt-get). The tests run nginx themselves, on loopback, with a temporary prefix and configuration;
# the package's own service is never started (policy-rc.d) and port 80 is never used.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
NGINX=/usr/sbin/nginx
present() { [ -x "$NGINX" ]; }
describe() { "$NGINX" -v 2>&1; }
if present; then
  apt_install ensure-nginx nginx # only says so
  exit 0
fi
as_root ensure-nginx "apt-get install nginx"
# Keep the package from starting its own nginx on port 80.
POLICY=/usr/sbin/policy-rc.d
ADDED_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod +x "$POLICY"
  ADDED_POLICY=1
fi
trap '[ "$ADDED_POLICY" = 1 ] && "${SUDO[@]}" rm -f "$POLICY"' EXIT
apt_install ensure-nginx nginx
