// Serves DNS on sockets the caller already bound (in a workload namespace, on 127.0.0.11:53), so
// where sockets come from is the caller's business. One server, one handler chain, many namespaces.
import type { Socket as UdpSocket, RemoteInfo } from 'node:dgram';
import type { Server as TcpServer, Socket as TcpSocket } from 'node:net';
import { forwardHandler, passesPolicy, policyHandler, recordsHandler, runChain, type DnsRequest, type Handler } from '../handler.js';
import type { Forwarder } from '../forward/forwarder.js';
import type { DnsView } from '../records/record-store.js';
import { QueryParser, type ParsedQuery } from '../wire/query.js';
import { Rcode } from '../wire/constants.js';
import { answerFromCache, errorResponse, rcodeResponse, udpLimit } from '../wire/response.js';
import { TcpFramer } from './tcp-framer.js';

/** Hears of every reply sent (metrics live outside src/dns): its rcode and how long the query took. */
export interface DnsQueryObserver {
  answered(rcode: number, seconds: number): void;
}

export interface DnsServerOptions {
  /** Told of each reply (its header rcode) and the time from receipt to send. */
  readonly observer?: DnsQueryObserver;
  /** Upstreams for names vxmesh does not own; without one those queries get SERVFAIL. */
  readonly forwarder?: Forwarder;
  /** Extra handlers run after the policy and before the records handler. */
  readonly handlers?: readonly Handler[];
  /** Closes a TCP connection idle this long (ms); RFC 7766 suggests seconds. */
  readonly tcpIdleMs?: number;
  /** TCP connections at once per served server; more are closed at once. */
  readonly maxTcpConnections?: number;
  /** Unanswered queries per TCP connection before reading pauses. */
  readonly maxTcpPipeline?: number;
  /** SO_RCVBUF for served UDP sockets (bytes): small queries cost ~1 KiB each in the kernel, so the
   * 208 KiB default holds only ~200 and a GC pause can overflow it. Capped by net.core.rmem_max. */
  readonly udpRecvBuffer?: number;
}

export interface DnsServerStats {
  queries: number;
  dropped: number;
  errors: number;
  tcpConnections: number;
}

/** One served socket; close() stops serving it and closes it. */
export interface Served {
  close(): Promise<void>;
}

function observe(observer: DnsQueryObserver, out: Buffer, t0: number): void {
  observer.answered(out.length > 3 ? out[3]! & 0xf : Rcode.SERVFAIL, (performance.now() - t0) / 1000);
}

export class DnsServer {
  readonly stats: DnsServerStats = { queries: 0, dropped: 0, errors: 0, tcpConnections: 0 };
  private readonly parser = new QueryParser();
  private readonly chain: readonly Handler[];
  private readonly served = new Set<Served>();
  private readonly hasExtraHandlers: boolean;

  constructor(private readonly options: DnsServerOptions = {}) {
    this.chain = [policyHandler, ...(options.handlers ?? []), recordsHandler, forwardHandler(options.forwarder)];
    this.hasExtraHandlers = (options.handlers ?? []).length > 0;
  }

  serveUdp(socket: UdpSocket, view: DnsView): Served {
    const observer = this.options.observer;
    const send = (out: Buffer, from: RemoteInfo, t0: number): void => {
      if (observer) observe(observer, out, t0);
      try {
        socket.send(out, from.port, from.address);
      } catch {
        this.stats.errors++; // closed meanwhile (a forwarded answer after detach)
      }
    };
    const onMessage = (msg: Buffer, from: RemoteInfo): void => {
      const t0 = observer ? performance.now() : 0;
      // Owned names answered from cache: no request object, no closures (the common case).
      const fast = this.answerFromView(msg, view);
      if (Buffer.isBuffer(fast)) send(fast, from, t0);
      else this.handleParsed(fast, view, 'udp', (out) => send(out, from, t0));
    };
    socket.on('message', onMessage);
    socket.on('error', () => this.stats.errors++);
    try {
      socket.setRecvBufferSize(this.options.udpRecvBuffer ?? 1 << 20);
    } catch {
      // not bound yet or not permitted: the kernel default stays
    }
    const served: Served = {
      close: () => new Promise((resolve) => {
        this.served.delete(served);
        socket.off('message', onMessage);
        try {
          socket.close(() => resolve());
        } catch {
          resolve(); // already closed
        }
      }),
    };
    this.served.add(served);
    return served;
  }

  serveTcp(server: TcpServer, view: DnsView): Served {
    const idleMs = this.options.tcpIdleMs ?? 10_000;
    const maxConnections = this.options.maxTcpConnections ?? 64;
    const maxPipeline = this.options.maxTcpPipeline ?? 32;
    const connections = new Set<TcpSocket>();
    const onConnection = (sock: TcpSocket): void => {
      if (connections.size >= maxConnections) {
        sock.destroy();
        return;
      }
      connections.add(sock);
      this.stats.tcpConnections++;
      sock.setNoDelay(true);
      sock.setTimeout(idleMs, () => sock.destroy());
      sock.on('error', () => sock.destroy());
      sock.on('close', () => connections.delete(sock));
      let unanswered = 0;
      const framer = new TcpFramer((msg) => {
        unanswered++;
        if (unanswered >= maxPipeline) sock.pause();
        const t0 = this.options.observer ? performance.now() : 0;
        this.handle(msg, view, 'tcp', (out) => {
          if (this.options.observer) observe(this.options.observer, out, t0);
          if (--unanswered < maxPipeline) sock.resume();
          if (sock.destroyed) return;
          const len = Buffer.allocUnsafe(2);
          len.writeUInt16BE(out.length, 0);
          sock.cork();
          sock.write(len);
          sock.write(out);
          sock.uncork();
        }, () => {
          if (--unanswered < maxPipeline) sock.resume();
        });
      });
      sock.on('data', (chunk: Buffer) => framer.push(chunk));
    };
    server.on('connection', onConnection);
    server.on('error', () => this.stats.errors++);
    const served: Served = {
      close: () => new Promise((resolve) => {
        this.served.delete(served);
        server.off('connection', onConnection);
        for (const c of connections) c.destroy();
        server.close(() => resolve());
      }),
    };
    this.served.add(served);
    return served;
  }

  /** Stops serving every socket given to this server. */
  async close(): Promise<void> {
    await Promise.all([...this.served].map((s) => s.close()));
  }

  /** One message in, at most one reply out. Exposed for benchmarks and in-process tests. */
  handle(msg: Buffer, view: DnsView, transport: 'udp' | 'tcp', reply: (out: Buffer) => void, dropped?: () => void): void {
    if (transport === 'udp') {
      const fast = this.answerFromView(msg, view);
      if (Buffer.isBuffer(fast)) reply(fast);
      else this.handleParsed(fast, view, transport, reply, dropped);
    } else {
      this.stats.queries++;
      this.handleParsed(this.parse(msg), view, transport, reply, dropped);
    }
  }

  /** The UDP hot path: a cached answer for an owned name, or the parse result for the full chain. */
  private answerFromView(msg: Buffer, view: DnsView): Buffer | ParsedQuery | undefined {
    this.stats.queries++;
    const parsed = this.parse(msg);
    // Extra handlers come before the records: then every query takes the chain.
    if (parsed?.kind !== 'query' || this.hasExtraHandlers || !passesPolicy(parsed)) return parsed;
    try {
      const a = view.answer(parsed);
      return a ? answerFromCache(parsed, a, udpLimit(parsed)) : parsed;
    } catch {
      return parsed; // the chain will answer SERVFAIL and count it
    }
  }

  private parse(msg: Buffer): ParsedQuery | undefined {
    try {
      return this.parser.parse(msg);
    } catch {
      return undefined; // a parser bug must not take the agent down; the fuzz tests look for these
    }
  }

  private handleParsed(parsed: ParsedQuery | undefined, view: DnsView, transport: 'udp' | 'tcp',
    reply: (out: Buffer) => void, dropped?: () => void): void {
    if (!parsed || parsed.kind === 'drop') {
      this.stats.dropped++;
      dropped?.();
      return;
    }
    if (parsed.kind === 'error') {
      reply(errorResponse(parsed));
      return;
    }
    let replied = false;
    const req: DnsRequest = {
      query: parsed,
      view,
      transport,
      reply: (out) => {
        if (replied) return;
        replied = true;
        reply(out);
      },
    };
    try {
      runChain(this.chain, req);
    } catch {
      this.stats.errors++;
      req.reply(rcodeResponse(parsed, Rcode.SERVFAIL));
    }
  }
}
