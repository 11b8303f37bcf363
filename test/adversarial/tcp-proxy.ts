/**
 * A loopback TCP relay that stands for "the Hub's address": the service under test talks to its
 * fixed port, the relay forwards to whatever fake Hub is current. It counts open connections (to
 * find leaked sockets) and can go down and come back on the same port (a Hub restart).
 */
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort, listenOnReservedRange } from '../ports';

export class TcpRelay {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private target: number;
  /** The port the relay listens on; fixed for its lifetime, across stop()/start(). */
  port = 0;
  /** Connections accepted since creation. */
  accepted = 0;

  constructor(targetPort: number) {
    this.target = targetPort;
  }

  /** Where new connections go. */
  setTarget(port: number): void {
    this.target = port;
  }

  /** Client connections currently open (each with its upstream twin). */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Listens (again) on `port` (the first time: any free port). */
  async start(): Promise<void> {
    const server = createServer((client) => {
      this.accepted++;
      this.sockets.add(client);
      const upstream = connect(this.target, '127.0.0.1');
      const closeBoth = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', closeBoth);
      upstream.on('error', closeBoth);
      client.on('close', () => {
        this.sockets.delete(client);
        upstream.destroy();
      });
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    // Below the ephemeral range, so that no other test's `listen(0)` takes the port while the relay
    // is down, and no client of another test that holds a port number reaches the relay by chance.
    if (this.port === 0) this.port = await listenOnReservedRange(server);
    else {
      server.listen(this.port, '127.0.0.1');
      await once(server, 'listening');
    }
    this.server = server;
  }

  /** Stops listening and cuts every open connection: the port refuses connections until start(). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * A loopback port nothing listens on (bound, then released), below the ephemeral range, so that it
 * stays dead: no other test's `listen(0)` is given it.
 */
export function deadPort(): Promise<number> {
  return freePort();
}
