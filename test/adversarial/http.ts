/**
 * A raw HTTP/1.1 client for hostile requests: the request target, the header lines (duplicates
 * included) and their bytes go on the wire exactly as given. Frameworks' test clients normalise
 * targets and merge headers, which would hide the very cases under test.
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

/** A response as it came off the wire. */
export interface RawResponse {
  status: number;
  /** Header lines in order, names lower-cased, values as received (latin1). */
  rawHeaders: Array<readonly [name: string, value: string]>;
  body: string;
  /** Milliseconds from sending to the end of the response. */
  elapsedMs: number;
}

export interface RawRequest {
  method?: string;
  /** The request target, byte for byte (a string is sent as UTF-8; use a Buffer for other bytes). */
  target: string | Buffer;
  /** Header lines in order; a name may repeat. Values are sent as UTF-8 unless given as Buffers. */
  headers?: ReadonlyArray<readonly [string, string | Buffer]>;
  body?: string;
  /** Give up after this many milliseconds (the promise rejects). Default 10,000. */
  timeoutMs?: number;
}

/** Port of a listening server. */
export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function parseHead(head: string): { status: number; rawHeaders: Array<readonly [string, string]> } {
  const lines = head.split('\r\n');
  const statusLine = lines.shift() ?? '';
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!match) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const rawHeaders: Array<readonly [string, string]> = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    rawHeaders.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return { status: Number(match[1]), rawHeaders };
}

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** Sends one request on a fresh connection (`Connection: close`) and reads the whole response. */
export function rawRequest(server: Server | number, req: RawRequest): Promise<RawResponse> {
  const port = typeof server === 'number' ? server : portOf(server);
  const started = performance.now();
  const timeoutMs = req.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms`));
    }, timeoutMs);
    let failure: Error | null = null;
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A server may answer (400, 431) and close before reading everything: the write then fails, but
    // the answer is there. 'close' always follows and decides.
    socket.on('error', (err) => {
      failure = err;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) {
        reject(failure ?? new Error(`connection closed without a response (${all.length} bytes)`));
        return;
      }
      try {
        const { status, rawHeaders } = parseHead(all.subarray(0, end).toString('latin1'));
        let body: Buffer = all.subarray(end + 4);
        if (rawHeaders.some(([n, v]) => n === 'transfer-encoding' && /chunked/i.test(v))) body = dechunk(body);
        resolve({ status, rawHeaders, body: body.toString('utf8'), elapsedMs: performance.now() - started });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on('connect', () => {
      const lines: Buffer[] = [];
      const target = typeof req.target === 'string' ? Buffer.from(req.target, 'utf8') : req.target;
      lines.push(Buffer.concat([Buffer.from(`${req.method ?? 'GET'} `, 'latin1'), target, Buffer.from(' HTTP/1.1\r\n', 'latin1')]));
      const own = new Set((req.headers ?? []).map(([n]) => n.toLowerCase()));
      if (!own.has('host')) lines.push(Buffer.from(`host: 127.0.0.1:${port}\r\n`, 'latin1'));
      lines.push(Buffer.from('connection: close\r\n', 'latin1'));
      const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
      for (const [name, value] of req.headers ?? []) {
        lines.push(Buffer.concat([Buffer.from(`${name}: `, 'latin1'), typeof value === 'string' ? Buffer.from(value, 'utf8') : value, Buffer.from('\r\n', 'latin1')]));
      }
      if (body) lines.push(Buffer.from(`content-length: ${body.length}\r\n`, 'latin1'));
      lines.push(Buffer.from('\r\n', 'latin1'));
      if (body) lines.push(body);
      // No half-close: Node servers abort a request whose client has ended its side. `Connection:
      // close` makes the server close the connection once it has answered.
      socket.write(Buffer.concat(lines));
    });
  });
}

/** Every value of a response header. */
export function headerValues(res: RawResponse, name: string): string[] {
  return res.rawHeaders.filter(([n]) => n === name).map(([, v]) => v);
}

/** The only value of a response header ('' when absent). */
export function header(res: RawResponse, name: string): string {
  return headerValues(res, name)[0] ?? '';
}

/** A minimal cookie jar for raw requests: applies Set-Cookie (expiry by Max-Age=0), keeps order. */
export class RawJar {
  readonly cookies = new Map<string, string>();

  apply(res: RawResponse): this {
    return this.applySetCookie(headerValues(res, 'set-cookie'));
  }

  /** Applies `Set-Cookie` values (e.g. from a core `HubResponse`). */
  applySetCookie(lines: string | readonly string[] | undefined): this {
    for (const line of typeof lines === 'string' ? [lines] : (lines ?? [])) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return this;
  }

  header(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }

  clone(): RawJar {
    const copy = new RawJar();
    for (const [n, v] of this.cookies) copy.cookies.set(n, v);
    return copy;
  }
}
