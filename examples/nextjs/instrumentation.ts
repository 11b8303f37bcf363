// instrumentation.ts
// Runs when `next start` starts: a misconfigured service reports its ConfigError there, not at
// the first request.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === 'nodejs') (await import('./lib/hub')).hub();
}
