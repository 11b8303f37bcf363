// A consumer's own test set-up with @hubauth/testing (CommonJS), run by scripts/check-consumer.mjs.
const { startFakeHub } = require('@hubauth/testing');

(async () => {
  const hub = await startFakeHub({ service: 'notes' });
  hub.addUser({ name: 'alice', groups: ['staff'] });
  const res = await fetch(`${hub.env().JUPYTERHUB_API_URL}/user`, { headers: { authorization: `token ${hub.issueToken('alice')}` } });
  const user = await res.json();
  await hub.close();
  if (res.status !== 200 || user.name !== 'alice') throw new Error(`unexpected answer ${res.status} ${JSON.stringify(user)}`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
