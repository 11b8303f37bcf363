/**
 * The shared cache's store (`sharedCache: { store }`, e.g. `redisStore()` from @hubauth/redis):
 * reachable within the timeout. One read of a key nobody writes: no side effect.
 */
import { randomBytes } from 'node:crypto';
import type { DoctorContext } from '../context';
import type { Check } from '../report';

export async function checkStore(ctx: DoctorContext): Promise<Check[]> {
  const shared = ctx.config?.sharedCache;
  if (!shared) return [];
  const title = 'Shared store';
  let timer: NodeJS.Timeout | undefined;
  const started = performance.now();
  try {
    await Promise.race([
      shared.store.getMany([`hubauth-doctor:${randomBytes(8).toString('hex')}`]),
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
        fix: 'check the store URL (e.g. HUBAUTH_REDIS_URL / redisStore({ url })) and that every replica can reach it; until then each replica caches alone',
      },
    ];
  } finally {
    clearTimeout(timer);
  }
}
