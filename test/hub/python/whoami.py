"""Reference "whoami" service for the integration tests and the benchmark.

Runs as a JupyterHub *managed* service (see ``pythonWhoamiService`` in ../index.ts), so the Hub sets
JUPYTERHUB_SERVICE_URL, JUPYTERHUB_SERVICE_PREFIX, JUPYTERHUB_API_TOKEN, ... for it. It uses the
Python implementation shipped with the pip-installed JupyterHub, so the Node middleware can be
compared against it.

Routes, all under $JUPYTERHUB_SERVICE_PREFIX:
  ''                token auth (``HubAuthenticated``): JSON user model, 403 without a valid token
  'oauth/'          browser auth (``HubOAuthenticated``): redirects to the Hub's OAuth when needed
  'oauth_callback'  ``HubOAuthCallbackHandler``
  'health'          unauthenticated, for readiness checks
"""

import json
import os
from urllib.parse import urlparse

from jupyterhub.services.auth import (
    HubAuth,
    HubAuthenticated,
    HubOAuth,
    HubOAuthCallbackHandler,
    HubOAuthenticated,
)
from jupyterhub.utils import url_path_join
from tornado import ioloop, web


def _write_model(handler, model):
    handler.set_header("Content-Type", "application/json")
    handler.finish(json.dumps(model, sort_keys=True))


class _WithHubAuth:
    # one explicit HubAuth / HubOAuth instance per route family: the classes' default singletons
    # are incompatible siblings and cannot both exist in one process
    def initialize(self, hub_auth):
        self.hub_auth = hub_auth


class TokenWhoAmI(_WithHubAuth, HubAuthenticated, web.RequestHandler):
    @web.authenticated
    def get(self):
        _write_model(self, self.get_current_user())


class OAuthWhoAmI(_WithHubAuth, HubOAuthenticated, web.RequestHandler):
    @web.authenticated
    def get(self):
        _write_model(self, self.get_current_user())


class OAuthCallback(_WithHubAuth, HubOAuthCallbackHandler):
    pass


class Health(web.RequestHandler):
    def get(self):
        self.finish("ok")


def main():
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    service_url = os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101")
    bind = urlparse(service_url)
    token_auth = HubAuth()
    oauth = HubOAuth()
    app = web.Application(
        [
            (prefix, TokenWhoAmI, {"hub_auth": token_auth}),
            (url_path_join(prefix, "oauth/"), OAuthWhoAmI, {"hub_auth": oauth}),
            (url_path_join(prefix, "oauth_callback"), OAuthCallback, {"hub_auth": oauth}),
            (url_path_join(prefix, "health"), Health),
            # the Hub checks that the service answers at its URL before proxying it
            (r"/", Health),
        ],
        cookie_secret=os.urandom(32),
    )
    app.listen(bind.port or 80, bind.hostname or "127.0.0.1")
    try:
        ioloop.IOLoop.current().start()
    except KeyboardInterrupt:
        # the Hub stops managed services with SIGINT
        pass


if __name__ == "__main__":
    main()
