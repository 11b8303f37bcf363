"""The Python reference whoami with the cache turned off, for `pnpm bench`.

Python's ``HubAuth.cache_max_age = 0`` means "cache forever", so the only way to make
``HubAuthenticated`` ask the Hub on every request is ``user_for_token(..., use_cache=False)``.
This is test/hub/python/whoami.py's token route (``HubAuthenticated``, JSON user model) with a
``HubAuth`` that passes ``use_cache=False``; everything else is the pip-installed JupyterHub's code.
Environment: the ``JUPYTERHUB_*`` variables a managed service gets.
"""

import json
import os
from urllib.parse import urlparse

from jupyterhub.services.auth import HubAuth, HubAuthenticated
from jupyterhub.utils import url_path_join
from tornado import ioloop, web


class NoCacheHubAuth(HubAuth):
    def user_for_token(self, token, use_cache=True, session_id='', *, sync=True):
        return super().user_for_token(token, use_cache=False, session_id=session_id, sync=sync)


class TokenWhoAmI(HubAuthenticated, web.RequestHandler):
    def initialize(self, hub_auth):
        self.hub_auth = hub_auth

    @web.authenticated
    def get(self):
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(self.get_current_user(), sort_keys=True))


class Health(web.RequestHandler):
    def get(self):
        self.finish("ok")


def main():
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    bind = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101"))
    app = web.Application(
        [
            (prefix, TokenWhoAmI, {"hub_auth": NoCacheHubAuth()}),
            (url_path_join(prefix, "health"), Health),
            (r"/", Health),
        ]
    )
    app.listen(bind.port or 80, bind.hostname or "127.0.0.1")
    try:
        ioloop.IOLoop.current().start()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
