#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests when /usr/bin/chromium is missing. Idempotent.
# Needs root (apt-get). No browser is ever downloaded any other way.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CHROMIUM=/usr/bin/chromium
present() { [ -x "$CHROMIUM" ]; }
describe() { "$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM"; }
apt_install ensure-chromium chromium fonts-liberation
