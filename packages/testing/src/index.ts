/**
 * `@hubauth/testing`: a fake JupyterHub for the test suites of services that use hubauth.
 *
 * - {@link startFakeHub}: a loopback Hub with users, groups, tokens and scopes, the environment a
 *   service needs ({@link FakeHub.env}), browser sessions without a browser ({@link FakeHub.loginAs})
 *   and fault injection (down, slow, 500, garbage).
 *
 * @packageDocumentation
 * @module @hubauth/testing
 */
export { startFakeHub, pkceChallenge } from './fake-hub';
export type {
  AuthorizeParams,
  FakeHub,
  FakeHubCalls,
  FakeHubOptions,
  FakeUser,
  Fault,
  FaultEndpoint,
  NewUser,
  RecordedRequest,
  TokenOptions,
} from './fake-hub';
export type { BrowserSession } from './session';
