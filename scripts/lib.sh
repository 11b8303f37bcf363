# Shared set-up for scripts/demo.sh, scripts/test.sh and the ensure-*.sh scripts: everything a fresh machine needs, each step
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

# `apt-get update` at most once per run: the scripts a run starts share one stamp through the
# environment (a stamp left by an earlier run is removed by the next one).
if [ -z "${HUBAUTH_APT_STAMP:-}" ]; then
  rm -f "$ROOT"/.tmp/apt-updated.*
  export HUBAUTH_APT_STAMP="$ROOT/.tmp/apt-updated.$$"
fi

# apt_install <tag> <package>...: installs Debian packages for a test dependency when the caller's
# `present` function says it is missing, then checks `present` again; `describe` prints what is
# installed. Needs root (or sudo). The package index is refreshed first only when a package has no
# install candidate (a fresh machine), or after a failed install (a stale index), and at most once
# per run. Nothing is ever installed any other way.
apt_install() {
  local tag=$1
  shift
  if present; then
    echo "[$tag] $(describe) already installed"
    return 0
  fi
  as_root "$tag" "apt-get install $*" || return 1
  export DEBIAN_FRONTEND=noninteractive
  local package
  for package in "$@"; do
    apt-cache policy "$package" 2>/dev/null | grep -q 'Candidate: [0-9]' || { apt_update_once "$tag"; break; }
  done
  echo "[$tag] apt-get install $*"
  if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null; then
    [ ! -e "$HUBAUTH_APT_STAMP" ] || { echo "[$tag] apt-get install $* failed" >&2; return 1; }
    apt_update_once "$tag"
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
  present || { echo "[$tag] still missing after apt-get install $*" >&2; return 1; }
  echo "[$tag] installed $(describe)"
}

# Sets SUDO to what runs a command as root: nothing for root, else sudo (or fails, saying `what` needs root).
as_root() {
  SUDO=()
  [ "$(id -u)" != 0 ] || return 0
  command -v sudo >/dev/null 2>&1 || { echo "[$1] need root to $2" >&2; return 1; }
  SUDO=(sudo)
}

apt_update_once() {
  [ ! -e "$HUBAUTH_APT_STAMP" ] || return 0
  echo "[$1] apt-get update"
  "${SUDO[@]}" apt-get update -qq
  mkdir -p "$(dirname "$HUBAUTH_APT_STAMP")"
  touch "$HUBAUTH_APT_STAMP"
}
