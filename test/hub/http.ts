/**
 * A small HTTP client for the integration tests: never follows redirects, never keeps connections
 * alive (so nothing holds jest open), returns raw headers including every Set-Cookie.
 */
import http from 'node:http';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** All Set-Cookie header values (empty if none). */
  setCookies: string[];
  text: string;
  /** Body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A string is sent as-is; anything else is sent as JSON. */
  body?: unknown;
  timeoutMs?: number;
}

export function httpRequest(url: string, opts: HttpRequestOptions = {}): Promise<HttpResponse> {
  const target = new URL(url);
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let payload: Buffer | undefined;
  if (opts.body !== undefined) {
    if (typeof opts.body === 'string') {
      payload = Buffer.from(opts.body);
    } else {
      payload = Buffer.from(JSON.stringify(opts.body));
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
        headers['Content-Type'] = 'application/json';
      }
    }
    headers['Content-Length'] = String(payload.length);
  }
  if (target.protocol !== 'http:') {
    return Promise.reject(new Error(`httpRequest supports http: only, not ${url}`));
  }
  return new Promise<HttpResponse>((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port || 80,
        path: `${target.pathname}${target.search}`,
        method: opts.method ?? 'GET',
        headers,
        agent: false,
        timeout: opts.timeoutMs ?? 15000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? (JSON.parse(text) as unknown) : undefined;
          } catch {
            json = undefined;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            setCookies: res.headers['set-cookie'] ?? [],
            text,
            json,
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${opts.timeoutMs ?? 15000} ms: ${url}`)));
    req.on('error', reject);
    req.end(payload);
  });
}
