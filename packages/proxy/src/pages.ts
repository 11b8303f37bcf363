/** Responses of the proxy's own: the upstream is down or slow, a request came from another origin. */
import type { IncomingHttpHeaders } from 'node:http';

/** An error the proxy answers itself. */
export interface ProxyErrorPage {
  status: number;
  code: string;
  title: string;
  message: string;
}

export const UPSTREAM_DOWN: ProxyErrorPage = {
  status: 502,
  code: 'ERR_HUBAUTH_UPSTREAM_UNAVAILABLE',
  title: '502 Bad Gateway',
  message: 'The app behind this service is not reachable: it may be starting, or it has stopped. Try again in a moment.',
};

export const UPSTREAM_TIMEOUT: ProxyErrorPage = {
  status: 504,
  code: 'ERR_HUBAUTH_UPSTREAM_TIMEOUT',
  title: '504 Gateway Timeout',
  message: 'The app behind this service did not answer in time. Try again in a moment.',
};

export const NOT_FOUND: ProxyErrorPage = {
  status: 404,
  code: 'ERR_HUBAUTH_NOT_FOUND',
  title: '404 Not Found',
  message: 'Nothing is served here.',
};

export function crossOrigin(reason: string): ProxyErrorPage {
  return { status: 403, code: 'ERR_HUBAUTH_CROSS_ORIGIN', title: '403 Forbidden', message: `Refused: ${reason}.` };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** HTML for browsers (anything that accepts `text/html`), JSON for everything else. */
export function renderPage(page: ProxyErrorPage, headers: IncomingHttpHeaders): { headers: Record<string, string>; body: string } {
  const html = headers['sec-fetch-mode'] === 'navigate' || /\btext\/html\b/i.test(headers.accept ?? '');
  if (html) {
    return {
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
      body:
        `<!doctype html><html><head><meta charset="utf-8"><title>${page.title}</title></head>` +
        `<body><h1>${page.title}</h1><p>${escapeHtml(page.message)}</p></body></html>`,
    };
  }
  return {
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify({ status: page.status, code: page.code, message: page.message }),
  };
}
