/** The shared store (e.g. `@hubauth/redis`) of the `sharedCache` option: reachable within the timeout. */
import type { DoctorContext } from '../context';
import type { Check } from '../report';

interface Pingable {
  ping(): unknown;
}

function isPingable(value: unknown): value is Pingable {
  return typeof value === 'object' && value !== null && typeof (value as { ping?: unknown }).ping === 'function';
}

export async function checkStore(ctx: DoctorContext): Promise<Check[]> {
  const options = ctx.options as { sharedCache?: { store?: unknown }; store?: unknown };
  const store = options.sharedCache?.store ?? options.store;
  if (store === undefined || store === null) return [];
  const title = 'Shared store';
  if (!isPingable(store)) {
    return [{ id: 'store', status: 'skip', title, detail: 'configured, but it has no ping() to check it with' }];
  }
  let timer: NodeJS.Timeout | undefined;
  const started = performance.now();
  try {
    await Promise.race([
      Promise.resolve(store.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ctx.timeoutMs} ms`)), ctx.timeoutMs);
      }),
    ]);
    return [{ id: 'store', status: 'ok', title, detail: `reachable, ${Math.max(1, Math.round(performance.now() - started))} ms` }];
  } catch (err) {
    return [
      {
        id: 'store',
        status: 'fail',
        title,
        detail: `unreachable: ${err instanceof Error ? err.message : String(err)}`,
        fix: 'check the store URL and that every replica can reach it; without it, replicas do not share logins and caches',
      },
    ];
  } finally {
    clearTimeout(timer);
  }
}
