/**
 * The set-up core's test files against the fake Hub share (`useFakeHub(options)` at the top of a
 * file): one fake Hub for the file, a fresh {@link RecordingLogger} per test whose lines join the
 * file's {@link transcript}, the authenticators a test made (`oauth()`, `track()`) and the extra Hubs
 * it started (`extraHub()`) closed after it, and the {@link secrets} nothing produced may contain.
 * Jest loads this module once per test file, so each file has its own state; `hub` and `logger`
 * are live bindings, set by the hooks.
 */
import { startFakeHub, type FakeHub } from '@hubauth/testing';
import type { HubOAuthOptions } from '../src/config';
import type { HubAuth } from '../src/hub-auth';
import { HubOAuth } from '../src/hub-oauth';
import { RecordingLogger, Transcript, newSecret, oauthOptions } from './support';

type FakeHubOptions = NonNullable<Parameters<typeof startFakeHub>[0]>;

/** The file's fake Hub (set in `beforeAll`). */
export let hub: FakeHub;
/** This test's logger (new in every `beforeEach`). */
export let logger: RecordingLogger;
/** Everything the library produced in this file: log lines, and what tests add. */
export const transcript = new Transcript();
/** Tokens and secrets that must appear nowhere in {@link transcript}. */
export const secrets = new Set<string>();
/** The cookie secret `oauth()` gives its authenticators (a secret too). */
export const SECRET = newSecret();

const instances: HubAuth[] = [];
const extraHubs: FakeHub[] = [];

/** Registers the hooks: the Hub started once for the file, the logger per test, closing after each test. */
export function useFakeHub(options: FakeHubOptions = {}): void {
  beforeAll(async () => {
    hub = await startFakeHub(options);
    secrets.add(hub.serviceToken).add(SECRET);
  });
  beforeEach(() => {
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    transcript.add(logger.lines);
    for (const auth of instances.splice(0)) auth.close();
    await Promise.all(extraHubs.splice(0).map((h) => h.close()));
  });
  afterAll(() => hub.close());
}

/** An authenticator closed after the test. */
export function track<T extends HubAuth>(auth: T): T {
  instances.push(auth);
  return auth;
}

/** The authenticators this test made so far, first made first. */
export function tracked(): readonly HubAuth[] {
  return instances;
}

/** A `HubOAuth` against `on` (default: the file's Hub) with {@link SECRET} and this test's logger, closed after the test. */
export function oauth(extra: HubOAuthOptions = {}, on: FakeHub = hub): HubOAuth {
  return track(new HubOAuth(oauthOptions(on, { cookieSecret: SECRET, logger, ...extra })));
}

/** Another fake Hub for this test (its service token a secret), closed after it. */
export async function extraHub(options: FakeHubOptions = {}): Promise<FakeHub> {
  const h = await startFakeHub(options);
  extraHubs.push(h);
  secrets.add(h.serviceToken);
  return h;
}
