import type { HubAuthMiddlewareOptions } from '@hubauth/core';
import type { FakeHub } from '@hubauth/testing';
import { PREFIX } from './types';

/** Adapter options for a service `whoami` at `PREFIX` behind a fake Hub, isolated from `process.env`. */
export function fakeHubOptions(hub: FakeHub, cookieSecret: string, extra: HubAuthMiddlewareOptions = {}): HubAuthMiddlewareOptions {
  return {
    env: {},
    apiUrl: hub.apiUrl,
    apiToken: hub.serviceToken,
    clientId: hub.clientId,
    serviceName: 'whoami',
    servicePrefix: PREFIX,
    publicHubUrl: `${hub.url}/hub/`,
    cookieSecret,
    logger: { warn: () => undefined, error: () => undefined },
    ...extra,
  };
}
