import { startFakeHub, type FakeHub } from '@hubauth/testing';
import { cookieSecretFingerprint, formatReport, runDoctor, type DoctorReport } from 'hubauth';

let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub({ service: 'notes' });
});
afterAll(() => hub.close());

const status = (report: DoctorReport) => Object.fromEntries(report.checks.map((c) => [c.id, c.status]));

describe('runDoctor against the fake Hub', () => {
  it('passes the environment the Hub gives a service', async () => {
    const report = await runDoctor({ env: hub.env({ JUPYTERHUB_PUBLIC_URL: 'https://hub.example.org/services/notes/' }) });
    expect(status(report)).toEqual({
      config: 'ok',
      'hub-api': 'ok',
      'service-token': 'ok',
      'access-admits': 'ok',
      'oauth-client': 'ok',
      'redirect-uri': 'ok',
      'public-hub': 'ok',
      'cookie-secret': 'ok',
      'cookie-security': 'warn',
    });
    expect(report.ok).toBe(true);
    expect(report.counts).toEqual({ ok: 8, warn: 1, fail: 0, skip: 0 });
  });

  it('recommends __Host- for https, and is content with it', async () => {
    const https = await runDoctor({ env: hub.env({ JUPYTERHUB_PUBLIC_URL: 'https://hub.example.org/services/notes/' }) });
    expect(https.checks.find((c) => c.id === 'cookie-security')?.fix).toContain('JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED=1');
    const hostPrefix = await runDoctor({ env: hub.env({ JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED: '1' }) });
    expect(hostPrefix.checks.find((c) => c.id === 'cookie-security')).toMatchObject({ status: 'ok', detail: expect.stringContaining('"__Host-service-notes"') });
    const plain = await runDoctor({ env: hub.env({ JUPYTERHUB_PUBLIC_URL: 'http://hub.example.org/services/notes/' }) });
    expect(plain.checks.find((c) => c.id === 'cookie-security')).toMatchObject({ status: 'warn', detail: expect.stringContaining('plain http') });
  });

  it('warns about a missing or guessable cookie secret, and fingerprints a good one', async () => {
    const none = await runDoctor({ env: hub.env({ HUBAUTH_COOKIE_SECRET: undefined }) });
    expect(none.checks.find((c) => c.id === 'cookie-secret')).toMatchObject({ status: 'warn', fix: expect.stringContaining('the same on every replica') });
    const weak = await runDoctor({ env: hub.env({ HUBAUTH_COOKIE_SECRET: 'ab'.repeat(20) }) });
    expect(weak.checks.find((c) => c.id === 'cookie-secret')?.detail).toContain('looks guessable');
    const good = await runDoctor({ env: hub.env() });
    expect(good.checks.find((c) => c.id === 'cookie-secret')?.detail).toContain(`fingerprint ${cookieSecretFingerprint(hub.cookieSecret)}`);
    expect(JSON.stringify(good)).not.toContain(hub.cookieSecret);
  });

  it('reports a too-short cookie secret as invalid configuration, quoting the option', async () => {
    const report = await runDoctor({ env: hub.env({ HUBAUTH_COOKIE_SECRET: 'short' }) });
    expect(report.checks[0]).toMatchObject({ id: 'config', status: 'fail', detail: expect.stringContaining('"cookieSecret"') });
    expect(JSON.stringify(report)).not.toContain('"short"');
    expect(report.ok).toBe(false);
  });

  it('checks the shared cache store with one read', async () => {
    const store = (getMany: () => Promise<Array<string | null>>) => ({
      getMany,
      set: async () => undefined,
      setIfAbsent: async () => true,
      delete: async () => undefined,
      publish: async () => undefined,
      subscribe: () => undefined,
    });
    const up = await runDoctor({ env: hub.env(), options: { sharedCache: { store: store(async () => [null]) } } });
    expect(up.checks.find((c) => c.id === 'store')?.status).toBe('ok');
    const down = await runDoctor({
      env: hub.env(),
      options: { sharedCache: { store: store(() => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'))) } },
    });
    expect(down.checks.find((c) => c.id === 'store')).toMatchObject({ status: 'fail', detail: 'unreachable: connect ECONNREFUSED 127.0.0.1:6379' });
    const hung = await runDoctor({ env: hub.env(), timeoutMs: 50, options: { sharedCache: { store: store(() => new Promise(() => undefined)) } } });
    expect(hung.checks.find((c) => c.id === 'store')?.detail).toBe('unreachable: no answer within 50 ms');
  });

  it('says a slow Hub did not answer in time', async () => {
    hub.setLatency(500);
    const report = await runDoctor({ env: hub.env(), timeoutMs: 100 });
    hub.setLatency(0);
    // `GET /hub/api/` is not delayed; the token check (`/user`) is.
    expect(report.checks.find((c) => c.id === 'service-token')).toMatchObject({ status: 'fail', detail: 'the Hub did not answer (TIMEOUT)' });
  });

  it('formats one line per check with the fix below problems', () => {
    const text = formatReport({
      ok: false,
      counts: { ok: 1, warn: 0, fail: 1, skip: 0 },
      checks: [
        { id: 'a', status: 'ok', title: 'A', detail: 'fine', fix: 'never shown' },
        { id: 'b', status: 'fail', title: 'B', detail: 'broken', fix: 'do this' },
      ],
    });
    expect(text).toBe('✔ A: fine\n✘ B: broken\n    fix: do this\n\n1 ok, 0 warnings, 1 failure');
  });
});
