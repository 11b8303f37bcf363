#!/usr/bin/env bash
# The whoami demo: a real JupyterHub with the example services (whoami-api and whoami-oauth for
# Express, Koa, Fastify and Hono on Node, and a plain fetch handler on Bun and on Deno), the
# my-servers dashboard and a plain app behind hubauth-proxy. Installs what it needs on the first
# run; Ctrl-C stops it all.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_pnpm
ensure_deps
build_packages
step "JupyterHub (virtualenv .venv-hub6)"
bash scripts/ensure-hub.sh 6

PORT="${HUBAUTH_DEMO_PORT:-8000}"
PASSWORD="${HUBAUTH_DEMO_PASSWORD:-hubauth}"
RUN_DIR="$ROOT/.tmp/demo"
mkdir -p "$RUN_DIR"
export HUBAUTH_DEMO_PORT="$PORT" HUBAUTH_DEMO_PASSWORD="$PASSWORD"
export HUBAUTH_DEMO_PROXY="$ROOT/test/node_modules/.bin/configurable-http-proxy"
export HUBAUTH_DEMO_DB="sqlite:///$RUN_DIR/jupyterhub.sqlite"
export HUBAUTH_DEMO_BUN="$ROOT/node_modules/@oven/bun-linux-x64/bin/bun"
export HUBAUTH_DEMO_DENO="$ROOT/node_modules/@deno/linux-x64-glibc/deno"
export PATH="$(dirname "$(command -v node)"):$PATH"

step "Starting JupyterHub on http://127.0.0.1:$PORT"
cat <<MSG
  Log in at   http://127.0.0.1:$PORT/hub/login   with any user name and the password "$PASSWORD".
  Browser:    http://127.0.0.1:$PORT/services/whoami-oauth-express/   (also -koa, -fastify, -hono, -web on Bun, -web-deno)
  Dashboard:  http://127.0.0.1:$PORT/services/my-servers/   (acts for you: your servers and tokens)
  Any app:    http://127.0.0.1:$PORT/services/notes/   (a plain app behind hubauth-proxy, with a websocket)
  API:        create a token at http://127.0.0.1:$PORT/hub/token, then
              curl -H "Authorization: token <token>" http://127.0.0.1:$PORT/services/whoami-api-fastify/
  Ctrl-C stops the Hub, its proxy and the services.
MSG
cd "$RUN_DIR"
exec "$ROOT/.venv-hub6/bin/jupyterhub" -f "$ROOT/examples/jupyterhub_config.py" --JupyterHub.cookie_secret_file="$RUN_DIR/cookie_secret"
