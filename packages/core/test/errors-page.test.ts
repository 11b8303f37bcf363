import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as core from '../src/index';
import { ERROR_CODES, errorDocs, HubAuthError, OAuthStateError } from '../src/errors';

const page = readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'errors.md'), 'utf8');
const sections = [...page.matchAll(/^## (\S+)$/gm)].map((m) => m[1]);

describe('docs/errors.md', () => {
  it('has one section per exported error code, in the same order', () => {
    expect(sections).toEqual([...ERROR_CODES]);
  });

  it('is linked from the README', () => {
    const readme = readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain('](docs/errors.md)');
  });

  it('every code a class can carry is listed', () => {
    // Instances of every exported error class, each with its code.
    const made: HubAuthError[] = [
      new core.ConfigError('x', 'y'),
      new core.InvalidRequestError('x'),
      new core.UnauthenticatedError(),
      new core.ForbiddenError('x'),
      new core.XsrfError('x'),
      new core.HubUnavailableError('x'),
      new core.HubApiError(404, 'x'),
      new core.ServiceCredentialsError('x'),
      new core.OAuthCallbackError('x'),
      ...(['no-cookie', 'other-login', 'expired', 'foreign-secret', 'duplicate-cookie', 'other-user'] as const).map((reason) => new OAuthStateError(reason)),
      new core.ScopeSyntaxError('x!', 'y'),
      new core.InternalError(),
    ];
    expect(new Set(made.map((e) => e.code))).toEqual(new Set(ERROR_CODES));
  });

  it('each error points to its section', () => {
    for (const code of ERROR_CODES) {
      const anchor = errorDocs(code).split('#')[1];
      // GitHub's anchor of a heading `## ERR_X` is `err_x`.
      expect(sections.map((s) => s?.toLowerCase())).toContain(anchor);
    }
    expect(new core.ConfigError('cookieSecret', 'must be a string').message).toMatch(/\(see docs\/errors\.md#err_hubauth_config\)$/);
  });
});
