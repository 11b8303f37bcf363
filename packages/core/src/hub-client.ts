/**
 * The HTTP client for the Hub's REST API: keep-alive, internal TLS, `http+unix://` URLs, an explicit
 * timeout, a bounded reply size, and a limit on requests in flight so a flood of lookups cannot
 * hammer the Hub; waiting requests are served priority first, then one client at a time.
 */
import http from 'node:http';
import https from 'node:https';
import { HubUnavailableError } from './errors';

/** Settings of {@link HubClient}. */
export interface HubClientOptions {
  /** API base URL without a trailing slash (`http`, `https` or `http+unix`). */
  apiUrl: string;
  /** Client certificate and CA for internal TLS. */
  tls?: { key: Buffer; cert: Buffer; ca?: Buffer } | null;
  /** Milliseconds before a request is abandoned. */
  timeoutMs: number;
  /** Most requests in flight. */
  maxConcurrent: number;
  /** Most requests waiting for a slot; beyond this, calls fail fast with 503. */
  maxPending: number;
}

/** A Hub reply. */
export interface HubReply {
  status: number;
  contentType: string;
  text: string;
}

/** Largest reply read from the Hub. */
export const MAX_REPLY_BYTES = 1024 * 1024;

/** How a request waits for a slot. */
export interface RequestLane {
  /** Goes ahead of every non-priority request (tokens from our own login cookie, tokens valid before, logins). */
  priority?: boolean;
  /** Who asked: waiting requests of different clients take turns, so one client cannot hold the queue. */
  client?: string;
}

type Waiter = () => void;

/**
 * A semaphore with two lanes: priority waiters first, in order; then the other waiters, one client at
 * a time in turn (round robin), each client's own in order. One client flooding the queue therefore
 * delays another client's lookup by at most one turn, not by the whole queue.
 */
class Limiter {
  private active = 0;
  private readonly priority = new Set<Waiter>();
  /** Client → its waiters; Map order is the round-robin order. */
  private readonly byClient = new Map<string, Set<Waiter>>();
  private waitingCount = 0;
  constructor(
    private readonly max: number,
    private readonly maxWaiting: number,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  private enqueue(wake: Waiter, lane: RequestLane): void {
    if (lane.priority) {
      this.priority.add(wake);
    } else {
      const client = lane.client ?? '';
      let queue = this.byClient.get(client);
      if (!queue) {
        queue = new Set();
        this.byClient.set(client, queue);
      }
      queue.add(wake);
    }
    this.waitingCount++;
  }

  private dequeue(wake: Waiter, lane: RequestLane): void {
    if (lane.priority) {
      if (this.priority.delete(wake)) this.waitingCount--;
      return;
    }
    const client = lane.client ?? '';
    const queue = this.byClient.get(client);
    if (queue?.delete(wake)) {
      this.waitingCount--;
      if (queue.size === 0) this.byClient.delete(client);
    }
  }

  /** The next waiter to wake, removed from its queue. */
  private next(): Waiter | undefined {
    const first = this.priority.values().next();
    if (!first.done) {
      this.priority.delete(first.value);
      this.waitingCount--;
      return first.value;
    }
    const turn = this.byClient.entries().next();
    if (turn.done) return undefined;
    const [client, queue] = turn.value;
    const wake = queue.values().next().value as Waiter;
    queue.delete(wake);
    this.waitingCount--;
    // The client goes to the back of the round.
    this.byClient.delete(client);
    if (queue.size > 0) this.byClient.set(client, queue);
    return wake;
  }

  /**
   * Runs `task` when a slot is free. A caller still waiting after `waitMs` gets a 503, so the
   * timeout bounds the whole lookup, not only the part after a slot was found.
   */
  async run<T>(task: (waitedMs: number) => Promise<T>, waitMs: number, lane: RequestLane = {}): Promise<T> {
    const start = Date.now();
    if (this.active >= this.max) {
      // Priority requests may overfill the waiting room: they are few (one per login cookie or known token).
      if (this.waitingCount >= this.maxWaiting && !(lane.priority && this.priority.size < this.maxWaiting)) {
        throw new HubUnavailableError('Too many Hub lookups are pending; try again shortly', { status: 503, retryAfter: 1 });
      }
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          this.dequeue(wake, lane);
          reject(new HubUnavailableError(`The Hub did not answer within ${waitMs} ms (too many lookups waiting)`, { status: 503 }));
        }, waitMs);
        this.enqueue(wake, lane);
      });
    } else {
      this.active++;
    }
    try {
      return await task(Date.now() - start);
    } finally {
      // Hand the slot straight to the next waiter.
      const wake = this.next();
      if (wake) wake();
      else this.active--;
    }
  }
}

/** Minimal, dependency-free client of the Hub API. */
export class HubClient {
  private readonly base: URL;
  private readonly basePath: string;
  private readonly socketPath: string | undefined;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly limiter: Limiter;
  private readonly timeoutMs: number;

  constructor(options: HubClientOptions) {
    const unix = options.apiUrl.startsWith('http+unix:');
    // Parsed as is: rewritten to `http:`, the host would be %-decoded and its `/` rejected as invalid.
    // `http+unix:` is not a special scheme, so its host stays encoded and decodes to the socket path.
    this.base = new URL(options.apiUrl);
    this.basePath = this.base.pathname.replace(/\/+$/, '');
    this.socketPath = unix ? decodeURIComponent(this.base.hostname) : undefined;
    const secure = this.base.protocol === 'https:';
    this.transport = secure ? https : http;
    const agentOptions = { keepAlive: true, maxSockets: options.maxConcurrent, scheduling: 'lifo' as const };
    this.agent = secure
      ? new https.Agent({
          ...agentOptions,
          ...(options.tls ? { key: options.tls.key, cert: options.tls.cert, ...(options.tls.ca ? { ca: options.tls.ca } : {}) } : {}),
        })
      : new http.Agent(agentOptions);
    this.limiter = new Limiter(options.maxConcurrent, options.maxPending);
    this.timeoutMs = options.timeoutMs;
  }

  /** Requests currently in flight. */
  get inFlight(): number {
    return this.limiter.inFlight;
  }

  /** Where the API lives, for messages (no credentials). */
  get describe(): string {
    return this.socketPath ? `unix socket ${this.socketPath}` : this.base.origin + this.basePath;
  }

  /**
   * Sends one request to `<apiUrl><path>`. Resolves with any HTTP status; rejects with
   * {@link HubUnavailableError} when the Hub cannot be reached, times out, or sends an unreadable reply.
   */
  request(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string; lane?: RequestLane } = {},
  ): Promise<HubReply> {
    return this.limiter.run(
      (waited) => this.send(method, path, options, Math.max(1, this.timeoutMs - waited)),
      this.timeoutMs,
      options.lane,
    );
  }

  private send(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string },
    timeoutMs: number,
  ): Promise<HubReply> {
    return new Promise<HubReply>((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
      if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
      let settled = false;
      const finish = (err: Error | null, reply?: HubReply) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(reply as HubReply);
      };
      const req = this.transport.request({
        method,
        agent: this.agent,
        ...(this.socketPath
          ? { socketPath: this.socketPath }
          : { hostname: this.base.hostname.replace(/^\[|\]$/g, ''), port: this.base.port || undefined }),
        path: this.basePath + path,
        headers,
      });
      const timer = setTimeout(() => {
        req.destroy();
        finish(
          new HubUnavailableError(`The Hub did not answer within ${this.timeoutMs} ms (${this.describe})`, {
            status: 503,
          }),
        );
      }, timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        finish(
          new HubUnavailableError(`Cannot reach the Hub API at ${this.describe} (${err.code ?? err.message})`, {
            status: 503,
            cause: err,
          }),
        );
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_REPLY_BYTES) {
            // Settled before destroying: destroy() emits 'aborted' at once, which would otherwise
            // report the cut as the Hub's doing ("closed the connection mid-reply").
            finish(new HubUnavailableError(`The Hub's reply exceeded ${MAX_REPLY_BYTES} bytes`, { status: 502 }));
            res.destroy();
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err) =>
          finish(new HubUnavailableError('The Hub closed the connection mid-reply', { status: 502, cause: err })),
        );
        res.on('aborted', () => finish(new HubUnavailableError('The Hub closed the connection mid-reply', { status: 502 })));
        res.on('end', () => {
          if (!res.complete) {
            finish(new HubUnavailableError('The Hub closed the connection mid-reply', { status: 502 }));
            return;
          }
          finish(null, {
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      });
      req.end(options.body);
    });
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }
}
