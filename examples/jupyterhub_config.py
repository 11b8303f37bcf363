# JupyterHub configuration running every hubauth example as a managed service.
#
#   jupyterhub -f examples/jupyterhub_config.py
#
# Log in with any user name and the password in $HUBAUTH_DEMO_PASSWORD (default "hubauth"), then
# visit /services/whoami-oauth-express/ (or -koa, -fastify, -hono, and -web / -web-deno: the plain
# fetch handler of @hubauth/web under Bun and Deno). The token-only services answer API calls:
#   curl -H "Authorization: token <token from /hub/token>" http://127.0.0.1:8000/services/whoami-api-express/
import os
import secrets
import shutil
from pathlib import Path

here = Path(__file__).resolve().parent
node = shutil.which("node") or "node"
# Bun and Deno come from their npm packages (scripts/demo.sh passes their paths).
bun = os.environ.get("HUBAUTH_DEMO_BUN") or shutil.which("bun") or "bun"
deno = os.environ.get("HUBAUTH_DEMO_DENO") or shutil.which("deno") or "deno"
runtimes = {
    "express": [node],
    "koa": [node],
    "fastify": [node],
    "hono": [node],
    "web": [bun],
    # Deno resolves the npm packages from node_modules
    "web-deno": [deno, "run", "--allow-all", "--node-modules-dir=manual"],
}

c = get_config()  # noqa: F821 (provided by JupyterHub)

c.JupyterHub.ip = os.environ.get("HUBAUTH_DEMO_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("HUBAUTH_DEMO_PORT", "8000"))
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = os.environ.get("HUBAUTH_DEMO_PASSWORD", "hubauth")
c.JupyterHub.db_url = os.environ.get("HUBAUTH_DEMO_DB", "sqlite:///jupyterhub.sqlite")
if os.environ.get("HUBAUTH_DEMO_PROXY"):
    c.ConfigurableHTTPProxy.command = [os.environ["HUBAUTH_DEMO_PROXY"]]

# Replicas of a service must share a cookie secret; one per Hub start is fine for a demo.
cookie_secret = os.environ.get("HUBAUTH_COOKIE_SECRET") or secrets.token_hex(32)

c.JupyterHub.services = []
port = 10101
for kind in ("api", "oauth"):
    for framework, runtime in runtimes.items():
        folder = framework.split("-")[0]
        c.JupyterHub.services.append(
            {
                "name": f"whoami-{kind}-{framework}",
                "url": f"http://127.0.0.1:{port}",
                "command": [*runtime, str(here / folder / f"whoami-{kind}.mjs")],
                "environment": {"HUBAUTH_COOKIE_SECRET": cookie_secret},
                "display": True,
            }
        )
        port += 1

# A "third-party" app that knows nothing about JupyterHub (examples/proxy/notes-app.mjs), put behind
# the Hub's login by hubauth-proxy, which starts it on a port of its own (PORT) and proxies HTTP and
# its websocket to it with the user in X-Hubauth-User: /services/notes/
c.JupyterHub.services.append(
    {
        "name": "notes",
        "url": f"http://127.0.0.1:{port}",
        "command": [
            node,
            str(here.parent / "packages" / "proxy" / "dist" / "bin.js"),
            "--",
            node,
            str(here / "proxy" / "notes-app.mjs"),
        ],
        "environment": {"HUBAUTH_COOKIE_SECRET": cookie_secret},
        "display": True,
    }
)
port += 1

# A dashboard that acts for the logged-in user with their own OAuth token, limited to these scopes.
c.JupyterHub.services.append(
    {
        "name": "my-servers",
        "url": f"http://127.0.0.1:{port}",
        "command": [node, str(here / "express" / "my-servers.mjs")],
        "environment": {"HUBAUTH_COOKIE_SECRET": cookie_secret},
        "oauth_client_allowed_scopes": ["read:servers!user", "read:tokens!user", "tokens!user"],
        "display": True,
    }
)
port += 1

c.JupyterHub.load_roles = [
    {
        "name": "user",
        # every user may use every service, and manage their own tokens
        "scopes": ["access:services", "self"],
    }
]
