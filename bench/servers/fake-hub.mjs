// The fake Hub (test/fake-hub, compiled by bench/lib/build.mjs) in its own process,
// driven over IPC: it counts `GET /hub/api/user` calls and the most in flight at once.
//
// Messages in:  {id, op: 'addToken', token, user}
//               {id, op: 'addTokens', prefix, count, user}   tokens `${prefix}${i}`, i < count
//               {id, op: 'latency', ms}                      delay every /hub/api/user answer
//               {id, op: 'reset'}                            zero the counters
//               {id, op: 'loginAs', user}                    who is signed in at the Hub (browser logins)
//               {id, op: 'stats'}
// Messages out: {ready: true, pid, apiUrl} once listening, then {id, result} per message.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildDir } from '../lib/util.mjs';

const { startFakeHub } = await import(pathToFileURL(path.join(buildDir, 'fake-hub.mjs')).href);

const hub = await startFakeHub();
const stats = () => ({ calls: { ...hub.calls }, inFlight: hub.inFlight, maxInFlight: hub.maxInFlight });

process.on('message', (msg) => {
  switch (msg.op) {
    case 'addToken':
      hub.addToken(msg.token, msg.user);
      break;
    case 'addTokens':
      for (let i = 0; i < msg.count; i++) hub.addToken(`${msg.prefix}${i}`, msg.user);
      break;
    case 'latency':
      hub.setLatency(msg.ms);
      break;
    case 'reset':
      hub.resetCounters();
      break;
    case 'loginAs':
      hub.loginAs(msg.user);
      break;
    case 'stats':
      break;
    default:
      throw new Error(`fake hub: unknown op ${msg.op}`);
  }
  process.send({ id: msg.id, result: stats() });
});
process.on('disconnect', () => {
  void hub.close().then(() => process.exit(0));
});
process.on('SIGTERM', () => {
  void hub.close().then(() => process.exit(0));
});
process.send({ ready: true, pid: process.pid, apiUrl: hub.apiUrl, url: hub.url, serviceToken: hub.serviceToken, clientId: hub.clientId, redirectUri: hub.redirectUri });
