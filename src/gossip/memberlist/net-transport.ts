// Real sockets: one UDP socket and one TCP listener on the same ip:port.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, isIPv6, type Server, type Socket } from 'node:net';
import { joinHostPort, splitHostPort } from './addr.js';
import { ChunkQueue, type StreamConn, type Transport, type TransportHandlers } from './transport.js';

class NetStreamConn implements StreamConn {
  private readonly queue = new ChunkQueue();

  constructor(
    private readonly socket: Socket,
    readonly remoteAddr: string,
  ) {
    socket.on('data', (b: Buffer) => this.queue.push(b));
    socket.on('end', () => this.queue.end());
    socket.on('close', () => this.queue.end());
    socket.on('error', () => this.queue.end());
  }

  read(): Promise<Buffer | null> {
    return this.queue.read();
  }

  write(buf: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed) {
        reject(new Error('stream closed'));
        return;
      }
      this.socket.write(buf, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    this.socket.end();
    this.socket.destroySoon();
  }
}

export class NetTransport implements Transport {
  private udp: UdpSocket | null = null;
  private tcp: Server | null = null;
  private readonly conns = new Set<Socket>();

  async start(bindAddr: string, bindPort: number, handlers: TransportHandlers): Promise<{ addr: string; port: number }> {
    const family = isIPv6(bindAddr) ? 'udp6' : 'udp4';
    const tcp = createServer((socket) => {
      this.conns.add(socket);
      socket.on('close', () => this.conns.delete(socket));
      socket.on('error', () => undefined);
      handlers.onStream(new NetStreamConn(socket, joinHostPort(socket.remoteAddress ?? '', socket.remotePort ?? 0)));
    });
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(bindPort, bindAddr, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    const address = tcp.address();
    if (address === null || typeof address === 'string') throw new Error('tcp listener has no address');
    const port = address.port;
    const udp = createSocket({ type: family });
    udp.on('message', (msg, rinfo) => handlers.onPacket(msg, joinHostPort(rinfo.address, rinfo.port), Date.now()));
    udp.on('error', () => undefined);
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, bindAddr, () => {
          udp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      tcp.close();
      throw err;
    }
    this.tcp = tcp;
    this.udp = udp;
    return { addr: bindAddr, port };
  }

  writeTo(buf: Buffer, addr: string): void {
    if (!this.udp) return;
    const { host, port } = splitHostPort(addr);
    this.udp.send(buf, port, host, () => undefined);
  }

  dial(addr: string, timeoutMs: number): Promise<StreamConn> {
    const { host, port } = splitHostPort(addr);
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`dial ${addr}: timeout`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        this.conns.add(socket);
        socket.on('close', () => this.conns.delete(socket));
        resolve(new NetStreamConn(socket, addr));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  async shutdown(): Promise<void> {
    for (const s of this.conns) s.destroy();
    this.conns.clear();
    const tcp = this.tcp;
    const udp = this.udp;
    this.tcp = null;
    this.udp = null;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }
}
