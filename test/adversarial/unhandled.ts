/**
 * Watches for unhandled promise rejections on the real process. Inside Jest, the global `process`
 * is a sandbox copy whose listeners never hear them (and Jest's require hands out that copy); the
 * real one is the global of the main context, where `vm.runInThisContext` evaluates.
 */
import { runInThisContext } from 'node:vm';

/** The process object Node emits 'unhandledRejection' on (not Jest's sandbox copy). */
export const realProcess = runInThisContext('process') as NodeJS.Process;

export interface RejectionWatch {
  /** Reasons of the rejections seen since the watch started. */
  readonly reasons: unknown[];
  /** The listener, as registered on the real process. */
  readonly listener: (reason: unknown) => void;
  stop(): void;
}

export function watchUnhandledRejections(): RejectionWatch {
  const reasons: unknown[] = [];
  const listener = (reason: unknown) => {
    reasons.push(reason);
  };
  realProcess.on('unhandledRejection', listener);
  return { reasons, listener, stop: () => realProcess.off('unhandledRejection', listener) };
}

/**
 * Proves that `watch` hears a real unhandled rejection. Jest's own listeners (which would fail the
 * running test) are set aside for the few milliseconds it takes, then put back.
 */
export async function selfCheck(watch: RejectionWatch): Promise<boolean> {
  const others = realProcess.listeners('unhandledRejection').filter((l) => l !== watch.listener);
  for (const l of others) realProcess.off('unhandledRejection', l);
  const marker = new Error('deliberately unhandled (self-check)');
  try {
    void Promise.reject(marker);
    for (let i = 0; i < 50 && !watch.reasons.includes(marker); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  } finally {
    for (const l of others) realProcess.on('unhandledRejection', l as (...args: unknown[]) => void);
  }
  const seen = watch.reasons.includes(marker);
  if (seen) watch.reasons.splice(watch.reasons.indexOf(marker), 1);
  return seen;
}
