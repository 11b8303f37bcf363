# JupyterHub as an OAuth provider for a service on its own host (http://127.0.0.1:5555).
#
#   export JUPYTERHUB_API_TOKEN=$(openssl rand -hex 32)
#   jupyterhub -f examples/external-oauth/jupyterhub_config.py
import os

api_token = os.environ.get("JUPYTERHUB_API_TOKEN")
if not api_token:
    raise ValueError("export JUPYTERHUB_API_TOKEN=$(openssl rand -hex 32) first (the service needs the same value)")
service_url = os.environ.get("EXTERNAL_SERVICE_URL", "http://127.0.0.1:5555")

c = get_config()  # noqa: F821 (provided by JupyterHub)

c.JupyterHub.services = [
    {
        # the name gives the access scope: access:services!service=external-oauth
        "name": "external-oauth",
        # the OAuth client id: unique, not secret
        "oauth_client_id": "service-oauth-client-test",
        # the service's API token is also its OAuth client secret
        "api_token": api_token,
        # absolute: the service is not behind the Hub's proxy
        "oauth_redirect_uri": f"{service_url}/oauth_callback",
    }
]

# every user may use the service
c.JupyterHub.load_roles = [{"name": "user", "scopes": ["self", "access:services!service=external-oauth"]}]

# demo only: any user name, one shared password; the Hub on 127.0.0.1:8000
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = os.environ.get("HUBAUTH_DEMO_PASSWORD", "hubauth")
c.JupyterHub.bind_url = os.environ.get("HUB_BIND_URL", "http://127.0.0.1:8000")
if os.environ.get("HUBAUTH_DEMO_PROXY"):
    c.ConfigurableHTTPProxy.command = [os.environ["HUBAUTH_DEMO_PROXY"]]
