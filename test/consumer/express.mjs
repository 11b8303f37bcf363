// A consumer's Express service (ESM), run by scripts/check-consumer.mjs against the fake Hub.
import express from 'express';
import { hubAuth, hubAuthenticated, requireHubUser } from '@hubauth/express';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX;
const app = express();
app.use(hubAuth());
app.get(prefix, hubAuthenticated(), (req, res) => res.json({ name: requireHubUser(req).name, module: 'esm' }));
app.get(`${prefix}staff`, hubAuthenticated({ hubGroups: ['staff'] }), (req, res) => res.json({ name: requireHubUser(req).name }));
const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL);
app.listen(Number(port), hostname, () => console.log('listening'));
