// A consumer's own test set-up with @hubauth/testing (ESM), run by scripts/check-consumer.mjs:
// the fake Hub from the installed package answers a token lookup.
import { startFakeHub } from '@hubauth/testing';

const hub = await startFakeHub({ service: 'notes' });
hub.addUser({ name: 'alice', groups: ['staff'] });
const res = await fetch(`${hub.env().JUPYTERHUB_API_URL}/user`, { headers: { authorization: `token ${hub.issueToken('alice')}` } });
const user = await res.json();
await hub.close();
if (res.status !== 200 || user.name !== 'alice') throw new Error(`unexpected answer ${res.status} ${JSON.stringify(user)}`);
