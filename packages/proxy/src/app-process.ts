/**
 * The app started by `hubauth-proxy -- <command …>`: spawned with its port (a `{port}` placeholder
 * in the arguments and the `PORT` variable), watched until it accepts connections, restarted or
 * followed when it exits, and stopped with the signal the proxy receives.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { ConfigError, type HubAuthLogger } from '@hubauth/core';

/** Options of {@link AppProcess}. */
export interface AppProcessOptions {
  /** The command and its arguments; `{port}` in any argument becomes the port. */
  command: readonly string[];
  /** Port the app must listen on (also passed as `PORT`). */
  port: number;
  /** Host the app listens on, probed for readiness (default `127.0.0.1`). */
  host?: string;
  /** Environment of the app (default: the proxy's own, without the service's API token). */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds the app has to start listening (default 60,000). */
  readyTimeoutMs?: number;
  /** `never` (default): when the app exits, so does the proxy. `on-failure`: restart after a non-zero exit. `always`: restart after any exit. */
  restart?: 'never' | 'on-failure' | 'always';
  /** Milliseconds between the stop signal and `SIGKILL` (default 10,000). */
  stopGraceMs?: number;
  /** Where start failures and restarts are reported (default: nowhere). */
  logger?: HubAuthLogger;
}

/**
 * The app behind the proxy, as a child process. Events: `ready` (it accepts connections, after a
 * start or a restart), `exit` (code, signal) once it has exited for good.
 *
 * @example
 * ```ts
 * import { AppProcess } from '@hubauth/proxy';
 *
 * const app = new AppProcess({ command: ['streamlit', 'run', 'app.py', '--server.port', '{port}'], port: 8501 });
 * app.once('exit', (code) => process.exit(code ?? 1));
 * await app.start(); // resolves once 127.0.0.1:8501 accepts connections
 * process.once('SIGTERM', () => void app.stop('SIGTERM'));
 * ```
 */
export class AppProcess extends EventEmitter<{
  /** The app accepts connections. */
  ready: [];
  /** The app exited for good (no restart follows). */
  exit: [code: number | null, signal: NodeJS.Signals | null];
}> {
  private child: ChildProcess | null = null;
  private stopping = false;
  private restarts = 0;
  private readonly options: Required<Omit<AppProcessOptions, 'env' | 'logger'>> & Pick<AppProcessOptions, 'env' | 'logger'>;

  constructor(options: AppProcessOptions) {
    super();
    if (!Array.isArray(options.command) || options.command.length === 0 || !options.command.every((a) => typeof a === 'string')) {
      throw new ConfigError('command', 'give the command to start after "--", e.g. hubauth-proxy -- streamlit run app.py --server.port {port}');
    }
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535) {
      throw new ConfigError('port', `the app's port must be 1 to 65535, got ${String(options.port)}`);
    }
    const restart = options.restart ?? 'never';
    if (!['never', 'on-failure', 'always'].includes(restart)) {
      throw new ConfigError('restart', `must be never, on-failure or always, got "${String(restart)}" (--restart)`);
    }
    this.options = {
      command: options.command,
      port: options.port,
      host: options.host ?? '127.0.0.1',
      readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
      restart,
      stopGraceMs: options.stopGraceMs ?? 10_000,
      env: options.env,
      logger: options.logger,
    };
  }

  /** The process id of the running app, if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The command line with the port filled in. */
  get argv(): string[] {
    return this.options.command.map((a) => a.replaceAll('{port}', String(this.options.port)));
  }

  /** Starts the app and resolves once it accepts connections; rejects if it exits or times out first. */
  async start(): Promise<void> {
    this.spawnOnce();
    await this.waitUntilListening();
    this.emit('ready');
  }

  private spawnOnce(): void {
    const [file, ...args] = this.argv as [string, ...string[]];
    const env: NodeJS.ProcessEnv = { ...(this.options.env ?? process.env), PORT: String(this.options.port) };
    // The app has no business with the service's credentials.
    delete env.JUPYTERHUB_API_TOKEN;
    delete env.JPY_API_TOKEN;
    delete env.HUBAUTH_COOKIE_SECRET;
    // Its own process group, so that a stop reaches its children too (shells, workers).
    const child = spawn(file, args, { stdio: ['ignore', 'inherit', 'inherit'], env, detached: true });
    this.child = child;
    child.once('error', (err) => {
      this.options.logger?.error(`could not start ${file}: ${err.message}`);
      // A command that cannot be spawned (not found, not executable) never emits 'exit'.
      if (child.pid === undefined && this.child === child) {
        this.child = null;
        this.exited(127, null);
      }
    });
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      this.exited(code, signal);
    });
  }

  private exited(code: number | null, signal: NodeJS.Signals | null): void {
    const { restart, logger } = this.options;
    const failed = code !== 0;
    if (!this.stopping && (restart === 'always' || (restart === 'on-failure' && failed))) {
      const delay = Math.min(30_000, 500 * 2 ** Math.min(this.restarts, 6));
      this.restarts++;
      logger?.warn(`the app exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
      setTimeout(() => {
        if (this.stopping) return;
        this.spawnOnce();
        this.waitUntilListening().then(
          () => {
            this.restarts = 0;
            this.emit('ready');
          },
          (err: Error) => logger?.warn(err.message),
        );
      }, delay).unref();
      return;
    }
    this.emit('exit', code, signal);
  }

  /** Probes the port until it accepts a connection. */
  private async waitUntilListening(): Promise<void> {
    const { port, host, readyTimeoutMs } = this.options;
    const child = this.child;
    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline) {
      if (!child || this.child !== child || child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the app exited before it listened on ${host}:${port}`);
      }
      if (await canConnect(host, port)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the app did not listen on ${host}:${port} within ${readyTimeoutMs} ms (is {port} or PORT used by the command?)`);
  }

  /** Sends `signal` to the app's process group. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      this.child?.kill(signal);
    }
  }

  /** Stops the app (signal, then `SIGKILL` after the grace time) and resolves with its exit code. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child?.exitCode ?? null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.kill('SIGKILL'), this.options.stopGraceMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
      this.kill(signal);
    });
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A free TCP port on `host`, chosen by the system. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
