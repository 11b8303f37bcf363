// whoami-api (Express): token-only authentication, like Python's HubAuthenticated.
// Run by JupyterHub as a managed service; try it with `curl -H "Authorization: token <token>" <hub>/services/<name>/`.
import express from 'express';
import { hubAuth, hubAuthenticated } from '@hubauth/express';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
const app = express();
app.use(hubAuth({ oauth: false }));
app.get(prefix, hubAuthenticated(), (req, res) => res.json(req.hubUser));

const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10101');
app.listen(Number(port), hostname, () => console.log(`whoami-api (express) listening on ${hostname}:${port}${prefix}`));
