// Child processes of the benchmark: servers under test (one at a time), the fake Hub, helpers.
// Every child is recorded and killed if the benchmark exits early.
import { fork, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { httpGet, repoRoot, sleep } from './util.mjs';

export const logDir = path.join(repoRoot, 'bench', '.logs');
const children = new Set();

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Kills every child still running (SIGKILL); for exit paths. */
export function killAllChildren() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // gone
    }
  }
  children.clear();
}

function tail(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function stopChild(child, timeoutMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts a server under test and waits until `healthUrl` answers 200.
 * @returns {Promise<{pid: number, logFile: string, stop: () => Promise<void>, exited: () => boolean}>}
 */
export async function startServer({ label, command, args, env, healthUrl, timeoutMs = 30_000 }) {
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${label.replace(/[^\w.-]+/g, '_')}.log`);
  const fd = openSync(logFile, 'w');
  let child;
  try {
    child = track(spawn(command, args, { env, stdio: ['ignore', fd, fd] }));
  } finally {
    closeSync(fd);
  }
  let exitStatus = null;
  child.once('exit', (code, signal) => {
    exitStatus = signal ?? `exit ${code}`;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitStatus !== null) throw new Error(`${label} exited during start-up (${exitStatus}):\n${tail(logFile)}`);
    try {
      const res = await httpGet(healthUrl, {}, 1000);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`${label} did not answer ${healthUrl} within ${timeoutMs} ms:\n${tail(logFile)}`);
    }
    await sleep(50);
  }
  return {
    pid: child.pid,
    logFile,
    exited: () => exitStatus !== null,
    stop: () => stopChild(child),
  };
}

/** Forks a Node helper with an IPC channel; resolves with it once it sends its first message. */
export async function forkHelper(script, { env = process.env, execArgv = [], label = path.basename(script) } = {}) {
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${label}.log`);
  const fd = openSync(logFile, 'w');
  let child;
  try {
    child = track(fork(script, [], { env, execArgv, stdio: ['ignore', fd, fd, 'ipc'] }));
  } finally {
    closeSync(fd);
  }
  const first = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code, signal) => reject(new Error(`${label} exited (${signal ?? code}):\n${tail(logFile)}`)));
  });
  let nextId = 1;
  const pending = new Map();
  child.on('message', (msg) => {
    if (msg && typeof msg === 'object' && pending.has(msg.id)) {
      pending.get(msg.id)(msg.result);
      pending.delete(msg.id);
    }
  });
  return {
    child,
    first,
    logFile,
    /** Sends `{op, ...}` and resolves with the helper's `result`. */
    call(op, args = {}) {
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        child.send({ id, op, ...args });
      });
    },
    /** Resolves with the next message the helper sends. */
    next() {
      return new Promise((resolve, reject) => {
        child.once('message', resolve);
        child.once('exit', (code, signal) => reject(new Error(`${label} exited (${signal ?? code}):\n${tail(logFile)}`)));
      });
    },
    stop: () => stopChild(child),
  };
}
