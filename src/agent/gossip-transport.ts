// Gossip's sockets are bound with the agent's other sockets, early, so that a taken port fails the
// start before the kernel is touched; memberlist takes them over later, when gossip starts.
import { NetTransport, type StreamConn, type Transport, type TransportHandlers } from '../gossip/memberlist/index.js';
import { VxError } from '../errors.js';

export class PreboundTransport implements Transport {
  private handlers: TransportHandlers | undefined;
  private bound: { addr: string; port: number } | undefined;

  constructor(private readonly inner: Transport = new NetTransport()) {}

  /** Binds UDP and TCP on addr:port now; until start() packets are dropped and streams closed. */
  async bind(addr: string, port: number): Promise<void> {
    try {
      this.bound = await this.inner.start(addr, port, {
        onPacket: (buf, from, ts) => this.handlers?.onPacket(buf, from, ts),
        onStream: (conn: StreamConn) => (this.handlers ? this.handlers.onStream(conn) : conn.close()),
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'EADDRINUSE'
        ? `gossip port ${addr}:${port} is already in use: stop what holds it, or choose another --gossip-port`
        : err.code === 'EADDRNOTAVAIL'
          ? `cannot bind gossip to ${addr}:${port}: ${addr} is not an address of this host (check --advertise-addr)`
          : `cannot bind gossip to ${addr}:${port}: ${err.code ?? err.message}`;
      throw new VxError('FAILED_PRECONDITION', why);
    }
  }

  /** Memberlist's start: hands over the already bound sockets. */
  async start(_addr: string, _port: number, handlers: TransportHandlers): Promise<{ addr: string; port: number }> {
    if (!this.bound) throw new Error('gossip transport: bind() first');
    this.handlers = handlers;
    return this.bound;
  }

  writeTo(buf: Buffer, addr: string): void {
    this.inner.writeTo(buf, addr);
  }

  dial(addr: string, timeoutMs: number): Promise<StreamConn> {
    return this.inner.dial(addr, timeoutMs);
  }

  async shutdown(): Promise<void> {
    this.handlers = undefined;
    this.bound = undefined;
    await this.inner.shutdown();
  }
}
