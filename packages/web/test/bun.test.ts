/** The contract and adversarial suites against `@hubauth/web` served by `Bun.serve`, over HTTP. */
import { runContract } from '../../../test/contract/run';
import { runAdversarial } from '../../../test/adversarial/run';
import { runtimeFactory } from '../../../test/runtimes';

jest.setTimeout(30_000);
runContract('web on Bun', runtimeFactory('bun', 'web'));
runAdversarial('web on Bun', runtimeFactory('bun', 'web'));

test('a keep-alive client forwarding Connection: close (as JupyterHub\'s proxy does) never finds a closed socket', async () => {
  const { runtimeApp } = await import('../../../test/runtimes');
  const { request: httpRequest, Agent } = await import('node:http');
  const app = await runtimeApp('bun', 'web', { env: {}, apiUrl: 'http://127.0.0.1:9/hub/api', apiToken: 'x', serviceName: 'whoami', servicePrefix: '/services/whoami/', oauth: false });
  const agent = new Agent({ keepAlive: true });
  const port = (app.server.address() as { port: number }).port;
  const get = () => new Promise<number | string>((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/services/whoami/api/me', agent, headers: { connection: 'close', accept: 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err) => resolve(err.message));
    req.end();
  });
  try {
    const statuses: Array<number | string> = [];
    for (let i = 0; i < 20; i++) statuses.push(await get());
    expect(statuses).toEqual(Array(20).fill(401));
  } finally {
    agent.destroy();
    await app.close();
  }
});
