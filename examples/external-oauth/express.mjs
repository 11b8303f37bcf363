// An external service on its own host: JupyterHub is only its OAuth provider. It is not started by
// the Hub and not behind the Hub's proxy; it learns where the Hub is from the environment that
// launch-service.sh sets (JupyterHub's own external-oauth recipe, plus JUPYTERHUB_SERVICE_NAME).
//
//   bash launch-service.sh express     then visit http://127.0.0.1:5555/
import express from 'express';
import { hubAuth, hubAuthenticated } from '@hubauth/express';

const app = express();
// Identifies callers; serves /oauth_callback (the path of JUPYTERHUB_OAUTH_CALLBACK_URL) and /logout.
app.use(hubAuth());
// A browser without a login is sent to the Hub and comes back here, to the page it asked for.
app.get('/', hubAuthenticated(), (req, res) => res.json(req.hubUser));
app.get('/*rest', hubAuthenticated(), (req, res) => res.json({ page: req.originalUrl, user: req.hubUser?.name }));

const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:5555');
app.listen(Number(port), hostname, () => console.log(`external-oauth (express) on http://${hostname}:${port}/`));
