/**
 * Loopback ports for tests that choose a port number and use it later: a server started on it by
 * another process, a "dead" port that must stay dead, a server stopped and started again on its port.
 *
 * Such ports are taken from below the kernel's ephemeral range. Ports handed out by `listen(0)` come
 * from that range, so a number held without a socket could be given to another test's server (in a
 * parallel jest worker) in the meantime: a dead port would answer, a restart would find its port
 * taken, and a client retrying a port it believes its own would connect to a stranger.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';

const LOWEST = 10_000;

/** The first port of the kernel's ephemeral range (Linux; 32768 where it cannot be read). */
function ephemeralStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const port = Number(low);
    if (Number.isInteger(port) && port > LOWEST + 1000) return port;
  } catch {
    // not Linux: the common default below
  }
  return 32_768;
}

const HIGHEST = ephemeralStart() - 1;

function listen(server: net.Server, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}

/**
 * Makes `server` listen on 127.0.0.1 at a free port below the ephemeral range, chosen at random,
 * and returns the port.
 */
export async function listenOnReservedRange(server: net.Server): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST + 1));
    if (await listen(server, port)) return port;
  }
  throw new Error(`no free loopback port between ${LOWEST} and ${HIGHEST} after 200 tries`);
}

/**
 * `count` distinct free ports, kept bound until `release()`, so that another caller choosing ports
 * meanwhile cannot be given one of them.
 */
export async function reservePorts(count: number): Promise<{ ports: number[]; release(): Promise<void> }> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  const release = () =>
    Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => undefined);
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      ports.push(await listenOnReservedRange(server));
    }
  } catch (err) {
    await release();
    throw err;
  }
  return { ports, release };
}

/** `count` distinct ports, free when this returns (bound, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const { ports, release } = await reservePorts(count);
  await release();
  return ports;
}

/** A port, free when this returns; nothing else in the test run is given it by `listen(0)`. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  return port;
}
