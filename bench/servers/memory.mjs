// Memory per cached identity: run with --expose-gc against the fake Hub, which knows the tokens
// `${MEM_PREFIX}${i}` for i < MEM_WARM + MEM_COUNT. Fills HubAuth's cache through its real path
// (Hub call, JSON parse, frozen model, LRU entry keyed by the token's SHA-256), and compares
// heapUsed after full GCs before and after MEM_COUNT identities. Sends the figures over IPC.
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../examples/package.json', import.meta.url));
const { HubAuth } = require('@hubauth/core');

const apiUrl = process.env.HUB_API_URL;
const prefix = process.env.MEM_PREFIX;
const warm = Number(process.env.MEM_WARM ?? 1000);
const count = Number(process.env.MEM_COUNT ?? 50_000);
const concurrency = 64;

if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');

async function fullGc() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

// lru-cache allocates its per-slot arrays for all `max` entries up front: measured separately
await fullGc();
const empty = process.memoryUsage();
const auth = new HubAuth({
  env: {},
  apiUrl,
  allowAll: true,
  cacheMaxAge: 3600,
  negativeCacheMaxAge: 30,
  cacheMaxEntries: warm + count + 100,
  maxConcurrentLookups: 16,
  maxPendingLookups: 10_000,
});

await fullGc();
const constructed = process.memoryUsage();
const slots = warm + count + 100;
const preallocatedPerSlot =
  (constructed.heapUsed + constructed.arrayBuffers - empty.heapUsed - empty.arrayBuffers) / slots;

let failures = 0;
async function fill(from, to) {
  let next = from;
  const worker = async () => {
    while (next < to) {
      const i = next++;
      const user = await auth.userForToken(`${prefix}${i}`);
      if (!user) failures++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function fetchReply(token) {
  return new Promise((resolve, reject) => {
    http
      .get(`${apiUrl}/user`, { headers: { authorization: `token ${token}` }, agent: false }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      })
      .on('error', reject);
  });
}

function deepFreeze(value) {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const started = Date.now();
await fill(0, warm);
await fullGc();
const before = process.memoryUsage();
await fill(warm, warm + count);
await fullGc();
const after = process.memoryUsage();
const cacheSize = auth.cacheSize;
const fillSeconds = (Date.now() - started) / 1000;
auth.close();

// For comparison: the same replies parsed and frozen, held in an array (the models alone).
const reply = await fetchReply(`${prefix}0`);
await fullGc();
const modelsBefore = process.memoryUsage().heapUsed;
const models = new Array(count);
for (let i = 0; i < count; i++) models[i] = deepFreeze(JSON.parse(reply.replace(/"token_id":"a\d+"/, `"token_id":"a${i}"`)));
await fullGc();
const modelsAfter = process.memoryUsage().heapUsed;

process.send({
  count,
  cacheSize,
  failures,
  fillSeconds,
  replyBytes: Buffer.byteLength(reply),
  perIdentity: (after.heapUsed - before.heapUsed) / count,
  preallocatedPerSlot,
  perModel: (modelsAfter - modelsBefore) / models.length,
  rssGrowth: after.rss - before.rss,
});
process.disconnect();
