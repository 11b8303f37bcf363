#!/usr/bin/env bash
# The whoami demo: a real JupyterHub with the example services behind it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_pnpm
ensure_deps
build_packages
echo "The whoami demo is not yet available."
