/**
 * One HTTP request with a deadline, timed, never following redirects: what the doctor needs to see
 * the Hub as the service does (`http+unix:` sockets and internal-TLS client certificates included).
 */
import http from 'node:http';
import https from 'node:https';

/** An answer, whatever its status. */
export interface ProbeReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** Milliseconds from sending to the end of the body. */
  ms: number;
}

/** Why no answer came. */
export class ProbeError extends Error {
  /** `ECONNREFUSED`, `ENOTFOUND`, `TIMEOUT`, … */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export interface ProbeOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  tls?: { key: Buffer; cert: Buffer; ca?: Buffer } | null;
}

const MAX_BODY = 256 * 1024;

/** Sends one request to an `http:`, `https:` or `http+unix:` URL. */
export function probe(target: string, options: ProbeOptions): Promise<ProbeReply> {
  const url = new URL(target);
  const unix = url.protocol === 'http+unix:';
  const secure = url.protocol === 'https:';
  const transport = secure ? https : http;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = transport.request(
      {
        method: options.method ?? 'GET',
        ...(unix ? { socketPath: decodeURIComponent(url.hostname) } : { hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port }),
        path: `${url.pathname}${url.search}`,
        headers: { accept: 'application/json', ...options.headers },
        agent: false,
        ...(secure && options.tls ? { key: options.tls.key, cert: options.tls.cert, ...(options.tls.ca ? { ca: options.tls.ca } : {}) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY) chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started });
        });
        res.on('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          reject(new ProbeError(err.code ?? 'ERROR', err.message));
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new ProbeError('TIMEOUT', `no answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err instanceof ProbeError ? err : new ProbeError(err.code ?? 'ERROR', err.message));
    });
    req.end(options.body);
  });
}

/** The JSON of a reply, or undefined when it is not JSON. */
export function jsonOf(reply: ProbeReply): unknown {
  try {
    return JSON.parse(reply.text) as unknown;
  } catch {
    return undefined;
  }
}

/** `12 ms` */
export function millis(ms: number): string {
  return `${Math.max(1, Math.round(ms))} ms`;
}
