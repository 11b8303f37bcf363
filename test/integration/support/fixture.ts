/**
 * One real Hub (and optionally one headless Chromium) per Hub version per test file, and the
 * failure diagnostics every scenario runs under: a failed scenario's error carries the Hub's log
 * tail and the browser's last URL.
 */
import type { HubVersion, RunningHub } from '../../hub';
import { launchBrowser, type BrowserSession } from '../../hub/browser';
import { startIntegrationHub, type IntegrationHub, type StartOptions } from './hub-setup';

export interface ScenarioContext {
  ix: IntegrationHub;
  hub: RunningHub;
  /** Throws when the fixture was started without a browser. */
  browser: BrowserSession;
}

/** Adds the Hub's log tail and the browser's last URL to `err`, keeping its stack frames. */
export function withDiagnostics(err: unknown, ix: IntegrationHub | undefined, browser: BrowserSession | undefined): Error {
  const original = err instanceof Error ? err : new Error(String(err));
  const parts = [original.message, ''];
  parts.push(`browser last URL: ${browser ? browser.lastUrl() || '(none)' : '(no browser)'}`);
  parts.push(ix ? `--- JupyterHub ${ix.hub.version} log tail ---\n${ix.logTail(60)}` : '(the Hub did not start)');
  const message = parts.join('\n');
  const wrapped = new Error(message);
  const frames = (original.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  wrapped.stack = [message, ...frames].join('\n');
  return wrapped;
}

export class HubFixture {
  ix: IntegrationHub | undefined;
  browserSession: BrowserSession | undefined;

  constructor(
    readonly version: HubVersion,
    private readonly opts: StartOptions & { browser?: boolean } = {},
  ) {}

  /** For beforeAll. */
  async start(): Promise<void> {
    const t0 = Date.now();
    // Chromium starts while the Hub does
    const browser = this.opts.browser ? launchBrowser() : undefined;
    try {
      this.ix = await startIntegrationHub(this.version, this.opts);
    } finally {
      this.browserSession = await browser?.catch(() => undefined);
    }
    if (browser && !this.browserSession) await browser; // rethrows the launch error
    console.log(
      `JupyterHub ${this.ix.hub.version}: ${Object.keys(this.ix.hub.services).length} services, ready in ` +
        `${this.ix.hub.startupMs} ms (with external services${this.opts.browser ? ' and Chromium' : ''}: ${Date.now() - t0} ms)`,
    );
  }

  /** For afterAll. */
  async stop(): Promise<void> {
    const t0 = Date.now();
    try {
      await this.browserSession?.close();
    } finally {
      await this.ix?.stop();
    }
    if (this.ix) console.log(`JupyterHub ${this.ix.hub.version}: stopped with its services${this.browserSession ? ' and Chromium' : ''} in ${Date.now() - t0} ms`);
  }

  /** Runs a scenario body; a failure is rethrown with the Hub's log tail and the browser's last URL. */
  async run(body: (ctx: ScenarioContext) => Promise<void>): Promise<void> {
    const { ix, browserSession } = this;
    try {
      if (!ix) throw new Error(`JupyterHub ${this.version} did not start (see beforeAll)`);
      const ctx: ScenarioContext = {
        ix,
        hub: ix.hub,
        get browser(): BrowserSession {
          if (!browserSession) throw new Error('this file started no browser');
          return browserSession;
        },
      };
      await body(ctx);
    } catch (err) {
      throw withDiagnostics(err, ix, browserSession);
    }
  }
}
