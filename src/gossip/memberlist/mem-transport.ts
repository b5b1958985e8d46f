// An in-process network for many memberlist nodes in one process. Packets are delivered
// asynchronously (optionally dropped or delayed); nodes can be taken down to simulate
// crashes or partitions. Addresses are "ip:port" strings used only as map keys.
import type { Clock } from '../../util/clock.js';
import { ChunkQueue, type StreamConn, type Transport, type TransportHandlers } from './transport.js';

export interface MemNetworkOptions {
  /** Probability in [0,1) of dropping each packet. */
  dropRate?: number;
  /** Delivery delay for packets and stream chunks, ms (0 = next tick). */
  latencyMs?: number;
  /** Random source (tests pass a seeded one). */
  random?: () => number;
  /**
   * Time source for delivery delays and receive timestamps; give the memberlist nodes the
   * same one. Default: real time, with zero-latency deliveries on the next event-loop turn.
   */
  clock?: Clock;
}

class MemStreamConn implements StreamConn {
  readonly queue = new ChunkQueue();
  peer: MemStreamConn | null = null;
  private closed = false;

  constructor(
    readonly remoteAddr: string,
    private readonly deliver: (fn: () => void) => void,
  ) {}

  read(): Promise<Buffer | null> {
    return this.queue.read();
  }

  write(buf: Buffer): Promise<void> {
    if (this.closed || !this.peer) return Promise.reject(new Error('stream closed'));
    const peer = this.peer;
    const copy = Buffer.from(buf);
    this.deliver(() => peer.queue.push(copy));
    return Promise.resolve();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.end();
    const peer = this.peer;
    if (peer) this.deliver(() => peer.queue.end());
  }
}

export class MemNetwork {
  private readonly endpoints = new Map<string, MemTransport>();
  private readonly down = new Set<string>();
  readonly random: () => number;

  constructor(private readonly opts: MemNetworkOptions = {}) {
    this.random = opts.random ?? Math.random;
  }

  /** A transport that will bind to the address it is started with. */
  transport(): MemTransport {
    return new MemTransport(this);
  }

  /** Take an address off the network (crash/partition) or bring it back. */
  setDown(addr: string, isDown: boolean): void {
    if (isDown) this.down.add(addr);
    else this.down.delete(addr);
  }

  deliver(fn: () => void): void {
    const latency = this.opts.latencyMs ?? 0;
    if (this.opts.clock) this.opts.clock.setTimeout(fn, latency);
    else if (latency > 0) setTimeout(fn, latency);
    else setImmediate(fn);
  }

  now(): number {
    return this.opts.clock ? this.opts.clock.now() : Date.now();
  }

  register(addr: string, t: MemTransport): void {
    if (this.endpoints.has(addr)) throw new Error(`address in use: ${addr}`);
    this.endpoints.set(addr, t);
  }

  unregister(addr: string): void {
    this.endpoints.delete(addr);
  }

  sendPacket(from: string, to: string, buf: Buffer): void {
    if (this.down.has(from) || this.down.has(to)) return;
    const target = this.endpoints.get(to);
    if (!target) return;
    if ((this.opts.dropRate ?? 0) > 0 && this.random() < this.opts.dropRate!) return;
    const copy = Buffer.from(buf);
    this.deliver(() => target.receivePacket(copy, from));
  }

  dial(from: string, to: string): StreamConn {
    const target = this.endpoints.get(to);
    if (!target || this.down.has(from) || this.down.has(to)) throw new Error(`dial ${to}: connection refused`);
    const deliver = (fn: () => void): void => this.deliver(fn);
    const local = new MemStreamConn(to, deliver);
    const remote = new MemStreamConn(from, deliver);
    local.peer = remote;
    remote.peer = local;
    this.deliver(() => target.receiveStream(remote));
    return local;
  }
}

export class MemTransport implements Transport {
  private addr: string | null = null;
  private handlers: TransportHandlers | null = null;
  /** Bytes handed to the network (for benchmarks). */
  bytesSent = 0;

  constructor(private readonly network: MemNetwork) {}

  start(bindAddr: string, bindPort: number, handlers: TransportHandlers): Promise<{ addr: string; port: number }> {
    if (bindPort === 0) throw new Error('mem transport needs an explicit port');
    const addr = `${bindAddr}:${bindPort}`;
    this.network.register(addr, this);
    this.addr = addr;
    this.handlers = handlers;
    return Promise.resolve({ addr: bindAddr, port: bindPort });
  }

  receivePacket(buf: Buffer, from: string): void {
    this.handlers?.onPacket(buf, from, this.network.now());
  }

  receiveStream(conn: StreamConn): void {
    if (this.handlers) this.handlers.onStream(conn);
    else conn.close();
  }

  writeTo(buf: Buffer, addr: string): void {
    if (!this.addr) return;
    this.bytesSent += buf.length;
    this.network.sendPacket(this.addr, addr, buf);
  }

  dial(addr: string, _timeoutMs: number): Promise<StreamConn> {
    if (!this.addr) return Promise.reject(new Error('transport not started'));
    try {
      return Promise.resolve(this.network.dial(this.addr, addr));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  shutdown(): Promise<void> {
    if (this.addr) this.network.unregister(this.addr);
    this.addr = null;
    this.handlers = null;
    return Promise.resolve();
  }
}
