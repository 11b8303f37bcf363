/**
 * Process bookkeeping for the Hub harness (Linux /proc).
 *
 * JupyterHub starts configurable-http-proxy and every managed service with
 * `start_new_session=True`, so they are NOT in the Hub's process group: killing the group alone
 * would leave them running. The harness therefore records the Hub's whole process tree (pid plus
 * start time, so a recycled pid is never killed) and signals each member.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  /** Start time in clock ticks since boot; with the pid it identifies one process. */
  startTime: string;
  comm: string;
}

/** Parses /proc/<pid>/stat; undefined if the process is gone (or not on Linux). */
export function readProc(pid: number): ProcInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
  //  stime cutime cstime priority nice num_threads itrealvalue starttime ..."; comm may contain
  // spaces and parentheses, so split after the last ')'.
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < 0) return undefined;
  const rest = stat.slice(close + 2).split(' ');
  const [state, ppid, pgid] = rest;
  const startTime = rest[19];
  if (state === undefined || ppid === undefined || pgid === undefined || startTime === undefined) {
    return undefined;
  }
  return {
    pid,
    ppid: Number(ppid),
    pgid: Number(pgid),
    state,
    startTime,
    comm: stat.slice(open + 1, close),
  };
}

export function listProcs(): ProcInfo[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const procs: ProcInfo[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProc(Number(entry));
    if (info) procs.push(info);
  }
  return procs;
}

/** `root` and all its live descendants, root first. */
export function processTree(rootPid: number): ProcInfo[] {
  const procs = listProcs();
  const byParent = new Map<number, ProcInfo[]>();
  let root: ProcInfo | undefined;
  for (const p of procs) {
    if (p.pid === rootPid) root = p;
    const siblings = byParent.get(p.ppid);
    if (siblings) siblings.push(p);
    else byParent.set(p.ppid, [p]);
  }
  if (!root) return [];
  const tree: ProcInfo[] = [root];
  for (let i = 0; i < tree.length; i++) {
    const node = tree[i];
    if (node) tree.push(...(byParent.get(node.pid) ?? []));
  }
  return tree;
}

/** True while the recorded process still runs (same pid and start time, not a zombie). */
export function isAlive(p: ProcInfo): boolean {
  const now = readProc(p.pid);
  return now !== undefined && now.startTime === p.startTime && now.state !== 'Z' && now.state !== 'X';
}

/** Sends `signal` to every recorded process that is still the same process. */
export function signalAll(procs: Iterable<ProcInfo>, signal: NodeJS.Signals): void {
  for (const p of procs) {
    if (!isAlive(p)) continue;
    try {
      process.kill(p.pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Waits until none of `procs` is alive; returns the ones still alive at the deadline. */
export async function waitAllDead(procs: ProcInfo[], timeoutMs: number): Promise<ProcInfo[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = procs.filter(isAlive);
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Merges process lists, keeping one entry per (pid, start time). */
export function mergeProcs(...lists: ProcInfo[][]): ProcInfo[] {
  const seen = new Map<string, ProcInfo>();
  for (const list of lists) for (const p of list) seen.set(`${p.pid}:${p.startTime}`, p);
  return [...seen.values()];
}
