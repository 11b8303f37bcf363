// The other packages' APIs: the shared cache, the fake Hub, the proxy, the doctor.
import { HubOAuth, type HubUser } from '@hubauth/core';
import { HubAuthProxy, type HubAuthProxyOptions } from '@hubauth/proxy';
import { redisStore, type RedisStore } from '@hubauth/redis';
import { startFakeHub, type FakeHub } from '@hubauth/testing';
import { formatReport, runDoctor, type DoctorReport } from 'hubauth';

export async function everything(): Promise<HubUser | null> {
  const hub: FakeHub = await startFakeHub({ service: 'notes' });
  const store: RedisStore = redisStore({ url: 'redis://127.0.0.1:6379' });
  const auth = new HubOAuth({ env: hub.env(), sharedCache: { store } });
  const token: string = hub.issueToken(hub.addUser({ name: 'alice', groups: ['staff'] }));
  const proxyOptions: HubAuthProxyOptions = { upstream: 'http://127.0.0.1:8501', hubGroups: ['staff'], env: hub.env() };
  const proxy = new HubAuthProxy(proxyOptions);
  const report: DoctorReport = await runDoctor({ env: hub.env() });
  console.log(formatReport(report), report.ok, proxy.options.upstream);
  const user = await auth.userForToken(token);
  await hub.close();
  return user;
}
