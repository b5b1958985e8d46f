// Gossip's transport with its traffic counted: UDP packets and TCP stream chunks, bytes and messages,
// in and out. Wraps the real transport, so memberlist itself knows nothing of metrics.
import type { StreamConn, Transport, TransportHandlers } from '../gossip/memberlist/index.js';
import type { VxMetrics } from '../metrics/metrics.js';

export class MeteredTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly metrics: VxMetrics,
  ) {}

  start(addr: string, port: number, handlers: TransportHandlers): Promise<{ addr: string; port: number }> {
    return this.inner.start(addr, port, {
      onPacket: (buf, from, ts) => {
        this.count('in', 'udp', buf.length);
        handlers.onPacket(buf, from, ts);
      },
      onStream: (conn) => handlers.onStream(this.meter(conn)),
    });
  }

  writeTo(buf: Buffer, addr: string): void {
    this.count('out', 'udp', buf.length);
    this.inner.writeTo(buf, addr);
  }

  async dial(addr: string, timeoutMs: number): Promise<StreamConn> {
    return this.meter(await this.inner.dial(addr, timeoutMs));
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  private count(dir: 'in' | 'out', transport: 'udp' | 'tcp', bytes: number): void {
    const m = this.metrics;
    (dir === 'in' ? m.gossipBytesIn : m.gossipBytesOut).inc({ transport }, bytes);
    (dir === 'in' ? m.gossipMessagesIn : m.gossipMessagesOut).inc({ transport });
  }

  private meter(conn: StreamConn): StreamConn {
    return {
      remoteAddr: conn.remoteAddr,
      read: async () => {
        const chunk = await conn.read();
        if (chunk) this.count('in', 'tcp', chunk.length);
        return chunk;
      },
      write: (buf) => {
        this.count('out', 'tcp', buf.length);
        return conn.write(buf);
      },
      close: () => conn.close(),
    };
  }
}
