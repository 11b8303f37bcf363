#!/usr/bin/env bash
# Starts the external service with the environment of JupyterHub's external-oauth recipe
# (examples/external-oauth/launch-service.sh upstream), plus the one variable hubauth needs more:
# JUPYTERHUB_SERVICE_NAME, which gives the access scope.
#
#   bash examples/external-oauth/launch-service.sh [express]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# 1. the API token (also the OAuth client secret): the same value the Hub has
if [[ -z "${JUPYTERHUB_API_TOKEN:-}" ]]; then
  echo 'set the API token first: export JUPYTERHUB_API_TOKEN=$(openssl rand -hex 32)' >&2
  exit 1
fi
# 2. the OAuth client id, and the service's name in c.JupyterHub.services
export JUPYTERHUB_CLIENT_ID="service-oauth-client-test"
export JUPYTERHUB_SERVICE_NAME="external-oauth"
# 3. where the service runs
export JUPYTERHUB_SERVICE_PREFIX="/"
export JUPYTERHUB_SERVICE_URL="${EXTERNAL_SERVICE_URL:-http://127.0.0.1:5555}"
export JUPYTERHUB_OAUTH_CALLBACK_URL="$JUPYTERHUB_SERVICE_URL/oauth_callback"
# 4. where the Hub is: its public URL (for browsers) and its API (for the service)
export JUPYTERHUB_HOST="${JUPYTERHUB_HOST:-http://127.0.0.1:8000}"
export JUPYTERHUB_API_URL="${JUPYTERHUB_API_URL:-http://127.0.0.1:8081/hub/api}"
# 5. the key of the login cookie; keep it to keep logins across restarts
export HUBAUTH_COOKIE_SECRET="${HUBAUTH_COOKIE_SECRET:-$(openssl rand -hex 32)}"

exec node "$here/${1:-express}.mjs"
