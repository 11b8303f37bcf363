/**
 * The fake Hub now lives in `@hubauth/testing` (packages/testing). This module re-exports it for
 * code that still imports `test/fake-hub`; `loginAs(user)` here keeps its old meaning (who is signed
 * in at the Hub, i.e. `signInAtHub`), while the package's `loginAs` returns a browser session.
 */
import { startFakeHub as startPackageFakeHub, type FakeHub as PackageFakeHub, type FakeHubOptions, type FakeUser } from '../../packages/testing/src/index';

export { pkceChallenge } from '../../packages/testing/src/index';
export type {
  AuthorizeParams,
  FakeHubCalls,
  FakeHubOptions,
  FakeUser,
  Fault,
  FaultEndpoint,
  RecordedRequest,
} from '../../packages/testing/src/index';

/** The package's fake Hub, with `loginAs` as `signInAtHub`. */
export type FakeHub = Omit<PackageFakeHub, 'loginAs'> & {
  loginAs(user: FakeUser | null, opts?: { sessionId?: string }): void;
};

export async function startFakeHub(opts: FakeHubOptions = {}): Promise<FakeHub> {
  const hub = await startPackageFakeHub(opts);
  return Object.assign(hub, { loginAs: hub.signInAtHub.bind(hub) }) as unknown as FakeHub;
}
