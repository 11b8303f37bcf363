// Small helpers shared by the benchmark's orchestrator and its child processes.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where bench/lib/build.mjs puts the compiled test helpers (outside the linted tree). */
export const buildDir = path.join(repoRoot, 'node_modules', '.cache', 'hubauth-bench');

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Nearest-rank percentile of unsorted numbers (p in 0..100). */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const v = Float64Array.from(values).sort();
  const rank = Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1));
  return v[rank];
}

export function fmtInt(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

export function fmtRatio(n, digits = 2) {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

export function fmtMs(n) {
  if (!Number.isFinite(n)) return 'n/a';
  return n >= 100 ? `${Math.round(n)} ms` : `${n.toFixed(1)} ms`;
}

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return 'n/a';
  const a = Math.abs(n);
  if (a >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (a >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${Math.round(n)} B`;
}

const PAGE = 4096;
const TICKS = 100; // USER_HZ on Linux

/** Resident set size of a process in bytes (Linux /proc), or NaN when it is gone. */
export function rssOf(pid) {
  try {
    const statm = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    return Number(statm[1]) * PAGE;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) a process has used so far, or NaN when it is gone. */
export function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / TICKS;
  } catch {
    return NaN;
  }
}

/** Samples the RSS of `pid` every `everyMs` until stopped; `stop()` returns the samples' maximum. */
export function sampleRss(pid, everyMs = 50) {
  let max = rssOf(pid);
  const timer = setInterval(() => {
    const v = rssOf(pid);
    if (v > max || !Number.isFinite(max)) max = v;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const v = rssOf(pid);
      if (v > max) max = v;
      return max;
    },
  };
}

/** One GET on a fresh connection; resolves `{ status, text, json }`. */
export function httpGet(url, headers = {}, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, text, json, headers: res.headers });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: GET ${url}`)));
    req.on('error', reject);
  });
}

export function loadAverage() {
  return os.loadavg().map((x) => x.toFixed(2)).join(' / ');
}

/** A free TCP port on 127.0.0.1 (bound to port 0, then released). */
export async function freePort() {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The environment JupyterHub would give the bench's Node server (bench/servers/node-whoami.mjs). */
export function benchServerEnv({ apiUrl, url, prefix, framework, mode }) {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    JUPYTERHUB_API_URL: apiUrl,
    JUPYTERHUB_SERVICE_NAME: 'bench',
    JUPYTERHUB_SERVICE_PREFIX: prefix,
    JUPYTERHUB_SERVICE_URL: url,
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: JSON.stringify(['access:services', 'access:services!service=bench']),
    BENCH_FRAMEWORK: framework,
    BENCH_MODE: mode,
  };
}
