# Shared set-up for scripts/demo.sh and scripts/test.sh: everything a fresh machine needs, each step
# skipped when already done. Sourced, not executed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PNPM_VERSION="$(node -p "require('./package.json').packageManager.split('@')[1]")"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# pnpm, pinned to package.json's packageManager, installed project-locally (no root needed).
ensure_pnpm() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; then
    PNPM=(pnpm)
  else
    if [ ! -x "$ROOT/.tools/node_modules/.bin/pnpm" ] || [ "$("$ROOT/.tools/node_modules/.bin/pnpm" --version)" != "$PNPM_VERSION" ]; then
      step "Installing pnpm $PNPM_VERSION into .tools/"
      npm install --silent --no-audit --no-fund --prefix "$ROOT/.tools" "pnpm@$PNPM_VERSION" >/dev/null
    fi
    PNPM=("$ROOT/.tools/node_modules/.bin/pnpm")
    export PATH="$ROOT/.tools/node_modules/.bin:$PATH"
  fi
  export PATH="$ROOT/node_modules/.bin:$PATH"
}

ensure_deps() {
  step "Installing dependencies (pnpm install)"
  "${PNPM[@]}" install --frozen-lockfile --reporter=append-only | grep -v '^Progress' || true
  test -d "$ROOT/node_modules/.pnpm" || { echo "pnpm install failed" >&2; exit 1; }
}

build_packages() {
  step "Building packages"
  "${PNPM[@]}" run build
}
