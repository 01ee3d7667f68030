/**
 * A TCP relay: listens on an address containers can reach (their network's gateway) and forwards every
 * connection to one target the host can reach (the Whirl API on loopback, a controller on a private
 * network). This is how actions reach the API while the firewall keeps every other host service away.
 */
import net from 'node:net';

export class TcpRelay {
  private constructor(
    private readonly server: net.Server,
    private readonly sockets: Set<net.Socket>,
    readonly port: number,
  ) {}

  static async open(listenHost: string, target: { host: string; port: number }): Promise<TcpRelay> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((inbound) => {
      const outbound = net.connect({ host: target.host, port: target.port });
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.setNoDelay(true);
        s.once('close', () => sockets.delete(s));
        // Either side failing ends both: half a connection is no use to anyone.
        s.once('error', () => {
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: listenHost, port: 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new TcpRelay(server, sockets, (server.address() as net.AddressInfo).port);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
