#!/usr/bin/env bash
# Installs Debian's redis-server for the shared-cache tests when it is missing. Idempotent.
# Needs root (apt-get). Redis is never downloaded any other way. The package's own service is not
# needed: the tests start redis-server themselves on a free port.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
present() { command -v redis-server >/dev/null 2>&1; }
describe() { redis-server --version | cut -d' ' -f1-3; }
apt_install ensure-redis redis-server
