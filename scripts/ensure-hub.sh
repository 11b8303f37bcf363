#!/usr/bin/env bash
# Creates the project-local virtualenvs .venv-hub6 / .venv-hub5 holding the pinned JupyterHub
# versions from test/hub/versions.json (the only place the pins live), plus the Node
# configurable-http-proxy from the test workspace package. Idempotent: a venv whose stamp file
# matches its pin is left alone.
#
#   bash scripts/ensure-hub.sh [6|5|all]     (default: all)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
WHICH="${1:-all}"
case "$WHICH" in
  all) MAJORS=(6 5) ;;
  5|6) MAJORS=("$WHICH") ;;
  *) echo "usage: $0 [6|5|all]" >&2; exit 2 ;;
esac

say() { printf '\033[1m[ensure-hub]\033[0m %s\n' "$*"; }

pin_for() {
  "$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' test/hub/versions.json "$1"
}

for major in "${MAJORS[@]}"; do
  pin="$(pin_for "$major")"
  venv="$ROOT/.venv-hub$major"
  stamp="$venv/.hubauth-pin"
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pin" ] \
    && [ -x "$venv/bin/jupyterhub" ]; then
    say "Hub $major: $pin already installed in .venv-hub$major"
    continue
  fi
  if [ -d "$venv" ]; then
    say "Hub $major: stale or incomplete venv, recreating .venv-hub$major"
    rm -rf "$venv"
  fi
  say "Hub $major: creating .venv-hub$major ($("$PYTHON" --version 2>&1))"
  "$PYTHON" -m venv "$venv"
  say "Hub $major: pip install $pin"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --progress-bar off -q \
    --upgrade pip >/dev/null
  if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --progress-bar off \
    "$pin" 2>&1 | awk '/^(Collecting|Successfully|ERROR)/ { print "    " $0; fflush() }'; then
    echo "Hub $major: pip install $pin failed" >&2
    exit 1
  fi
  "$venv/bin/python" -c 'import jupyterhub, sys; print(jupyterhub.__version__)' >/dev/null \
    || { echo "Hub $major: installing $pin failed" >&2; exit 1; }
  printf '%s' "$pin" > "$stamp"
  say "Hub $major: installed $("$venv/bin/jupyterhub" --version)"
done

# Start-up speed: jsonschema (via jupyter_events) imports the optional rfc3987-syntax, which builds
# a lark grammar at import time and adds ~1 s to every Hub start. jsonschema only uses it to check
# the "iri" string formats and skips those checks without it, so the test venvs drop it.
for major in "${MAJORS[@]}"; do
  venv="$ROOT/.venv-hub$major"
  if compgen -G "$venv/lib/python*/site-packages/rfc3987_syntax" >/dev/null; then
    say "Hub $major: removing the optional rfc3987-syntax (slow import)"
    "$venv/bin/python" -m pip uninstall --disable-pip-version-check -y -q rfc3987-syntax
  fi
done

# The Hub starts configurable-http-proxy itself; it comes from npm through the test workspace package.
if [ ! -x "$ROOT/test/node_modules/.bin/configurable-http-proxy" ]; then
  say "configurable-http-proxy missing: running pnpm install"
  pnpm install --frozen-lockfile --reporter=append-only | grep -v '^Progress' || true
  [ -x "$ROOT/test/node_modules/.bin/configurable-http-proxy" ] \
    || { echo "configurable-http-proxy still missing after pnpm install" >&2; exit 1; }
fi
say "configurable-http-proxy: $("$ROOT/test/node_modules/.bin/configurable-http-proxy" --version 2>/dev/null || echo '?')"
