// whoami-oauth (Express): browser login through the Hub, like Python's HubOAuthenticated.
// Run by JupyterHub as a managed service; visit <hub>/services/<name>/ in a browser.
import express from 'express';
import { hubAuth, hubAuthenticated } from '@hubauth/express';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
const app = express();
app.set('trust proxy', 'loopback'); // JupyterHub's proxy forwards the browser's protocol
app.use(express.urlencoded({ extended: false })); // lets forms send the _xsrf field
app.use(hubAuth());
app.get(prefix, hubAuthenticated(), (req, res) => res.json(req.hubUser));
app.post(`${prefix}echo`, hubAuthenticated(), (req, res) => res.json({ ok: true, name: req.hubUser?.name }));

const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10102');
app.listen(Number(port), hostname, () => console.log(`whoami-oauth (express) listening on ${hostname}:${port}${prefix}`));
