// my-servers (Express): a dashboard that acts FOR the logged-in user, with the user's own token —
// not with this service's token. It lists the user's servers and API tokens, creates a token and
// revokes one. The Hub decides what the user may do; the service only asks.
//
// Registered in jupyterhub_config.py with the scopes it may ask for:
//   "oauth_client_allowed_scopes": ["read:servers!user", "read:tokens!user", "tokens!user"]
import express from 'express';
import { hubAuth, hubAuthenticated } from '@hubauth/express';

const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX ?? '/';
const app = express();
app.set('trust proxy', 'loopback');
app.use(express.urlencoded({ extended: false })); // forms send the _xsrf field
// Ask the Hub for these scopes at login; what it granted is in req.hubUser.scopes.
app.use(hubAuth({ requestScopes: ['read:servers!user', 'read:tokens!user', 'tokens!user'] }));

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const userPath = (req) => `/users/${encodeURIComponent(req.hubUser.name)}`;

// Only users whose login granted these scopes get in ("!user" = their own).
const mine = hubAuthenticated({ requireScopes: ['read:servers!user', 'read:tokens!user'] });

app.get(prefix, mine, async (req, res, next) => {
  try {
    // Both calls go out with the user's OAuth token: the Hub answers what *they* may see.
    const [{ body: user }, { body: tokens }] = await Promise.all([
      req.hubAuth.api('GET', userPath(req)),
      req.hubAuth.api('GET', `${userPath(req)}/tokens`),
    ]);
    const servers = Object.values(user.servers ?? {});
    const xsrf = escape(res.locals.xsrfToken ?? '');
    res.type('html').send(`<!doctype html><meta charset="utf-8"><title>My servers</title>
<h1>${escape(user.name)}'s servers</h1>
<ul>${servers.map((s) => `<li>${escape(s.name || '(default)')}: ${s.ready ? 'running' : escape(s.pending ?? 'stopped')}</li>`).join('') || '<li>none</li>'}</ul>
<h2>API tokens</h2>
<ul>${tokens.api_tokens
      .map(
        (t) => `<li>${escape(t.note ?? t.oauth_client ?? t.id)} (${escape(t.id)}, last used ${escape(t.last_activity ?? 'never')})
<form method="post" action="${prefix}tokens/${escape(t.id)}/revoke" style="display:inline"><input type="hidden" name="_xsrf" value="${xsrf}"><button>Revoke</button></form></li>`,
      )
      .join('')}</ul>
<form method="post" action="${prefix}tokens"><input type="hidden" name="_xsrf" value="${xsrf}">
<input name="note" placeholder="note" required> <button>New token (1 hour)</button></form>
<p><a href="${prefix}logout">Log out</a></p>`);
  } catch (err) {
    next(err);
  }
});

app.post(`${prefix}tokens`, mine, async (req, res, next) => {
  try {
    const note = String(req.body?.note ?? 'my-servers').slice(0, 100);
    const { body } = await req.hubAuth.api('POST', `${userPath(req)}/tokens`, { note, expires_in: 3600, scopes: ['read:users:name!user'] });
    // Shown once, to its owner, as the Hub's own token page does.
    res.type('html').send(`<!doctype html><meta charset="utf-8"><p>Your new token (copy it now): <code>${escape(body.token)}</code></p><p><a href="${prefix}">Back</a></p>`);
  } catch (err) {
    next(err);
  }
});

app.post(`${prefix}tokens/:id/revoke`, mine, async (req, res, next) => {
  try {
    await req.hubAuth.api('DELETE', `${userPath(req)}/tokens/${encodeURIComponent(req.params.id)}`);
    res.redirect(303, prefix);
  } catch (err) {
    next(err);
  }
});

// A refusal from the Hub keeps its status (e.g. 403 or 404), with the Hub's reason.
app.use((err, req, res, _next) => res.status(err.status ?? 500).type('text').send(err.expose ? err.message : 'Something went wrong'));

const { hostname, port } = new URL(process.env.JUPYTERHUB_SERVICE_URL ?? 'http://127.0.0.1:10107');
app.listen(Number(port), hostname, () => console.log(`my-servers (express) listening on ${hostname}:${port}${prefix}`));
