/**
 * Error rendering: a {@link HubAuthError} (or anything else thrown) as a response — a small HTML
 * page for browser navigations, JSON for API clients. 5xx details stay in the logs.
 */
import { InternalError, isHubAuthError, type HubAuthError } from './errors';
import { headerValue, isNavigation } from './request';
import type { HubRequest, HubResponse } from './types';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function title(status: number): string {
  const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status >= 500 ? 'Service unavailable' : 'Bad request';
  return `${status} ${reason}`;
}

/**
 * Whether the answer is shown as a page: a navigation, including a form POST (fetch metadata
 * `Sec-Fetch-Mode: navigate` with any method; without fetch metadata, a form submission that accepts HTML).
 */
function wantsPage(request: HubRequest): boolean {
  if (isNavigation(request)) return true;
  const mode = headerValue(request.headers, 'sec-fetch-mode');
  if (mode !== undefined) return mode === 'navigate';
  const type = headerValue(request.headers, 'content-type') ?? '';
  return /^\s*(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type) && /\btext\/html\b/i.test(headerValue(request.headers, 'accept') ?? '');
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
  if (wantsPage(request)) {
    headers['content-type'] = 'text/html; charset=utf-8';
    const heading = title(status);
    return {
      status,
      headers,
      body: `<!doctype html><html><head><meta charset="utf-8"><title>${heading}</title></head><body><h1>${heading}</h1><p>${escapeHtml(message)}</p><p><small>${error.code}</small></p></body></html>`,
    };
  }
  headers['content-type'] = 'application/json; charset=utf-8';
  return { status, headers, body: JSON.stringify({ status, code: error.code, message, docs: error.docs }) };
}
