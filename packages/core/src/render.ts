/**
 * Error rendering: a {@link HubAuthError} (or anything else thrown) as a response — a small HTML
 * page for browser navigations, JSON for API clients. 5xx details stay in the logs.
 */
import { InternalError, isHubAuthError, type HubAuthError } from './errors';
import { isNavigation } from './request';
import type { HubRequest, HubResponse } from './types';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function title(status: number): string {
  const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status >= 500 ? 'Service unavailable' : 'Bad request';
  return `${status} ${reason}`;
}

/** Renders `err` as the answer to `request`. Messages of 5xx errors are replaced by a generic one. */
export function renderError(err: unknown, request: HubRequest): HubResponse {
  const error: HubAuthError = isHubAuthError(err) ? err : new InternalError(undefined, { cause: err });
  const { status } = error;
  const message = error.expose
    ? error.message
    : error.code === 'ERR_HUBAUTH_HUB_UNAVAILABLE'
      ? 'JupyterHub is unavailable right now; try again shortly'
      : 'Authentication is temporarily unavailable';
  const headers: Record<string, string | string[]> = { ...error.headers, 'cache-control': 'no-store' };
  if (isNavigation(request)) {
    headers['content-type'] = 'text/html; charset=utf-8';
    const heading = title(status);
    return {
      status,
      headers,
      body: `<!doctype html><html><head><meta charset="utf-8"><title>${heading}</title></head><body><h1>${heading}</h1><p>${escapeHtml(message)}</p></body></html>`,
    };
  }
  headers['content-type'] = 'application/json; charset=utf-8';
  return { status, headers, body: JSON.stringify({ status, code: error.code, message }) };
}
